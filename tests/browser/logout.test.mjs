// Signing out pushes unsent changes first; when they cannot be pushed the app says how
// many would be lost and asks; once everything is on the server it wipes the device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import { login, openCase, setField, addrOf, apiAs, watchErrors } from './app_helpers.mjs';

test('signing out refuses to drop unsent changes silently, then pushes them and wipes the device', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  const device = await launchDevice();
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url);
    const id = await page.$eval('.case-row', (r) => r.dataset.id);
    await server.stop();
    await openCase(page, id);
    await setField(page, 'person.workplace_unit', 'Trường THPT Lê Quý Đôn');

    // Offline: the change cannot be pushed, so the app asks before erasing it.
    await page.click('header.top button.link:has-text("Đăng xuất")');
    await page.waitForSelector('.dialog[role=alertdialog]', { timeout: 30000 });
    assert.match(await page.textContent('.dialog'), /1 hồ sơ có thay đổi chưa gửi/);
    await page.click('.dialog button:has-text("Ở lại")');
    assert.equal(await page.locator('.case-row, [data-testid=case-name]').count() > 0, true);

    // Online again: signing out sends the change first, then wipes the device.
    server = await startServer({ dataDir: server.dir, addr });
    await page.click('header.top button.link:has-text("Đăng xuất")');
    await page.waitForSelector('form.login', { timeout: 60000 });
    const api = await apiAs(server.url);
    const c = await api('GET', `/api/review/cases/${id}`);
    assert.equal(c.case.person.workplace_unit, 'Trường THPT Lê Quý Đôn');
    await page.reload();
    await page.waitForSelector('form.login', { timeout: 30000 });
    const stored = await page.evaluate(() => new Promise((resolve) => {
      const req = indexedDB.open('hoso-phat-trien-dang-vien');
      req.onsuccess = () => {
        const tx = req.result.transaction(['chunks', 'docmeta', 'meta'], 'readonly');
        const chunks = tx.objectStore('chunks').count();
        const docs = tx.objectStore('docmeta').count();
        const meta = tx.objectStore('meta').get('session');
        tx.oncomplete = () => resolve({ chunks: chunks.result, docs: docs.result, session: meta.result ?? null });
      };
    }));
    assert.deepEqual(stored, { chunks: 0, docs: 0, session: null });
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
