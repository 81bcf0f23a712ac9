// Encryption at rest and the lock: after signing in and syncing, the profile's
// IndexedDB files hold none of the candidates' names or birth dates in the clear; a
// wrong PIN is refused; the right PIN after a reload opens everything and an offline
// edit syncs; the N-th wrong PIN in a row wipes the device; the idle lock engages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice, TEST_PIN } from './support.mjs';
import {
  PASSWORD, waitSynced, openCase, setField, apiAs, watchErrors, createCase, signInWithPin,
  tryPin, indexedDbFiles, found,
} from './app_helpers.mjs';

test('nothing naming a candidate is stored in the clear; wrong PIN refused; right PIN opens and an offline edit syncs', async () => {
  const server = await startServer();
  const device = await launchDevice(undefined, { pin: false });
  try {
    let page = await device.context.newPage();
    const errors = watchErrors(page);
    await signInWithPin(page, server.url);
    // A candidate typed on this device, and those the server sent.
    const mine = await createCase(page, 'Quách Thị Mỹ Duyên', '17/03/1998');
    await waitSynced(page);
    await page.evaluate(() => { location.hash = '#/'; });
    await page.waitForSelector('.case-row');
    const api = await apiAs(server.url);
    const ids = await page.$$eval('.case-row', (r) => r.map((x) => x.dataset.id));
    assert.ok(ids.length >= 5, 'the device holds the files of its scope');
    const people = [];
    for (const id of ids.slice(0, 6)) {
      const c = await api('GET', `/api/review/cases/${id}`);
      people.push({ id, name: c.case.person.full_name, birth: c.case.person.birth_date });
    }
    assert.ok(people.some((p) => p.id === mine) || ids.includes(mine));
    const reference = await (await fetch(server.url + '/api/reference', {
      headers: { authorization: 'Bearer ' + (await cadreToken(server.url)) },
    })).json();
    const members = reference.members.slice(0, 3).map((m) => m.full_name);
    assert.ok(members.length > 0, 'the scope has members in its register');
    await device.context.close();

    // The raw files of the profile's IndexedDB.
    const blobs = indexedDbFiles(device.dir);
    assert.ok(blobs.length > 0, 'IndexedDB files exist');
    // The search can find what is stored in the clear: the files' ids are keys.
    assert.ok(ids.some((id) => found(blobs, id)), 'the search finds the (unencrypted) file ids');
    assert.ok(found(blobs, 'summary_heads'), 'the search finds the unsealed part of a value');
    const secrets = [
      'Quách Thị Mỹ Duyên', '1998-03-17',
      ...people.map((p) => p.name), ...people.map((p) => p.birth).filter(Boolean),
      ...members,
    ];
    for (const s of secrets) assert.equal(found(blobs, s), false, `"${s}" is not on disk in the clear`);

    // A reload opens on the unlock screen; a wrong PIN is refused.
    const again = await launchDevice(device.dir, { pin: false });
    device.context = again.context;
    page = await again.context.newPage();
    await page.goto(server.url + '/');
    await page.waitForSelector('form.unlock', { timeout: 30000 });
    assert.equal(await page.$('.case-row'), null, 'nothing shows before the PIN');
    const err = await tryPin(page, '999999');
    assert.match(err, /Mã PIN không đúng/);
    assert.equal(await tryPin(page, TEST_PIN), null);
    await page.waitForSelector(`.case-row[data-id="${mine}"]`, { timeout: 30000 });
    assert.match(await page.textContent(`.case-row[data-id="${mine}"]`), /Quách Thị Mỹ Duyên/);

    // Offline edit, then online: it syncs.
    await again.context.setOffline(true);
    await openCase(page, mine);
    await setField(page, 'person.ethnicity', 'Mường');
    await again.context.setOffline(false);
    await page.click('button.sync-now');
    await waitSynced(page);
    const onServer = await api('GET', `/api/review/cases/${mine}`);
    assert.equal(onServer.case.person.ethnicity, 'Mường');
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close().catch(() => {});
    await server.stop();
    server.cleanup();
  }
});

async function cadreToken(url) {
  const r = await fetch(url + '/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'canbo.lachtray', password: PASSWORD, device_name: 'test' }),
  });
  return (await r.json()).token;
}

