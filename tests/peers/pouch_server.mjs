// The PouchDB side of the peer benchmark: express-pouchdb over LevelDB in DIR, database
// `bench` loaded with the case files of CASES_JSON (not through the network). Prints
// `listening PORT`, then `loaded N`; the line `change K` on standard input edits K
// documents as another writer would and answers `changed K`.
import express from 'express';
import expressPouchdb from 'express-pouchdb';
import PouchDB from 'pouchdb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [dir, casesJson] = process.argv.slice(2);
const Pouch = PouchDB.defaults({ prefix: join(dir, '/') });
const app = express();
// The browser client is served from another origin.
app.use((req, res, next) => {
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Allow-Methods', 'GET, PUT, POST, DELETE, HEAD, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'accept, authorization, content-type, origin, referer');
  if (req.method === 'OPTIONS') { res.statusCode = 204; res.end(); return; }
  next();
});
app.use('/', expressPouchdb(Pouch, { mode: 'minimumForPouchDB', logPath: join(dir, 'log.txt') }));
const server = app.listen(0, '127.0.0.1', async () => {
  console.log(`listening ${server.address().port}`);
  const db = new Pouch('bench');
  const cases = JSON.parse(readFileSync(casesJson, 'utf8')).case_files;
  for (let i = 0; i < cases.length; i += 500) {
    await db.bulkDocs(cases.slice(i, i + 500).map((r) => ({ _id: r.id, case: r.case, review: r.review ?? {} })));
  }
  await db.compact();
  console.log(`loaded ${cases.length}`);
  createInterface({ input: process.stdin }).on('line', async (line) => {
    const m = /^change (\d+)$/.exec(line);
    if (!m) return;
    const k = Number(m[1]);
    const ids = cases.slice(0, k).map((r) => r.id);
    const docs = (await db.allDocs({ keys: ids, include_docs: true })).rows.map((r) => r.doc);
    for (const d of docs) d.case.person.ethnicity = 'Tày';
    await db.bulkDocs(docs);
    console.log(`changed ${docs.length}`);
  });
});
