// Crashes: Chromium killed with SIGKILL in the middle of a burst of edits. Every edit
// the app had reported as "Đã lưu trên máy" before the kill is there when the same
// profile opens again, every file still loads, and the edits reach the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launchDevice } from './support.mjs';
import {
  login, waitSynced, waitForServiceWorker, openCase, setField, showField, apiAs, addrOf, watchErrors,
} from './app_helpers.mjs';

/** SIGKILLs every process of the Chromium running on a profile directory. */
function killBrowser(profile) {
  const out = execFileSync('pgrep', ['-f', `user-data-dir=${profile}`], { encoding: 'utf8' });
  for (const pid of out.split('\n').filter(Boolean)) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
  }
}

test('SIGKILL during a burst of edits loses nothing shown as saved', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  let device = await launchDevice();
  const profile = device.dir;
  try {
    const page = await device.context.newPage();
    await login(page, server.url);
    await waitForServiceWorker(page);
    const ids = await page.$$eval('.case-row', (rows) => rows.map((r) => r.dataset.id));
    await server.stop();
    await openCase(page, ids[0]);
    // Confirmed edits: each waits for "saved on this device".
    const saved = [];
    for (let i = 0; i < 12; i++) {
      const value = `Tổ ${i + 1}, phường Lạch Tray`;
      await setField(page, 'person.residence_unit', value);
      saved.push(value);
    }
    await setField(page, 'person.ethnicity', 'Mường');
    // Then a burst that does not wait, killed while writes are in flight.
    await showField(page, 'person.workplace_unit');
    const input = page.locator('[data-path="person.workplace_unit"]');
    const burst = (async () => {
      for (let i = 0; i < 200; i++) {
        await input.fill(`Nơi làm việc ${i}`);
        await input.press('Tab');
        await input.focus();
      }
    })().catch(() => {});
    await new Promise((r) => setTimeout(r, 700));
    killBrowser(profile);
    await burst;
    await device.context.close().catch(() => {});

    device = await launchDevice(profile);
    const again = await device.context.newPage();
    const errors = watchErrors(again);
    await again.goto(server.url + '/');
    await again.waitForSelector('.case-row', { timeout: 30000 });
    // Every file loads.
    for (const id of ids) {
      await openCase(again, id);
      assert.ok((await again.textContent('[data-testid=case-name]')).trim().length > 0);
    }
    await openCase(again, ids[0]);
    assert.equal(await again.inputValue('[data-path="person.residence_unit"]'), saved.at(-1));
    assert.equal(await again.inputValue('[data-path="person.ethnicity"]'), 'Mường');
    const burstValue = await again.inputValue('[data-path="person.workplace_unit"]');
    assert.match(burstValue, /^(Nơi làm việc \d+)?$/);

    server = await startServer({ dataDir: server.dir, addr });
    await waitSynced(again, 90000);
    const api = await apiAs(server.url);
    const onServer = await api('GET', `/api/review/cases/${ids[0]}`);
    assert.equal(onServer.case.person.residence_unit, saved.at(-1));
    assert.equal(onServer.case.person.ethnicity, 'Mường');
    assert.equal(onServer.case.person.workplace_unit ?? '', burstValue);
    // The history holds every saved edit, not only the last.
    const history = await api('GET', `/api/review/cases/${ids[0]}/history`);
    const writes = history.filter((h) => h.fields.some((f) => f.endsWith('person.residence_unit')));
    assert.ok(writes.length >= saved.length, `${writes.length} of ${saved.length} edits in the history`);
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close().catch(() => {});
    await server.stop();
    server.cleanup();
  }
});
