// Scope changes: a file the central office moves to another organisation leaves the
// first cadre's device only after its unsent edits are on the server, and arrives on
// the other organisation's device at its next sync.
// Uses the reviewer's `POST /api/review/cases/{id}/move` with `{"org_id": …}`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import { login, waitSynced, openCase, setField, apiAs, watchErrors } from './app_helpers.mjs';

test('a file moved to another organisation leaves after its unsent edits are on the server', async () => {
  const server = await startServer();
  const first = await launchDevice();
  const other = await launchDevice();
  try {
    const page = await first.context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url, 'canbo.lachtray');
    const id = await page.$eval('.case-row', (r) => r.dataset.id);

    // Offline, the cadre edits the file; meanwhile the central office moves it.
    await first.context.setOffline(true);
    await openCase(page, id);
    await setField(page, 'person.religion', 'Công giáo');
    const api = await apiAs(server.url);
    await api('POST', `/api/review/cases/${id}/move`, { org_id: 'phuong-04-cb1' });

    // Back online: the edit goes first, then the file leaves this device.
    await first.context.setOffline(false);
    await page.evaluate(() => { location.hash = '#/'; });
    await page.click('button.sync-now');
    await waitSynced(page);
    await page.waitForFunction((id) => !document.querySelector(`.case-row[data-id="${id}"]`), id, { timeout: 20000 });
    const onServer = await api('GET', `/api/review/cases/${id}`);
    assert.equal(onServer.case.person.religion, 'Công giáo');
    assert.equal(onServer.org_id, 'phuong-04-cb1');
    // Gone from storage too: a reload does not bring it back.
    await page.reload();
    await page.waitForSelector('.case-row', { timeout: 30000 });
    assert.equal(await page.$(`.case-row[data-id="${id}"]`), null);
    assert.deepEqual(errors, []);

    // The other organisation's cadre receives it, with the edit.
    const p2 = await other.context.newPage();
    await login(p2, server.url, 'canbo.caute');
    await p2.waitForSelector(`.case-row[data-id="${id}"]`, { timeout: 20000 });
    await openCase(p2, id);
    assert.equal(await p2.inputValue('[data-path="person.religion"]'), 'Công giáo');
  } finally {
    await first.context.close();
    await other.context.close();
    await server.stop();
    server.cleanup();
  }
});
