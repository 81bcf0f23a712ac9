// Updates: a second bundle served by the server is announced by the app and applied
// when the cadre reloads; unsent edits made with the old version survive and sync.
// The previous storage layout (one record per file in `docs`) is migrated on start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchDevice, DIST_DIR } from './support.mjs';
import {
  login, waitSynced, waitForServiceWorker, openCase, setField, apiAs, addrOf, watchErrors,
} from './app_helpers.mjs';

const MARK = 'bản dựng thứ hai';

/** A second bundle: the same app with another digest, as a new build would have. */
function secondBundle() {
  const dir = mkdtempSync(join(tmpdir(), 'hoso-dist2-'));
  cpSync(DIST_DIR, dir, { recursive: true });
  const version = readFileSync(join(dir, 'version.txt'), 'utf8').trim();
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  writeFileSync(join(dir, 'index.html'), html.replace('</body>', `<!-- ${MARK} -->\n</body>`));
  const sw = readFileSync(join(dir, 'sw.js'), 'utf8');
  writeFileSync(join(dir, 'sw.js'), sw.replaceAll(version, version + '2'));
  writeFileSync(join(dir, 'version.txt'), version + '2');
  return dir;
}

test('a new version is announced, applied on reload, and unsent edits survive and sync', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  const device = await launchDevice();
  const dist2 = secondBundle();
  try {
    const page = await device.context.newPage();
    await login(page, server.url);
    await waitForServiceWorker(page);
    const id = await page.$eval('.case-row', (r) => r.dataset.id);
    await server.stop();
    await openCase(page, id);
    await setField(page, 'person.ethnicity', 'Ê Đê');

    // The server comes back with the new bundle; syncing stays cut, so the edit is
    // still unsent when the update is applied.
    server = await startServer({ dataDir: server.dir, addr, dist: dist2 });
    await device.context.route('**/api/sync', (r) => r.abort());
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
    await page.waitForSelector('.banner.update button', { timeout: 30000 });
    await Promise.all([
      page.waitForNavigation({ timeout: 30000 }),
      page.click('.banner.update button'),
    ]);
    await page.waitForSelector('[data-testid=unsynced]', { timeout: 30000 });
    const errors = watchErrors(page);
    assert.ok((await page.content()).includes(MARK), 'the new version runs');
    await openCase(page, id);
    assert.equal(await page.inputValue('[data-path="person.ethnicity"]'), 'Ê Đê');
    assert.match(await page.textContent('[data-testid=unsynced]'), /1 hồ sơ chưa gửi/);

    await device.context.unroute('**/api/sync');
    await page.click('button.sync-now');
    await waitSynced(page);
    const api = await apiAs(server.url);
    assert.equal((await api('GET', `/api/review/cases/${id}`)).case.person.ethnicity, 'Ê Đê');
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
    rmSync(dist2, { recursive: true, force: true });
  }
});

