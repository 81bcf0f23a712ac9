// Two devices of the same cadre change the same field while the server is down: after
// both sync, both show the conflict with both values; after the reviewer resolves it
// through the server's API, both show the chosen value marked as resolved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import { login, waitSynced, openCase, setField, apiAs, addrOf, watchErrors } from './app_helpers.mjs';

async function syncNow(page) {
  await page.click('button.sync-now');
  await waitSynced(page, 60000);
}

test('a conflict made on two offline devices is shown on both, and the reviewer\'s choice reaches both', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  const devA = await launchDevice();
  const devB = await launchDevice();
  try {
    const a = await devA.context.newPage();
    const b = await devB.context.newPage();
    const errors = [...[a, b].map(watchErrors)];
    await login(a, server.url);
    await login(b, server.url);
    const id = await a.$eval('.case-row', (r) => r.dataset.id);
    await openCase(a, id);
    await openCase(b, id);

    await server.stop();
    await setField(a, 'person.ethnicity', 'Tày');
    await setField(b, 'person.ethnicity', 'Nùng');

    server = await startServer({ dataDir: server.dir, addr });
    await syncNow(a);
    await syncNow(b);
    await syncNow(a);
    for (const p of [a, b]) {
      await p.waitForSelector('.field.conflict [data-testid=conflict]', { timeout: 30000 });
      const text = await p.textContent('[data-testid=conflict]');
      assert.match(text, /«Tày»/);
      assert.match(text, /«Nùng»/);
      assert.match(text, /thiết bị này/);
      assert.match(text, /thiết bị khác/);
    }
    assert.match(await a.textContent('[data-testid=doc-state]'), /Xung đột/);

    // The reviewer chooses "Nùng" on the server.
    const api = await apiAs(server.url);
    const open = await api('GET', '/api/review/conflicts?state=open');
    const c = open.find((x) => x.doc_id === id && x.path === 'case.person.ethnicity');
    assert.ok(c, 'the server lists the conflict for the reviewer');
    await api('POST', `/api/review/conflicts/${c.id}/resolve`, { value: 'Nùng' });

    for (const p of [a, b]) {
      await syncNow(p);
      await p.waitForSelector('[data-testid=resolved]', { timeout: 30000 });
      assert.equal(await p.inputValue('[data-path="person.ethnicity"]'), 'Nùng');
      assert.equal(await p.locator('[data-testid=conflict]').count(), 0);
      assert.match(await p.textContent('[data-testid=resolved]'), /Đã giải quyết/);
    }

    // The reviewer returns the file with a comment: the cadre sees it on the device.
    await api('POST', `/api/review/cases/${id}/return`, { comment: 'Bổ sung giấy chứng nhận lớp nhận thức' });
    await syncNow(a);
    await a.waitForSelector('[data-testid=review-note]', { timeout: 30000 });
    assert.match(await a.textContent('[data-testid=review-note]'), /Bổ sung giấy chứng nhận lớp nhận thức/);
    assert.match(await a.textContent('[data-testid=review-note]'), /bantochuc/);
    assert.deepEqual(errors.flat(), []);
  } finally {
    await devA.context.close();
    await devB.context.close();
    await server.stop();
    server.cleanup();
  }
});
