// The optimised bundle loads in a real browser and renders the Vietnamese app shell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';

test('the optimised PWA renders the Vietnamese app shell with a login form', async () => {
  const server = await startServer({ demo: false });
  const { context } = await launchDevice();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url + '/');
    await page.waitForSelector('form.login', { timeout: 20000 });
    assert.equal(await page.title(), 'Hồ sơ phát triển đảng viên');
    assert.ok(await page.locator('input[name=username]').count() === 1);
    assert.ok(await page.locator('input[type=password]').count() === 1);
    const body = (await page.textContent('body')).trim();
    assert.match(body, /Đăng nhập/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await server.stop();
    server.cleanup();
  }
});
