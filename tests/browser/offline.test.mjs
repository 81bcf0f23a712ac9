// Offline-first end to end: after one online sign-in the app loads from the service
// worker with the server stopped, edits and new files survive closing the browser, and
// when the server returns (same data, same address) the app syncs by itself and the
// server holds every edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import {
  login, waitSynced, waitForServiceWorker, openCase, setField, createCase, apiAs, addrOf, watchErrors,
} from './app_helpers.mjs';

test('works offline from the service worker, keeps edits across a browser restart, syncs when the server returns', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  let device = await launchDevice();
  const profile = device.dir;
  try {
    let page = await device.context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url);
    await waitForServiceWorker(page);
    const ids = await page.$$eval('.case-row', (rows) => rows.map((r) => r.dataset.id));
    assert.ok(ids.length >= 2, 'the cadre received case files');

    // The server goes away; the app still loads, from the service worker's cache.
    await server.stop();
    await page.reload();
    await page.waitForSelector('.case-row', { timeout: 30000 });
    assert.equal(await page.title(), 'Hồ sơ phát triển đảng viên');

    // Work offline: one new file, two edited ones.
    const newId = await createCase(page, 'Phạm Thị Ngọc Ánh', '15/03/2000');
    await openCase(page, ids[0]);
    await setField(page, 'person.ethnicity', 'Tày');
    await openCase(page, ids[1]);
    await setField(page, 'person.religion', 'Phật giáo');
    await page.waitForFunction(() => /3 (hồ sơ chưa gửi|files not sent)/.test(
      document.querySelector('[data-testid=unsynced]').textContent));
    assert.deepEqual(errors, []);

    // Close the browser and open it again on the same profile, still offline.
    await device.context.close();
    device = await launchDevice(profile);
    page = await device.context.newPage();
    const errors2 = watchErrors(page);
    await page.goto(server.url + '/');
    await page.waitForSelector('.case-row', { timeout: 30000 });
    await openCase(page, ids[0]);
    assert.equal(await page.inputValue('[data-path="person.ethnicity"]'), 'Tày');
    await openCase(page, ids[1]);
    assert.equal(await page.inputValue('[data-path="person.religion"]'), 'Phật giáo');
    await openCase(page, newId);
    assert.equal(await page.inputValue('[data-path="person.full_name"]'), 'Phạm Thị Ngọc Ánh');
    assert.equal(await page.inputValue('[data-path="person.birth_date"]'), '15/03/2000');
    assert.match(await page.textContent('[data-testid=unsynced]'), /3 hồ sơ chưa gửi/);

    // The server returns on the same data and address: the app syncs on its own, and
    // sends its pushed changes gzip-compressed.
    const syncBodies = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/sync')) {
        syncBodies.push({ encoding: r.headers()['content-encoding'] ?? '', bytes: r.postDataBuffer()?.length ?? 0 });
      }
    });
    server = await startServer({ dataDir: server.dir, addr });
    await waitSynced(page, 90000);
    const seen = JSON.stringify(syncBodies);
    assert.ok(syncBodies.some((b) => b.encoding === 'gzip'), `the push went compressed: ${seen}`);
    assert.ok(syncBodies.filter((b) => b.encoding !== 'gzip').every((b) => b.bytes < 512),
      `only small requests go uncompressed: ${seen}`);
    const api = await apiAs(server.url);
    const a = await api('GET', `/api/review/cases/${ids[0]}`);
    assert.equal(a.case.person.ethnicity, 'Tày');
    const b = await api('GET', `/api/review/cases/${ids[1]}`);
    assert.equal(b.case.person.religion, 'Phật giáo');
    const c = await api('GET', `/api/review/cases/${newId}`);
    assert.equal(c.case.person.full_name, 'Phạm Thị Ngọc Ánh');
    assert.equal(c.case.person.birth_date, '2000-03-15');
    assert.deepEqual(errors2, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
