// The second ways to the data key, and changing the PIN: a passkey (WebAuthn PRF, on
// Chromium's virtual authenticator through the DevTools protocol) opens the app without
// the PIN, a passkey that fails is not a wrong PIN, an authenticator without PRF is
// reported and the PIN still works; a changed PIN replaces the old one, whose tries are
// counted as wrong PINs.
//
// Passkeys belong to a domain name (browsers refuse them for an IP address), so these
// devices open the server as `localhost`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice, TEST_PIN } from './support.mjs';
import { PHONE, assertAccessible, smallTargets } from './a11y.mjs';
import {
  apiAs, createCase, found, indexedDbFiles, lockRecord, openCase, setField, signInWithPin,
  tryPin, unlockAnswer, waitSynced, watchErrors,
} from './app_helpers.mjs';

/** The server's address as a domain name. */
function byName(url) {
  return url.replace('//127.0.0.1:', '//localhost:');
}

/** A virtual platform authenticator (fingerprint-like: verifies the user) on the page. */
async function authenticator(page, hasPrf) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, hasPrf,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function openLockSettings(page) {
  await page.click('[data-testid=lock-settings]');
  await page.waitForSelector('.lock-settings');
}

/** Clicks "Mở bằng khóa truy cập"; the error shown, or null once the app is open. */
async function tryPasskey(page) {
  await page.waitForSelector('[data-testid=passkey-unlock]', { timeout: 30000 });
  const before = await page.$eval('form.unlock', (f) => Number(f.dataset.answers));
  await page.click('[data-testid=passkey-unlock]');
  return await unlockAnswer(page, before);
}

test('a passkey unlocks without the PIN; a refused passkey is no wrong PIN; an offline edit syncs; nothing is stored in the clear; the passkey can be removed', async () => {
  const server = await startServer();
  const url = byName(server.url);
  const device = await launchDevice(undefined, { pin: false });
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    const { cdp, authenticatorId } = await authenticator(page, true);
    await signInWithPin(page, url);
    const name = 'Lều Thị Ngọc Hân';
    const mine = await createCase(page, name, '09/11/1999');
    await waitSynced(page);
    await page.evaluate(() => { location.hash = '#/'; });

    // Enrol: the PIN confirms, the authenticator makes the credential. The settings,
    // both forms open, are accessible and easy to hit on a phone.
    await page.setViewportSize(PHONE);
    await openLockSettings(page);
    await page.click('[data-testid=passkey-enrol]');
    await page.click('[data-testid=pin-change]');
    await assertAccessible(page, 'lock settings, PIN change and passkey forms open');
    assert.deepEqual(await smallTargets(page), [], 'no target under 44 px');
    await page.fill('form.passkey-enrol input[name=passkey_pin]', TEST_PIN);
    await page.click('form.passkey-enrol button[type=submit]');
    await page.waitForSelector('[data-testid=passkey-on]', { timeout: 30000 });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'one passkey on the authenticator');
    const record = await lockRecord(page);
    assert.ok(record.passkey?.wrapped, 'the data key is wrapped a second time');
    assert.ok(record.wrapped, 'the PIN\'s wrapping stays');
    assert.equal(record.failures, 0);

    // After a reload the unlock screen offers the passkey, which opens the app.
    await page.reload();
    await page.waitForSelector('[data-testid=passkey-unlock]', { timeout: 30000 });
    assert.equal(await page.$('.case-row'), null, 'nothing shows before the unlock');
    await assertAccessible(page, 'unlock screen with the passkey');
    assert.equal(await tryPasskey(page), null);
    await page.waitForSelector(`.case-row[data-id="${mine}"]`, { timeout: 30000 });
    assert.match(await page.textContent(`.case-row[data-id="${mine}"]`), new RegExp(name));

    // Offline edit, then online: it syncs.
    await device.context.setOffline(true);
    await openCase(page, mine);
    await setField(page, 'person.ethnicity', 'Tày');
    await device.context.setOffline(false);
    await page.click('button.sync-now');
    await waitSynced(page);
    const api = await apiAs(server.url);
    assert.equal((await api('GET', `/api/review/cases/${mine}`)).case.person.ethnicity, 'Tày');
    await page.evaluate(() => { location.hash = '#/'; });

    // The passkey gone from the authenticator (deleted on the phone): refused, not
    // counted as a wrong PIN, and the PIN still opens.
    await page.click('[data-testid=lock-now]');
    await page.waitForSelector('form.unlock', { timeout: 10000 });
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: credentials[0].credentialId });
    assert.match(await tryPasskey(page), /Khóa truy cập/);
    assert.equal((await lockRecord(page)).failures, 0, 'a passkey failure is not a wrong PIN');
    assert.equal(await page.$('.case-row'), null, 'nothing shows after the failure');
    assert.equal(await tryPin(page, TEST_PIN), null);
    await page.waitForSelector(`.case-row[data-id="${mine}"]`, { timeout: 30000 });

    // Removed: the unlock screen offers only the PIN again.
    await openLockSettings(page);
    await page.click('[data-testid=passkey-remove]');
    await page.waitForSelector('[data-testid=passkey-enrol]', { timeout: 10000 });
    assert.equal((await lockRecord(page)).passkey, null);
    await page.click('[data-testid=lock-now]');
    await page.waitForSelector('form.unlock', { timeout: 10000 });
    assert.equal(await page.$('[data-testid=passkey-unlock]'), null);
    assert.equal(await tryPin(page, TEST_PIN), null);
    await page.waitForSelector(`.case-row[data-id="${mine}"]`, { timeout: 30000 });
    assert.deepEqual(errors, []);
    await device.context.close();

    // On disk: the file's id is there (the search works), what names the person is not.
    const blobs = indexedDbFiles(device.dir);
    assert.ok(found(blobs, mine), 'the search finds the (unencrypted) file id');
    for (const s of [name, '1999-11-09', 'Tày']) {
      assert.equal(found(blobs, s), false, `"${s}" is not on disk in the clear`);
    }
  } finally {
    await device.context.close().catch(() => {});
    await server.stop();
    server.cleanup();
  }
});

