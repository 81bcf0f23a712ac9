// Several tabs of the app on one browser profile: an edit in one shows up in the
// others within a second; offline, two and three tabs editing the same file (different
// fields and the same field) and different files lose nothing — after closing all and
// bringing the server back, the server holds every edit, and the same-field edits are a
// conflict; signing out in one tab signs out all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import {
  login, waitSynced, waitForServiceWorker, openCase, setField, apiAs, addrOf, watchErrors,
  holdableTabs, openTab, waitFieldValue,
} from './app_helpers.mjs';

test('an edit in one tab shows in the others within a second; sign-out in one signs out all', async () => {
  const server = await startServer();
  const device = await launchDevice();
  try {
    const a = await device.context.newPage();
    const errors = watchErrors(a);
    await login(a, server.url);
    const b = await openTab(device.context, server.url);
    const c = await openTab(device.context, server.url);
    const id = await a.$eval('.case-row', (r) => r.dataset.id);
    await openCase(a, id);
    await openCase(b, id);
    const t = Date.now();
    await setField(a, 'person.residence_unit', 'Kiến Thụy, Hải Phòng');
    await waitFieldValue(b, 'person.residence_unit', 'Kiến Thụy, Hải Phòng', 1000);
    const seen = Date.now() - t;
    assert.ok(seen < 1000, `shown in the other tab after ${seen} ms`);
    // Text being typed is not wiped by an edit that arrives meanwhile: the other tab's
    // edit shows in its own field, the typed text stays, and leaving the field saves it.
    await a.fill('[data-path="person.ethnicity"]', 'Mường');
    await setField(b, 'person.religion', 'Phật giáo');
    await waitFieldValue(a, 'person.religion', 'Phật giáo', 2000);
    assert.equal(await a.inputValue('[data-path="person.ethnicity"]'), 'Mường');
    assert.equal(await a.evaluate(() => document.activeElement?.dataset.path), 'person.ethnicity');
    await a.press('[data-path="person.ethnicity"]', 'Tab');
    await waitFieldValue(b, 'person.ethnicity', 'Mường', 2000);
    assert.equal(await a.inputValue('[data-path="person.religion"]'), 'Phật giáo');
    // The third tab, on the list, sees the file changed as well, and the edit reaches
    // the server through whichever tab syncs.
    await c.click('button.sync-now');
    await waitSynced(c);
    const api = await apiAs(server.url);
    assert.equal((await api('GET', `/api/review/cases/${id}`)).case.person.residence_unit, 'Kiến Thụy, Hải Phòng');

    await b.click('header .bar button.link');
    for (const p of [a, b, c]) await p.waitForSelector('form.login', { timeout: 10000 });
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});

test('three tabs offline edit the same file and different files: the server gets every edit', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  let device = await launchDevice();
  const profile = device.dir;
  try {
    await holdableTabs(device.context);
    const a = await device.context.newPage();
    const errors = watchErrors(a);
    await login(a, server.url);
    await waitForServiceWorker(a);
    const ids = await a.$$eval('.case-row', (rows) => rows.map((r) => r.dataset.id));
    const b = await openTab(device.context, server.url);
    const c = await openTab(device.context, server.url);
    await server.stop();

    await openCase(a, ids[0]);
    await openCase(b, ids[0]);
    await openCase(c, ids[1]);
    // The tabs do not hear each other while they edit (as frozen background tabs).
    for (const p of [a, b, c]) await p.evaluate(() => window.__hold(true));
    await setField(a, 'person.ethnicity', 'Tày');
    await setField(b, 'person.religion', 'Phật giáo');
    await setField(a, 'person.workplace_unit', 'Giáo viên');
    await setField(b, 'person.workplace_unit', 'Kỹ sư');
    await setField(c, 'person.residence_unit', 'Tiên Lãng');
    for (const p of [a, b, c]) await p.evaluate(() => window.__hold(false));
    // Each tab now shows the others' edits of the same file.
    await waitFieldValue(b, 'person.ethnicity', 'Tày');
    await waitFieldValue(a, 'person.religion', 'Phật giáo');
    assert.deepEqual(errors, []);

    // Close everything, open again, bring the server back.
    await device.context.close();
    device = await launchDevice(profile);
    const page = await device.context.newPage();
    await page.goto(server.url + '/');
    await page.waitForSelector('.case-row', { timeout: 30000 });
    await page.waitForFunction(() => /2 (hồ sơ chưa gửi|files not sent)/.test(
      document.querySelector('[data-testid=unsynced]').textContent), null, { timeout: 20000 });
    server = await startServer({ dataDir: server.dir, addr });
    await waitSynced(page, 90000);
    const api = await apiAs(server.url);
    const first = await api('GET', `/api/review/cases/${ids[0]}`);
    assert.equal(first.case.person.ethnicity, 'Tày');
    assert.equal(first.case.person.religion, 'Phật giáo');
    const conflict = first.conflicts.find((k) => k.path === 'case.person.workplace_unit');
    assert.ok(conflict, 'the same-field edits are a conflict: ' + JSON.stringify(first.conflicts));
    assert.deepEqual(conflict.values.map((v) => v.value).sort(), ['Giáo viên', 'Kỹ sư']);
    const second = await api('GET', `/api/review/cases/${ids[1]}`);
    assert.equal(second.case.person.residence_unit, 'Tiên Lãng');
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
