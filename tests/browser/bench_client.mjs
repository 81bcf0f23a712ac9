// Client benchmark (`cargo xtask bench client`): bundle size, time to interactive from
// the service-worker cache, time to open the list with 2,000 case files on the device,
// bytes written to IndexedDB per edit and the time from the keystroke to "saved on this
// device" on that device, and time to sync 50 changed case files. Real server, real
// headless Chromium.
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launchDevice, SERVER_BIN, DIST_DIR } from './support.mjs';
import { login, waitSynced, waitForServiceWorker, openCase, setField, addrOf } from './app_helpers.mjs';

const N_FILES = 2000;
const N_CHANGED = 50;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const wasm = readFileSync(join(DIST_DIR, 'client_bg.wasm'));
const js = readFileSync(join(DIST_DIR, 'client.js'));
console.log(`bundle: client_bg.wasm ${(wasm.length / 1024).toFixed(0)} KB, gzip ${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KB; client.js ${(js.length / 1024).toFixed(0)} KB, gzip ${(gzipSync(js).length / 1024).toFixed(1)} KB`);

// A store with the demo district plus 2,000 extra candidates in the cadre's ward, added
// with the server's own import command while it is stopped.
let server = await startServer();
const addr = addrOf(server.url);
await server.stop();
const branches = ['phuong-11-cb1', 'phuong-11-cb2', 'phuong-11-cb3', 'phuong-11-cb4', 'phuong-11-cb5', 'phuong-11-cb6'];
const family = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ', 'Đặng', 'Bùi', 'Đỗ', 'Ngô'];
const middle = ['Văn', 'Thị', 'Minh', 'Ngọc', 'Đức', 'Thu'];
const given = ['An', 'Bình', 'Cường', 'Dũng', 'Đạt', 'Hà', 'Hạnh', 'Lan', 'Linh', 'Yến', 'Ánh', 'Anh'];
const cases = [];
for (let i = 0; i < N_FILES; i++) {
  cases.push({
    id: randomBytes(16).toString('hex'),
    case: {
      org_id: branches[i % branches.length],
      person: {
        full_name: `${family[i % family.length]} ${middle[(i >> 2) % middle.length]} ${given[(i * 7) % given.length]}`,
        birth_date: `19${80 + (i % 20)}-0${1 + (i % 9)}-1${i % 10}`,
        education_level: 'upper_secondary',
      },
      awareness_class: i % 3 ? { certificate_date: '2024-05-10', certificate_number: `GCN-${i}` } : {},
      application: i % 4 === 0 ? { letter_date: '2025-02-01' } : {},
    },
  });
}
const importFile = join(server.dir, 'bench-cases.json');
writeFileSync(importFile, JSON.stringify({ format: 'ho-so-phat-trien-dang-vien/1', case_files: cases }));
const imp = spawnSync(SERVER_BIN, ['import-cases', importFile, '--data', server.dir], { encoding: 'utf8' });
if (imp.status !== 0) throw new Error('import failed: ' + imp.stderr + imp.stdout);
server = await startServer({ dataDir: server.dir, addr });

