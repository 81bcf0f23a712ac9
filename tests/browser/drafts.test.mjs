// Typed input is never silently dropped: a date the editor refuses stays visible as a
// draft with its error until fixed or discarded, and leaving the screen with a draft
// asks first. Dates are accepted as dd/mm/yyyy, d/m/yyyy and ddmmyyyy. And the service
// worker answers only the app's own addresses: after using the app, /central/login in
// the same browser is the central office's page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import {
  login, waitForServiceWorker, openCase, setField, showField, waitSaved, watchErrors,
} from './app_helpers.mjs';

test('a refused date stays as a draft with its error; leaving asks first', async () => {
  const server = await startServer();
  const device = await launchDevice();
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url);
    const id = await page.$eval('.case-row', (r) => r.dataset.id);
    await openCase(page, id);
    const field = '[data-path="person.birth_date"]';
    const before = await page.inputValue(field);
    await showField(page, 'person.birth_date');
    await page.fill(field, '31/02/2026');
    await page.press(field, 'Tab');
    await page.waitForSelector('[data-testid=draft-error]');
    assert.match(await page.textContent('[data-testid=draft-error]'), /Ngày không tồn tại/);
    // Another edit redraws the case: the draft is still there.
    await setField(page, 'person.ethnicity', 'Kinh');
    assert.equal(await page.inputValue(field), '31/02/2026');

    // Leaving asks; declining keeps the screen and the draft.
    let asked = 0;
    page.once('dialog', (d) => { asked++; d.dismiss(); });
    await page.click('.crumbs a');
    await page.waitForTimeout(300);
    assert.equal(asked, 1);
    assert.ok(await page.$('[data-testid=case-name]'));
    assert.equal(await page.inputValue(field), '31/02/2026');

    // Fixed with the other accepted spellings.
    await setField(page, 'person.birth_date', '3/2/2001');
    assert.equal(await page.inputValue(field), '03/02/2001');
    assert.equal(await page.$('[data-testid=draft-error]'), null);
    await setField(page, 'person.birth_date', '15032000');
    assert.equal(await page.inputValue(field), '15/03/2000');

    // Discarding a draft brings back the stored value.
    await page.fill(field, '99/99/2000');
    await page.press(field, 'Tab');
    await page.click('[data-testid=draft-error] button');
    assert.equal(await page.inputValue(field), '15/03/2000');
    await waitSaved(page);
    // Nothing left to ask about: leaving is immediate.
    await page.click('.crumbs a');
    await page.waitForSelector('.case-row');
    assert.notEqual(before, '31/02/2026');
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});

test('after using the app, /central/login shows the central office login page', async () => {
  const server = await startServer();
  const device = await launchDevice();
  try {
    const page = await device.context.newPage();
    await login(page, server.url);
    await waitForServiceWorker(page);
    await page.goto(server.url + '/central/login');
    await page.waitForSelector('form[action="/central/login"]', { timeout: 10000 });
    assert.equal(await page.$('form.login'), null, 'not the cadre app');
    await page.goto(server.url + '/central');
    assert.equal(await page.$('#app-shell'), null);
    // The app itself still opens from the service worker.
    await page.goto(server.url + '/');
    await page.waitForSelector('.case-row', { timeout: 30000 });
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
