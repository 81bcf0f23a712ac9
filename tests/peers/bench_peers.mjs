// `cargo xtask bench peers`: this project's sync against the engines a team would pick
// instead, on the same machine, in one run, with the same case files.
//
// Systems: ours natively (`shared::sync::Replica`, the PWA's sync code, in the Rust
// example `bench_peers`), ours in headless Chromium (the PWA, IndexedDB included),
// PouchDB 9 → express-pouchdb 4.2 (LevelDB on the server; memory adapter in Node,
// IndexedDB in Chromium), and automerge-repo 2.5.6 (WebSocket sync server, Node
// filesystem storage; a Node client).
//
// For each: first download of every case file of one ward to a fresh client, then an
// incremental sync after another writer changed 50 files; bytes both ways and TCP
// connections through one counting proxy; HTTP round trips where the protocol has them;
// server disk after loading and peak RSS. Rounds alternate between systems; medians are
// printed with the ratios ours/peer.
//
// Environment: SERVER_BIN, PEERS_BIN (the `bench_peers` example), DIST_DIR,
// PEERS_FILES (default 10000), PEERS_ROUNDS (default 3), PEERS_ONLY (comma list).
import net from 'node:net';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, cpSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.PEERS_FILES ?? 10000);
const ROUNDS = Number(process.env.PEERS_ROUNDS ?? 3);
const CHANGED = 50;
const SERVER_BIN = process.env.SERVER_BIN;
const PEERS_BIN = process.env.PEERS_BIN;
const DIST_DIR = process.env.DIST_DIR;
const ONLY = process.env.PEERS_ONLY ? process.env.PEERS_ONLY.split(',') : null;

// ---------------------------------------------------------------------------------------
// small tools

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

function duBytes(path) {
  let total = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) total += duBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

function peakRssMb(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+)/.exec(s);
    return m ? Number(m[1]) / 1024 : 0;
  } catch { return 0; }
}

/** A TCP proxy to `port` that counts bytes each way and connections. */
function countingProxy(port) {
  const c = { up: 0, down: 0, connections: 0 };
  const sockets = new Set();
  const srv = net.createServer((client) => {
    c.connections += 1;
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client); sockets.add(upstream);
    client.on('data', (d) => { c.up += d.length; upstream.write(d); });
    upstream.on('data', (d) => { c.down += d.length; client.write(d); });
    const close = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', close); upstream.on('close', close);
    client.on('error', close); upstream.on('error', close);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    port: srv.address().port,
    snapshot: () => ({ ...c }),
    since: (s) => ({ up: c.up - s.up, down: c.down - s.down, connections: c.connections - s.connections }),
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => srv.close(r)); },
  })));
}