test('an authenticator without PRF: the passkey is reported unavailable and the PIN still opens the app', async () => {
  const server = await startServer();
  const url = byName(server.url);
  const device = await launchDevice(undefined, { pin: false });
  try {
    const page = await device.context.newPage();
    await authenticator(page, false);
    await signInWithPin(page, url);
    await openLockSettings(page);
    await page.click('[data-testid=passkey-enrol]');
    await page.fill('form.passkey-enrol input[name=passkey_pin]', TEST_PIN);
    await page.click('form.passkey-enrol button[type=submit]');
    const why = await page.waitForSelector('[data-testid=passkey-unavailable]', { timeout: 30000 });
    assert.match(await why.textContent(), /không hỗ trợ/);
    assert.equal(await page.$('[data-testid=passkey-enrol]'), null, 'no longer offered');
    await page.click('.top .lang button:has-text("EN")');
    await page.waitForFunction(() => /cannot unlock data with a passkey/.test(document.querySelector('[data-testid=passkey-unavailable]')?.textContent));
    await page.click('.top .lang button:has-text("VI")');
    const record = await lockRecord(page);
    assert.equal(record.passkey, null);
    assert.equal(record.passkey_unsupported, true);

    await page.reload();
    await page.waitForSelector('form.unlock', { timeout: 30000 });
    assert.equal(await page.$('[data-testid=passkey-unlock]'), null, 'the unlock screen offers only the PIN');
    assert.equal(await tryPin(page, TEST_PIN), null);
    await page.waitForSelector('.case-row', { timeout: 30000 });

  } finally {
    await device.context.close().catch(() => {});
    await server.stop();
    server.cleanup();
  }
});

test('changing the PIN: a wrong current PIN is counted; after a reload the old PIN is refused and the new one opens everything', async () => {
  const server = await startServer();
  const device = await launchDevice(undefined, { pin: false });
  const next = '97531864';
  try {
    const page = await device.context.newPage();
    await signInWithPin(page, server.url);
    const name = 'Đinh Văn Khải';
    const mine = await createCase(page, name, '02/02/2000');
    await waitSynced(page);
    await page.evaluate(() => { location.hash = '#/'; });
    const before = await lockRecord(page);

    await openLockSettings(page);
    await page.click('[data-testid=pin-change]');
    const change = async (current, pin, again = pin) => {
      await page.fill('form.pin-change input[name=current_pin]', current);
      await page.fill('form.pin-change input[name=new_pin]', pin);
      await page.fill('form.pin-change input[name=new_pin2]', again);
      await page.click('form.pin-change button[type=submit]');
    };
    // The new PIN's rules: checked before anything is tried or counted.
    await change(TEST_PIN, '12345');
    await page.waitForSelector('section.pin-change .error');
    assert.match(await page.textContent('section.pin-change .error'), /ít nhất 6 ký tự/);
    await change(TEST_PIN, next, next + '0');
    await page.waitForFunction(() => /không khớp/.test(document.querySelector('section.pin-change .error')?.textContent));
    assert.equal((await lockRecord(page)).failures, 0);
    // A wrong current PIN is a wrong PIN.
    await change('000000', next);
    await page.waitForFunction(() => /Mã PIN không đúng/.test(document.querySelector('section.pin-change .error')?.textContent), null, { timeout: 30000 });
    assert.equal((await lockRecord(page)).failures, 1);
    await change(TEST_PIN, next);
    await page.waitForSelector('[data-testid=pin-changed]', { timeout: 30000 });
    const after = await lockRecord(page);
    assert.equal(after.failures, 0);
    assert.notEqual(after.salt, before.salt, 'a new salt');
    assert.notEqual(after.wrapped, before.wrapped);

    await page.reload();
    assert.match(await tryPin(page, TEST_PIN), /Mã PIN không đúng/, 'the old PIN is refused');
    assert.equal((await lockRecord(page)).failures, 1, 'and counted');
    assert.equal(await tryPin(page, next), null);
    await page.waitForSelector(`.case-row[data-id="${mine}"]`, { timeout: 30000 });
    assert.match(await page.textContent(`.case-row[data-id="${mine}"]`), new RegExp(name));
    await openCase(page, mine);
    assert.match(await page.textContent('[data-testid=case-name]'), new RegExp(name));
    assert.equal((await lockRecord(page)).failures, 0);
  } finally {
    await device.context.close().catch(() => {});
    await server.stop();
    server.cleanup();
  }
});
