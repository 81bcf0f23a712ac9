// Administration in the browser: an administrator creates a cadre scoped to a ward through
// the /central/admin pages, the cadre signs in on the PWA and holds exactly that ward's
// files, the administrator narrows the scope to one branch and the other files leave the
// device at its next sync; revoking the device from the page wipes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import { waitSynced, apiAs, PASSWORD } from './app_helpers.mjs';

async function officeLogin(page, url, username) {
  await page.goto(url + '/central/login');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/central/login"] button')]);
}

async function filesOf(api, org) {
  const page = await api('GET', `/api/review/cases?org=${org}&limit=5000`);
  return new Set(page.rows.map((r) => r.doc_id));
}

async function deviceRows(page) {
  return page.$$eval('.case-row', (rows) => rows.map((r) => r.dataset.id));
}

test('an administrator creates a cadre, narrows the scope and revokes the device from the pages', async () => {
  const server = await startServer();
  const office = await launchDevice();
  const device = await launchDevice();
  try {
    const admin = await office.context.newPage();
    await officeLogin(admin, server.url, 'admin');
    await admin.goto(server.url + '/central/admin/accounts');
    const create = admin.locator('form[action="/central/admin/accounts"][method=post]');
    await create.locator('input[name=username]').fill('canbo.moi');
    await create.locator('input[name=display_name]').fill('Phạm Văn Mới');
    await create.locator('select[name=role]').selectOption('cadre');
    await create.locator('select[name=scope_org]').selectOption('phuong-11');
    await Promise.all([admin.waitForNavigation(), create.locator('button').click()]);
    const banner = await admin.textContent('.banner');
    const password = /: ([a-z0-9]{12})$/.exec(banner.trim())?.[1];
    assert.ok(password, banner);

    // The cadre signs in on the PWA and holds the ward's files only.
    const pwa = await device.context.newPage();
    await pwa.goto(server.url + '/');
    await pwa.waitForSelector('form.login', { timeout: 30000 });
    await pwa.fill('form.login input[name=username]', 'canbo.moi');
    await pwa.fill('form.login input[type=password]', password);
    await pwa.click('form.login button[type=submit]');
    await pwa.waitForSelector('[data-testid=sync-status]', { timeout: 30000 });
    await waitSynced(pwa);
    await pwa.waitForSelector('.case-row', { timeout: 30000 });
    const api = await apiAs(server.url);
    const ward = await filesOf(api, 'phuong-11');
    const branch = await filesOf(api, 'phuong-11-cb1');
    const before = await deviceRows(pwa);
    assert.ok(before.length > 0);
    assert.ok(before.every((id) => ward.has(id)), 'only files of the ward');
    assert.ok(before.some((id) => !branch.has(id)), 'files of other branches too');

    // Narrowed to one branch from the account's page.
    await admin.goto(server.url + '/central/admin/accounts?q=canbo.moi');
    await Promise.all([admin.waitForNavigation(), admin.click('a:text("canbo.moi")')]);
    await admin.locator('select[name=scope_org]').first().selectOption('phuong-11-cb1');
    await Promise.all([
      admin.waitForNavigation(),
      admin.locator('form.filters.stacked button').first().click(),
    ]);
    assert.match(await admin.textContent('.banner'), /Đã lưu/);
    await pwa.click('button.sync-now');
    await waitSynced(pwa);
    await pwa.waitForFunction(
      (branch) => [...document.querySelectorAll('.case-row')].every((r) => branch.includes(r.dataset.id)),
      [...branch],
      { timeout: 30000 },
    );
    const after = await deviceRows(pwa);
    assert.ok(after.length > 0 && after.length < before.length);

    // Revoked after the confirmation naming the user: the device wipes itself.
    await admin.goto(server.url + '/central/admin/devices');
    await Promise.all([admin.waitForNavigation(), admin.click('tr.device:has-text("canbo.moi") a')]);
    assert.match(await admin.textContent('main'), /Phạm Văn Mới/);
    await Promise.all([admin.waitForNavigation(), admin.click('form[action$="/revoke"] button')]);
    await pwa.click('button.sync-now');
    await pwa.waitForSelector('form.login', { timeout: 30000 });
    assert.equal(await pwa.$('.case-row'), null);
  } finally {
    await office.context.close();
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