/** Spawns a process and resolves once a line of its output matches `ready`. */
function startProcess(cmd, args, ready, opts = {}) {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  let log = '';
  const lines = [];
  const waiters = [];
  const onLine = (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      const m = w.re.exec(line);
      if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
    }
  };
  createInterface({ input: proc.stdout }).on('line', (l) => { log += l + '\n'; onLine(l); });
  proc.stderr.on('data', (d) => { log += d; });
  const waitLine = (re, timeout = 900000) => new Promise((resolve, reject) => {
    const done = lines.map((l) => re.exec(l)).find(Boolean);
    if (done) { resolve(done); return; }
    const t = setTimeout(() => reject(new Error(`${cmd}: no line ${re} in time:\n${log.slice(-3000)}`)), timeout);
    waiters.push({ re, resolve: (m) => { clearTimeout(t); resolve(m); } });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`${cmd} exited ${code}:\n${log.slice(-3000)}`)); });
  });
  const started = ready ? waitLine(ready, 300000) : Promise.resolve(null);
  return {
    proc, started, waitLine,
    send: (line) => proc.stdin.write(line + '\n'),
    log: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([done, sleep(10000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

/** Headless Chromium with a fresh profile; the PWA's PIN is typed as at a first sign-in. */
async function launchChromium() {
  const { launchDevice } = await import(join(here, '../browser/support.mjs'));
  const { context, dir } = await launchDevice();
  return { context, async close() { await context.close(); rmSync(dir, { recursive: true, force: true }); } };
}

// ---------------------------------------------------------------------------------------
// data: one ward of N case files, made by our server and loaded into every peer

const work = mkdtempSync(join(tmpdir(), 'peers-'));
const template = join(work, 'ours-template');
const casesJson = join(work, 'cases.json');
// Our store also holds the rest of the demo district: our disk per file is what each
// added case file cost, the peers' is their whole store over the ward's files.
let seedFigures;
{
  const t = Date.now();
  const r = spawnSync(PEERS_BIN, ['seed', template, String(N), casesJson], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('seeding failed: ' + r.stderr + r.stdout);
  console.log(`peers: ${r.stdout.split('\n')[0]} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  seedFigures = JSON.parse(/^SEED (.*)$/m.exec(r.stdout)[1]);
}
const exported = JSON.parse(readFileSync(casesJson, 'utf8')).case_files;
const FILES = exported.length;
// What the peers store: the same case file, as a JSON document.
const peerDocs = exported.map((r) => ({ id: r.id, case: r.case, review: r.review ?? {} }));

// ---------------------------------------------------------------------------------------
// ours

async function startOurServer(tag) {
  const data = join(work, `ours-${tag}-${Date.now()}`);
  cpSync(template, data, { recursive: true });
  const disk = duBytes(data);
  const s = startProcess(SERVER_BIN, ['serve', '--addr', '127.0.0.1:0', '--data', data, '--dist', DIST_DIR, '--no-demo'],
    /listening on http:\/\/([0-9.:]+)\//);
  const m = await s.started;
  return { s, data, disk, url: `http://${m[1]}`, port: Number(m[1].split(':')[1]) };
}

async function oursNative() {
  const server = await startOurServer('native');
  const proxy = await countingProxy(server.port);
  const client = startProcess(PEERS_BIN, ['client', `http://127.0.0.1:${proxy.port}`, server.url, String(CHANGED)], null);
  const out = {};
  try {
    for (const phase of ['first', 'incremental']) {
      await client.waitLine(new RegExp(`^BEGIN ${phase}$`));
      const before = proxy.snapshot();
      client.send('go');
      const m = await client.waitLine(new RegExp(`^END ${phase} (.*)$`));
      const fig = JSON.parse(m[1]);
      out[phase] = { ms: fig.ms, trips: fig.trips, docs: fig.docs, ...proxy.since(before) };
    }
    out.disk = server.disk;
    out.rss = peakRssMb(server.s.proc.pid);
  } finally {
    await client.stop();
    await proxy.close();
    await server.s.stop();
    rmSync(server.data, { recursive: true, force: true });
  }
  return out;
}

async function oursChromium() {
  const server = await startOurServer('pwa');
  const proxy = await countingProxy(server.port);
  const browser = await launchChromium();
  const out = {};
  try {
    const page = await browser.context.newPage();
    const base = `http://127.0.0.1:${proxy.port}`;
    if (process.env.PEERS_DEBUG) page.on('response', (r) => console.log(r.status(), r.url()));
    await page.goto(base + '/');
    await page.waitForSelector('form.login', { timeout: 60000 });
    await page.fill('form.login input[name=username]', 'canbo.lachtray');
    await page.fill('form.login input[type=password]', 'demo2026');
    let trips = 0;
    page.on('request', (r) => { if (r.url().endsWith('/api/sync')) trips += 1; });
    let before = proxy.snapshot();
    // Setting the device PIN (typed by the test profile) is part of the first sign-in.
    const firstMs = await clickUntilSynced(page, 'form.login button[type=submit]');
    out.first = { ms: firstMs, trips, docs: FILES, ...proxy.since(before) };

    const w = spawnSync(PEERS_BIN, ['write', server.url, String(CHANGED)], { encoding: 'utf8' });
    if (w.status !== 0) throw new Error('writer failed: ' + w.stderr + w.stdout);
    trips = 0;
    before = proxy.snapshot();
    const incMs = await clickUntilSynced(page, '.sync-now');
    out.incremental = { ms: incMs, trips, ...proxy.since(before) };
    out.disk = server.disk;
    out.rss = peakRssMb(server.s.proc.pid);
  } finally {
    await browser.close();
    await proxy.close();
    await server.s.stop();
    rmSync(server.data, { recursive: true, force: true });
  }
  return out;
}

/** Clicks `selector` and measures, in the page (as PouchDB's replication is measured),
 * until a sync has run and the sync bar says synced with a file listed (the first sync
 * ends only when the server has nothing more). */
async function clickUntilSynced(page, selector) {
  return page.evaluate((sel) => new Promise((resolve, reject) => {
    // Driven by the page's own changes (no polling that would make frames of its own).
    let ran = false;
    let timer = null;
    const t = performance.now();
    const check = () => {
      const bar = document.querySelector('[data-testid=sync-bar]');
      const st = document.querySelector('[data-testid=sync-status]');
      if (bar && bar.classList.contains('running')) ran = true;
      if (ran && bar && st && !bar.classList.contains('running') && /Đã đồng bộ|Synced/.test(st.textContent)
        && document.querySelector('.case-row')) {
        const ms = performance.now() - t;
        seen.disconnect();
        clearInterval(timer);
        resolve(ms);
      } else if (performance.now() - t > 900000) {
        seen.disconnect();
        clearInterval(timer);
        reject(new Error('no sync in 15 minutes'));
      }
    };
    const seen = new MutationObserver(check);
    seen.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    timer = setInterval(check, 1000);
    document.querySelector(sel).click();
  }), selector);
}

// ---------------------------------------------------------------------------------------
// PouchDB

function startPouchServer() {
  const dir = mkdtempSync(join(work, 'pouch-'));
  const s = startProcess(process.execPath, [join(here, 'pouch_server.mjs'), dir, casesJson], /^listening (\d+)$/, { cwd: here });
  return s.started.then((m) => ({ s, dir, port: Number(m[1]) }));
}

async function pouchNode() {
  const server = await startPouchServer();
  const proxy = await countingProxy(server.port);
  const { default: PouchDB } = await import('pouchdb');
  const { default: memory } = await import('pouchdb-adapter-memory');
  PouchDB.plugin(memory);
  const out = {};
  try {
    await server.s.waitLine(/^loaded (\d+)$/);
    out.disk = duBytes(server.dir);
    const remote = new PouchDB(`http://127.0.0.1:${proxy.port}/bench`);
    const local = new PouchDB(`bench-${Date.now()}`, { adapter: 'memory' });
    let before = proxy.snapshot();
    let t = performance.now();
    const first = await PouchDB.replicate(remote, local, { batch_size: 100 });
    out.first = { ms: performance.now() - t, docs: first.docs_written, ...proxy.since(before) };
    server.s.send(`change ${CHANGED}`);
    await server.s.waitLine(/^changed (\d+)$/);
    before = proxy.snapshot();
    t = performance.now();
    const inc = await PouchDB.replicate(remote, local, { batch_size: 100 });
    out.incremental = { ms: performance.now() - t, docs: inc.docs_written, ...proxy.since(before) };
    if (inc.docs_written < CHANGED) throw new Error(`PouchDB received ${inc.docs_written} changed docs`);
    out.rss = peakRssMb(server.s.proc.pid);
    await local.destroy();
  } finally {
    await proxy.close();
    await server.s.stop();
    rmSync(server.dir, { recursive: true, force: true });
  }
  return out;
}

/** PouchDB in Chromium with its IndexedDB adapter, the page served by a tiny server. */
async function pouchChromium() {
  const server = await startPouchServer();
  const proxy = await countingProxy(server.port);
  const lib = readFileSync(join(here, 'node_modules/pouchdb/dist/pouchdb.min.js'));
  const page = http.createServer((req, res) => {
    if (req.url === '/pouchdb.min.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(lib); return; }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><meta charset="utf-8"><script src="/pouchdb.min.js"></script>');
  });
  await new Promise((r) => page.listen(0, '127.0.0.1', r));
  const browser = await launchChromium();
  const out = {};
  try {
    await server.s.waitLine(/^loaded (\d+)$/);
    out.disk = duBytes(server.dir);
    const tab = await browser.context.newPage();
    await tab.goto(`http://127.0.0.1:${page.address().port}/`);
    await tab.waitForFunction(() => typeof window.PouchDB === 'function');
    const remote = `http://127.0.0.1:${proxy.port}/bench`;
    const run = () => tab.evaluate(async (url) => {
      const t = performance.now();
      window.local = window.local ?? new window.PouchDB('bench');
      const r = await window.PouchDB.replicate(new window.PouchDB(url), window.local, { batch_size: 100 });
      return { ms: performance.now() - t, docs: r.docs_written };
    }, remote);
    let before = proxy.snapshot();
    out.first = { ...(await run()), ...proxy.since(before) };
    server.s.send(`change ${CHANGED}`);
    await server.s.waitLine(/^changed (\d+)$/);
    before = proxy.snapshot();
    out.incremental = { ...(await run()), ...proxy.since(before) };
    out.rss = peakRssMb(server.s.proc.pid);
  } finally {
    await browser.close();
    page.close();
    await proxy.close();
    await server.s.stop();
    rmSync(server.dir, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// automerge-repo

/** The automerge-repo store, loaded once (slow) and copied for every round. */
let amTemplate = null;
async function automergeTemplate() {
  if (amTemplate) return amTemplate;
  const dir = mkdtempSync(join(work, 'am-template-'));
  const t = Date.now();
  const s = startProcess(process.execPath, [join(here, 'automerge_server.mjs'), join(dir, 'store'), casesJson, join(dir, 'urls.json')],
    /^listening (\d+)$/, { cwd: here });
  await s.started;
  await s.waitLine(/^loaded (\d+)$/, 3600000);
  await s.stop();
  console.log(`peers: automerge-repo store loaded in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  amTemplate = dir;
  return dir;
}

async function automergeRepo() {
  const template = await automergeTemplate();
  const dir = mkdtempSync(join(work, 'am-'));
  cpSync(template, dir, { recursive: true });
  const urls = join(dir, 'urls.json');
  const s = startProcess(process.execPath, [join(here, 'automerge_server.mjs'), join(dir, 'store'), casesJson, urls],
    /^listening (\d+)$/, { cwd: here });
  const port = Number((await s.started)[1]);
  await s.waitLine(/^loaded (\d+)$/);
  const proxy = await countingProxy(port);
  const out = { disk: duBytes(join(dir, 'store')) };
  const client = startProcess(process.execPath, [join(here, 'automerge_client.mjs'), `ws://127.0.0.1:${proxy.port}`, urls, String(CHANGED)],
    null, { cwd: here });
  try {
    for (const phase of ['first', 'incremental']) {
      await client.waitLine(new RegExp(`^BEGIN ${phase}$`));
      const before = proxy.snapshot();
      client.send('go');
      // The server pushes changes to the peers syncing a document: the client's clock
      // runs before the writer edits.
      if (phase === 'incremental') s.send(`change ${CHANGED}`);
      const m = await client.waitLine(new RegExp(`^END ${phase} (.*)$`));
      out[phase] = { ...JSON.parse(m[1]), ...proxy.since(before) };
    }
    out.rss = peakRssMb(s.proc.pid);
  } finally {
    await client.stop();
    await proxy.close();
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// the run

const systems = [
  ['ours-native', oursNative],
  ['ours-chromium', oursChromium],
  ['pouchdb-node', pouchNode],
  ['pouchdb-chromium', pouchChromium],
  ['automerge-repo-node', automergeRepo],
].filter(([name]) => !ONLY || ONLY.includes(name));

const results = Object.fromEntries(systems.map(([n]) => [n, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, run] of systems) {
    const t = Date.now();
    try {
      const r = await run();
      results[name].push(r);
      console.log(`peers: round ${round} ${name}: first ${r.first.ms.toFixed(0)} ms ${(r.first.down / 1e6).toFixed(2)} MB down, `
        + `incremental ${r.incremental.ms.toFixed(0)} ms ${(r.incremental.down / 1e3).toFixed(1)} kB down (${((Date.now() - t) / 1000).toFixed(0)} s)`);
    } catch (e) {
      console.log(`peers: round ${round} ${name} failed: ${e.message.split('\n').slice(0, 8).join('\n')}`);
    }
  }
}

const fmt = (x, d = 0) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
const med = (name, f) => { const xs = results[name].map(f).filter((x) => x !== undefined && !Number.isNaN(x)); return xs.length ? median(xs) : undefined; };
const rows = systems.map(([name]) => ({
  name,
  firstMs: med(name, (r) => r.first.ms),
  firstBytes: med(name, (r) => r.first.up + r.first.down),
  firstTrips: med(name, (r) => r.first.trips),
  incMs: med(name, (r) => r.incremental.ms),
  incBytes: med(name, (r) => r.incremental.up + r.incremental.down),
  incTrips: med(name, (r) => r.incremental.trips),
  conns: med(name, (r) => r.first.connections + r.incremental.connections),
  disk: med(name, (r) => r.disk),
  perFile: name.startsWith('ours')
    ? (seedFigures.disk_after - seedFigures.disk_before) / Math.max(1, seedFigures.added)
    : med(name, (r) => r.disk / FILES),
  rss: med(name, (r) => r.rss),
}));
console.log(`\npeers: ${FILES} case files of one ward, ${CHANGED} changed; medians of ${ROUNDS} alternating rounds; bytes both ways through one counting proxy`);
console.log('system                first (s)  first (MB)  trips  incr. (ms)  incr. (kB)  trips  conns  server disk (MB)  per file (kB)  server RSS (MB)');
for (const r of rows) {
  console.log(`${r.name.padEnd(20)}  ${fmt(r.firstMs / 1000, 2).padStart(9)}  ${fmt(r.firstBytes / 1e6, 2).padStart(10)}  ${fmt(r.firstTrips).padStart(5)}  `
    + `${fmt(r.incMs).padStart(10)}  ${fmt(r.incBytes / 1e3, 1).padStart(10)}  ${fmt(r.incTrips).padStart(5)}  ${fmt(r.conns).padStart(5)}  `
    + `${fmt(r.disk / 1e6, 1).padStart(16)}  ${fmt(r.perFile / 1e3, 2).padStart(13)}  ${fmt(r.rss, 0).padStart(15)}`);
}
const ratio = (a, b) => (a === undefined || b === undefined || !b ? '—' : (a / b).toFixed(2) + '×');
const pairs = [['ours-native', 'pouchdb-node'], ['ours-native', 'automerge-repo-node'], ['ours-chromium', 'pouchdb-chromium']];
console.log('\nratios ours/peer (below 1 is better for us)');
for (const [a, b] of pairs) {
  const ra = rows.find((r) => r.name === a);
  const rb = rows.find((r) => r.name === b);
  if (!ra || !rb) continue;
  console.log(`${a} / ${b}: first download time ${ratio(ra.firstMs, rb.firstMs)}, bytes ${ratio(ra.firstBytes, rb.firstBytes)}; `
    + `incremental time ${ratio(ra.incMs, rb.incMs)}, bytes ${ratio(ra.incBytes, rb.incBytes)}; server disk per file ${ratio(ra.perFile, rb.perFile)}; server RSS ${ratio(ra.rss, rb.rss)}`);
}
writeFileSync(join(here, 'last-run.json'), JSON.stringify({ files: FILES, changed: CHANGED, rounds: ROUNDS, results }, null, 1));
rmSync(work, { recursive: true, force: true });