const device = await launchDevice();
// Counts what the page writes to IndexedDB and when its write transactions commit.
await device.context.addInitScript(() => {
  window.__idbBytes = 0;
  window.__lastCommit = 0;
  const size = (v) => {
    if (v instanceof Uint8Array || v instanceof ArrayBuffer) return v.byteLength;
    if (typeof v === 'string') return new TextEncoder().encode(v).length;
    if (Array.isArray(v)) return v.reduce((n, x) => n + size(x), 0);
    if (v && typeof v === 'object') return Object.values(v).reduce((n, x) => n + size(x), 0);
    return 8;
  };
  for (const name of ['put', 'add']) {
    const original = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (value, key) {
      window.__idbBytes += size(value) + (key === undefined ? 0 : size(key));
      return original.apply(this, arguments);
    };
  }
  const tx = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    const t = tx.apply(this, args);
    if (args[1] === 'readwrite') t.addEventListener('complete', () => { window.__lastCommit = performance.now(); });
    return t;
  };
});
try {
  const page = await device.context.newPage();
  let t = Date.now();
  await login(page, server.url);
  const rows = await page.textContent('[data-testid=count]');
  console.log(`first sign-in and full download (${rows.trim()}): ${Date.now() - t} ms`);
  await waitForServiceWorker(page);

  // Time to interactive from the service-worker cache, the server stopped: from the
  // reload to the list drawn with all files counted.
  await server.stop();
  const tti = [];
  const listTimes = [];
  for (let i = 0; i < 5; i++) {
    t = Date.now();
    await page.reload();
    await page.waitForSelector('.case-row', { timeout: 60000 });
    const first = Date.now() - t;
    await page.waitForFunction((n) => {
      const c = document.querySelector('[data-testid=count]');
      return c && c.textContent.includes(`/ ${n} `);
    }, rows.trim().split(' / ')[1].split(' ')[0], { timeout: 60000 });
    tti.push(first);
    listTimes.push(Date.now() - t);
  }
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return { dcl: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) };
  });
  console.log(`time to interactive from the service-worker cache (list shown): median ${median(tti)} ms (runs: ${tti.join(', ')}; DOMContentLoaded ${nav.dcl} ms)`);
  console.log(`time to open the list with ${rows.trim()} on the device: median ${median(listTimes)} ms (runs: ${listTimes.join(', ')})`);
  // Until every document is parsed in the background (needed before a sync).
  t = Date.now();
  await page.reload();
  await page.waitForSelector('.case-row');
  await page.click('button.sync-now').catch(() => {});
  await page.waitForFunction(() => /Không có mạng|No network/.test(document.querySelector('[data-testid=sync-status]').textContent), null, { timeout: 120000 });
  console.log(`reload to all ${rows.trim()} parsed and a sync attempted: ${Date.now() - t} ms`);

  // Edits on a device holding all the files: bytes written and keystroke to "saved".
  const ids = await page.$$eval('.case-row', (r) => r.map((x) => x.dataset.id));
  await openCase(page, ids[0]);
  await setField(page, 'person.ethnicity', 'Kinh');
  const edits = await page.evaluate(async () => {
    const input = document.querySelector('[data-path="person.residence_unit"]');
    const label = () => document.querySelector('.crumbs .saved').textContent;
    const out = [];
    for (let i = 0; i < 20; i++) {
      const bytes = window.__idbBytes;
      const t0 = performance.now();
      input.value = `Tổ dân phố ${i + 1}, phường Lạch Tray`;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      while (!(window.__lastCommit > t0 && /Đã lưu trên máy|Saved on this device/.test(label()))) {
        await new Promise((r) => setTimeout(r, 1));
      }
      out.push({ ms: performance.now() - t0, bytes: window.__idbBytes - bytes });
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  });
  const bytesPer = edits.map((e) => e.bytes);
  console.log(`IndexedDB bytes written per edit (device with ${rows.trim()}): median ${median(bytesPer)} B (min ${Math.min(...bytesPer)}, max ${Math.max(...bytesPer)}), of which the new change chunk is the only Automerge data`);
  console.log(`keystroke (change event) to "Đã lưu trên máy": median ${median(edits.map((e) => e.ms)).toFixed(1)} ms, max ${Math.max(...edits.map((e) => e.ms)).toFixed(1)} ms over ${edits.length} edits`);
  // Opening the list screen in the running app.
  const opens = [];
  for (let i = 0; i < 5; i++) {
    await openCase(page, ids[i]);
    t = Date.now();
    await page.click('.crumbs a');
    await page.waitForSelector('.case-row');
    await page.waitForFunction(() => /\/ 2\.?\d{3} /.test(document.querySelector('[data-testid=count]').textContent));
    opens.push(Date.now() - t);
  }
  console.log(`list of ${rows.trim()} opened from a case: median ${median(opens)} ms (runs: ${opens.join(', ')})`);

  // 50 files changed offline, then one sync.
  for (let i = 0; i < N_CHANGED; i++) {
    await openCase(page, ids[i]);
    await setField(page, 'person.residence_unit', `Tổ dân phố ${i + 1}, phường Lạch Tray`);
  }
  server = await startServer({ dataDir: server.dir, addr });
  t = Date.now();
  await page.click('button.sync-now');
  await waitSynced(page, 120000);
  console.log(`sync of ${N_CHANGED} changed case files: ${Date.now() - t} ms (button to "all changes on the server")`);
} finally {
  await device.context.close();
  await server.stop();
  server.cleanup();
}
