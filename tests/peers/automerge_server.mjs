// The automerge-repo side of the peer benchmark: a sync server (WebSocket adapter, Node
// filesystem storage in DIR) holding one Automerge document per case file of
// CASES_JSON; writes their URLs to URLS_JSON (or, when it exists, serves the documents
// it names from DIR, loading each when a peer asks for it, as a sync server does).
// Prints `listening PORT`, then `loaded N`;
// the line `change K` edits the first K documents and answers `changed K`.
import { Repo } from '@automerge/automerge-repo';
import { WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import { WebSocketServer } from 'ws';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [dir, casesJson, urlsJson] = process.argv.slice(2);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((r) => wss.once('listening', r));
const repo = new Repo({
  network: [new WebSocketServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  // Like the reference sync server: documents go to the peers that ask for them.
  sharePolicy: async () => false,
});
console.log(`listening ${wss.address().port}`);
// A store loaded once (Automerge JS takes about 45 ms per case file) is served again
// from a copy of its directory.
let urls;
if (existsSync(urlsJson)) {
  urls = JSON.parse(readFileSync(urlsJson, 'utf8'));
} else {
  const cases = JSON.parse(readFileSync(casesJson, 'utf8')).case_files;
  const handles = cases.map((r) => repo.create({ id: r.id, case: r.case, review: r.review ?? {} }));
  await repo.flush();
  urls = handles.map((h) => h.url);
  writeFileSync(urlsJson, JSON.stringify(urls));
}
console.log(`loaded ${urls.length}`);
createInterface({ input: process.stdin }).on('line', async (line) => {
  const m = /^change (\d+)$/.exec(line);
  if (!m) return;
  const k = Number(m[1]);
  const handles = await Promise.all(urls.slice(0, k).map((u) => repo.find(u)));
  for (const h of handles) h.change((d) => { d.case.person.ethnicity = 'Tày'; });
  await repo.flush();
  console.log(`changed ${k}`);
});
