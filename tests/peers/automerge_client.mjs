// The automerge-repo client of the peer benchmark: a fresh repo (memory only) that
// fetches every document of URLS_JSON from the sync server at WS_URL, then waits for
// the first CHANGED documents to change. `BEGIN <phase>` waits for a line on standard
// input; `END <phase> <json>` gives the figures.
import { Repo } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [wsUrl, urlsJson, changedArg] = process.argv.slice(2);
const urls = JSON.parse(readFileSync(urlsJson, 'utf8'));
const changed = Number(changedArg);
const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const go = async (phase) => { console.log(`BEGIN ${phase}`); await input.next(); };

await go('first');
let t = performance.now();
const repo = new Repo({ network: [new WebSocketClientAdapter(wsUrl)] });
const handles = [];
// Requests in parallel, a window at a time, as an app opening many documents would.
const WINDOW = 200;
for (let i = 0; i < urls.length; i += WINDOW) {
  handles.push(...await Promise.all(urls.slice(i, i + WINDOW).map((u) => repo.find(u))));
}
const names = handles.filter((h) => h.doc()?.case?.person?.full_name).length;
console.log(`END first ${JSON.stringify({ ms: performance.now() - t, docs: names })}`);

await go('incremental');
t = performance.now();
await Promise.all(handles.slice(0, changed).map((h) => new Promise((resolve) => {
  const ok = () => h.doc()?.case?.person?.ethnicity === 'Tày';
  if (ok()) { resolve(); return; }
  const on = () => { if (ok()) { h.off('change', on); resolve(); } };
  h.on('change', on);
})));
console.log(`END incremental ${JSON.stringify({ ms: performance.now() - t, docs: changed })}`);
process.exit(0);