test('the N-th wrong PIN in a row wipes the device, after a warning', async () => {
  const server = await startServer();
  const device = await launchDevice(undefined, { pin: false });
  try {
    let page = await device.context.newPage();
    await signInWithPin(page, server.url);
    await page.reload();
    // Default: 10 tries. The warning shows from the last three.
    for (let i = 1; i <= 9; i++) {
      const err = await tryPin(page, '11111' + i);
      assert.match(err, /Mã PIN không đúng/);
      const warned = await page.$('[data-testid=pin-warning]');
      if (10 - i <= 3) {
        assert.ok(warned, `warned with ${10 - i} tries left`);
        assert.match(await warned.textContent(), new RegExp(`còn ${10 - i} lần thử`));
      } else {
        assert.equal(warned, null, `no warning with ${10 - i} tries left`);
      }
    }
    // A reload does not reset the count.
    await page.reload();
    await page.fill('form.unlock input[name=pin]', '000000');
    await page.click('form.unlock button[type=submit]');
    await page.waitForSelector('form.login', { timeout: 30000 });
    assert.match(await page.textContent('.banner.notice'), /dữ liệu trên máy đã được xóa/);
    // Nothing is left: the right PIN has nothing to open.
    await page.reload();
    await page.waitForSelector('form.login', { timeout: 30000 });
    const left = await page.evaluate(async () => {
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open('hoso-phat-trien-dang-vien');
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const count = (s) => new Promise((res) => {
        const r = db.transaction(s).objectStore(s).count();
        r.onsuccess = () => res(r.result);
      });
      return { chunks: await count('chunks'), docmeta: await count('docmeta'), meta: await count('meta') };
    });
    assert.equal(left.chunks, 0);
    assert.equal(left.docmeta, 0);
    assert.ok(left.meta <= 1, 'at most the language is kept');
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});

test('forgotten PIN: signing in again online starts a fresh device after saying what is lost', async () => {
  const server = await startServer();
  const device = await launchDevice(undefined, { pin: false });
  try {
    const page = await device.context.newPage();
    await signInWithPin(page, server.url);
    await page.reload();
    await page.waitForSelector('form.unlock');
    await page.click('form.unlock button.link');
    await page.waitForSelector('.dialog.forgot');
    assert.match(await page.textContent('.dialog.forgot'), /Mọi thay đổi đã lên máy chủ/);
    await page.click('.dialog.forgot button.danger');
    await page.fill('.dialog.forgot form.login input[name=username]', 'canbo.lachtray');
    await page.fill('.dialog.forgot form.login input[type=password]', PASSWORD);
    await page.click('.dialog.forgot form.login button[type=submit]');
    await page.waitForSelector('form.pin-set', { timeout: 30000 });
    await page.fill('form.pin-set input[name=pin]', '135790');
    await page.fill('form.pin-set input[name=pin2]', '135790');
    await page.click('form.pin-set button[type=submit]');
    await waitSynced(page);
    await page.waitForSelector('.case-row', { timeout: 30000 });
    await page.reload();
    assert.match(await tryPin(page, TEST_PIN), /Mã PIN không đúng/, 'the old PIN no longer opens it');
    assert.equal(await tryPin(page, '135790'), null);
    await page.waitForSelector('.case-row', { timeout: 30000 });
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});

test('the idle lock engages after the set time; the header locks; coming back after being hidden locks', async () => {
  const server = await startServer();
  const device = await launchDevice(undefined, { pin: false });
  try {
    const page = await device.context.newPage();
    // The page's clock runs as usual but can be moved forward, so a minute of idleness
    // takes no minute of the suite.
    await page.clock.install();
    await signInWithPin(page, server.url);
    await page.click('[data-testid=lock-settings]');
    await page.selectOption('select[name=idle_minutes]', '1');
    await page.waitForFunction(() => document.querySelector('select[name=idle_minutes]').value === '1');
    await page.click('.lock-settings button');
    await page.clock.fastForward('00:50');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await page.$('form.unlock'), null, 'not locked before the set minute');
    assert.ok(await page.$('.case-row'), 'the list is still on screen after 50 s');
    await page.clock.fastForward('00:20');
    await page.waitForSelector('form.unlock', { timeout: 10000 });
    assert.equal(await page.$('.case-row'), null, 'the list is gone from the screen');
    assert.equal(await tryPin(page, TEST_PIN), null);
    await page.waitForSelector('.case-row', { timeout: 30000 });
    // "Lock" in the header locks at once.
    await page.click('[data-testid=lock-now]');
    await page.waitForSelector('form.unlock', { timeout: 10000 });
    assert.equal(await tryPin(page, TEST_PIN), null);
    await page.waitForSelector('.case-row', { timeout: 30000 });

    // Hidden longer than the set minutes (here 0: any time away) locks on return.
    await page.click('[data-testid=lock-settings]');
    await page.selectOption('select[name=hidden_minutes]', '0');
    await page.waitForFunction(() => document.querySelector('select[name=hidden_minutes]').value === '0');
    await page.click('.lock-settings button');
    const away = async (hidden) => page.evaluate((hidden) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await away(true);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(await page.$('.case-row'), 'hiding alone does not lock');
    await away(false);
    await page.waitForSelector('form.unlock', { timeout: 10000 });
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