test('the previous storage layout is migrated with its unsent edits', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  const device = await launchDevice();
  // The previous layout predates encryption: to rebuild it, the test keeps a copy of
  // every value the app seals (keyed by its place, the additional data).
  await device.context.addInitScript(() => {
    window.__plain = new Map();
    const encrypt = SubtleCrypto.prototype.encrypt;
    SubtleCrypto.prototype.encrypt = function (alg, key, data) {
      if (alg && alg.additionalData) {
        const place = new TextDecoder().decode(alg.additionalData);
        window.__plain.set(place, new Uint8Array(data.buffer ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data));
      }
      return encrypt.apply(this, arguments);
    };
  });
  try {
    const page = await device.context.newPage();
    await login(page, server.url);
    await waitForServiceWorker(page);
    const ids = await page.$$eval('.case-row', (rows) => rows.map((r) => r.dataset.id));
    const held = Number(/\/ (\d+)/.exec(await page.textContent('[data-testid=count]'))?.[1] ?? ids.length);
    await server.stop();
    await openCase(page, ids[0]);
    await setField(page, 'person.ethnicity', 'Tày');

    // Rewrite the device's database as the previous version kept it: version 1, one
    // record per file in `docs` ({b: the document's bytes, m: its metadata}).
    const files = await page.evaluate(async () => {
      const name = 'hoso-phat-trien-dang-vien';
      const open = (v, up) => new Promise((res, rej) => {
        const r = v ? indexedDB.open(name, v) : indexedDB.open(name);
        if (up) r.onupgradeneeded = () => up(r.result);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const all = (store) => new Promise((res, rej) => {
        const k = store.getAllKeys();
        const v = store.getAll();
        v.onsuccess = () => res([k.result, v.result]);
        v.onerror = () => rej(v.error);
      });
      const db = await open();
      const tx = db.transaction(['chunks', 'docmeta', 'meta']);
      const [ck, cv] = await all(tx.objectStore('chunks'));
      const [dk, dv] = await all(tx.objectStore('docmeta'));
      const [mk, mv] = await all(tx.objectStore('meta'));
      db.close();
      // Stored now: sealed values; the previous layout held them in the clear.
      const text = (b) => new TextDecoder().decode(b);
      const plain = (place) => window.__plain.get(place);
      const docs = new Map();
      ck.forEach(([id, key], i) => docs.set(id, [...(docs.get(id) || []), plain(`chunks|${id}|${key}`) ?? cv[i]]));
      const metaOf = (id) => {
        const v = dv[dk.indexOf(id)];
        if (v === undefined) return '{}';
        const m = JSON.parse(v.m);
        const s = plain(`docmeta|${id}`);
        if (s) m.summary = JSON.parse(text(s));
        return JSON.stringify(m);
      };
      await new Promise((res, rej) => {
        const r = indexedDB.deleteDatabase(name);
        r.onsuccess = res;
        r.onerror = () => rej(r.error);
      });
      const v1 = await open(1, (d) => { d.createObjectStore('docs'); d.createObjectStore('meta'); });
      const w = v1.transaction(['docs', 'meta'], 'readwrite');
      for (const [id, parts] of docs) {
        const b = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) { b.set(p, o); o += p.length; }
        w.objectStore('docs').put({ b, m: metaOf(id) }, id);
      }
      // No lock record then: the app asks for a PIN and seals what it finds.
      mk.forEach((k, i) => {
        if (k === 'actors' || k === 'vault') return;
        const v = typeof mv[i] === 'string' ? mv[i] : text(plain(`meta|${k}`));
        w.objectStore('meta').put(v, k);
      });
      await new Promise((res, rej) => { w.oncomplete = res; w.onerror = () => rej(w.error); });
      v1.close();
      return docs.size;
    });
    assert.equal(files, held);

    await page.evaluate(() => { location.hash = '#/'; });
    await page.reload();
    const errors = watchErrors(page);
    await page.waitForSelector('.case-row', { timeout: 30000 });
    assert.equal((await page.$$('.case-row')).length, ids.length);
    await openCase(page, ids[0]);
    assert.equal(await page.inputValue('[data-path="person.ethnicity"]'), 'Tày');
    assert.match(await page.textContent('[data-testid=unsynced]'), /1 hồ sơ chưa gửi/);
    const left = await page.evaluate(() => new Promise((res) => {
      const r = indexedDB.open('hoso-phat-trien-dang-vien');
      r.onsuccess = () => {
        const db = r.result;
        const c = db.transaction('docs').objectStore('docs').count();
        c.onsuccess = () => { res([db.version, c.result]); db.close(); };
      };
    }));
    assert.deepEqual(left, [2, 0], 'the old records moved out');

    server = await startServer({ dataDir: server.dir, addr });
    await page.click('button.sync-now');
    await waitSynced(page, 90000);
    const api = await apiAs(server.url);
    assert.equal((await api('GET', `/api/review/cases/${ids[0]}`)).case.person.ethnicity, 'Tày');
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
