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

// The check above has teeth: a bundle broken after optimisation must not pass it.
test('a corrupted wasm bundle is caught: the shell does not render', async () => {
  const { cpSync, readFileSync, writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const broken = mkdtempSync(join(tmpdir(), 'hoso-broken-dist-'));
  cpSync(process.env.DIST_DIR, broken, { recursive: true });
  const wasm = readFileSync(join(broken, 'client_bg.wasm'));
  writeFileSync(join(broken, 'client_bg.wasm'), wasm.subarray(0, Math.floor(wasm.length / 2)));
  const server = await startServer({ demo: false, dist: broken });
  const { context } = await launchDevice();
  try {
    const page = await context.newPage();
    await page.goto(server.url + '/');
    const rendered = await page
      .waitForSelector('form.login', { timeout: 5000 })
      .then(() => true, () => false);
    assert.equal(rendered, false, 'a truncated bundle must not render the app shell');
  } finally {
    await context.close();
    await server.stop();
    server.cleanup();
    rmSync(broken, { recursive: true, force: true });
  }
});
