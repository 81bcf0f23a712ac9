// Helpers shared by the PWA's end-to-end tests: signing in through the form, waiting
// for the sync state shown in the header, and talking to the server as the reviewer.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_PIN } from './support.mjs';

export const PASSWORD = 'demo2026';

/** Signs in through the login form and waits for the first sync to finish. */
export async function login(page, url, username = 'canbo.lachtray') {
  await page.goto(url + '/');
  await page.waitForSelector('form.login', { timeout: 30000 });
  await page.fill('form.login input[name=username]', username);
  await page.fill('form.login input[type=password]', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('[data-testid=sync-status]', { timeout: 30000 });
  await waitSynced(page);
  await page.waitForSelector('.case-row', { timeout: 30000 });
}

/** Waits until the sync bar says every change is on the server and no sync runs. */
export async function waitSynced(page, timeout = 60000) {
  await page.waitForFunction(() => {
    const u = document.querySelector('[data-testid=unsynced]');
    const s = document.querySelector('.sync');
    return u && s && !s.classList.contains('running') && !s.classList.contains('error')
      && !s.classList.contains('offline') && /Đã gửi hết|All sent/.test(u.textContent)
      && /Đã đồng bộ|Synced/.test(document.querySelector('[data-testid=sync-status]').textContent);
  }, null, { timeout, polling: 200 });
}

/** Waits until the service worker controls the page (the app shell is cached). */
export async function waitForServiceWorker(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 20000 });
  }
}

/** Waits until no write to IndexedDB is pending. */
export async function waitSaved(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('.crumbs .saved');
    return !s || /Đã lưu trên máy|Saved on this device/.test(s.textContent);
  }, null, { timeout: 10000, polling: 100 });
}

/** Opens one case file by id. */
export async function openCase(page, id) {
  await page.evaluate((id) => { location.hash = '#/c/' + id; }, id);
  await page.waitForSelector('[data-testid=case-name]', { timeout: 20000 });
}

/** Sets a field of the open case as a cadre does: type, then leave the field. */
export async function setField(page, path, value) {
  await showField(page, path);
  const input = page.locator(`[data-path="${path}"]`);
  await input.fill(value);
  await input.press('Tab');
  await waitSaved(page);
}

/** Opens the stage section holding a field (sections of past stages start closed). */
export async function showField(page, path) {
  await page.evaluate((path) => {
    const d = document.querySelector(`[data-path="${path}"]`)?.closest('details');
    if (d) d.open = true;
  }, path);
}

/** Creates a case file through the "new case" form; returns its id. */
export async function createCase(page, name, birth = '') {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.click('[data-testid=new-case]');
  await page.fill('form.new-case input[name=full_name]', name);
  if (birth) await page.fill('form.new-case input[name=birth_date]', birth);
  await page.click('form.new-case button[type=submit]');
  await page.waitForSelector('[data-testid=case-name]');
  await waitSaved(page);
  return await page.evaluate(() => location.hash.replace('#/c/', ''));
}

/** Signs in to the API (as the reviewer by default); returns a fetch helper. */
export async function apiAs(url, username = 'bantochuc') {
  const r = await fetch(url + '/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD, device_name: 'test' }),
  });
  assert.equal(r.status, 200, 'reviewer login');
  const { token } = await r.json();
  return async (method, path, body) => {
    const resp = await fetch(url + path, {
      method,
      headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** The host:port a server listens on, to restart it at the same address. */
export function addrOf(url) {
  return url.replace(/^http:\/\//, '');
}

/** Collects page errors, so a test can assert that none happened. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/**
 * Lets a test hold back the messages tabs send each other (as when a background tab
 * is frozen), so edits made in two tabs are truly concurrent. `__hold(true)` queues
 * incoming messages in that tab; `__hold(false)` delivers them.
 */
export async function holdableTabs(context) {
  await context.addInitScript(() => {
    const Original = window.BroadcastChannel;
    if (!Original) return;
    const queue = [];
    let holding = false;
    window.__hold = (on) => {
      holding = on;
      if (!on) queue.splice(0).forEach((deliver) => deliver());
    };
    window.BroadcastChannel = class extends Original {
      set onmessage(handler) {
        super.onmessage = (e) => (holding ? queue.push(() => handler(e)) : handler(e));
      }
      get onmessage() { return super.onmessage; }
    };
  });
}

/** Opens another tab of the app on the same profile, already signed in. */
export async function openTab(context, url) {
  const page = await context.newPage();
  await page.goto(url + '/');
  await page.waitForSelector('.case-row', { timeout: 30000 });
  return page;
}

/** Waits until a field of the open case shows a value (typed in another tab). */
export async function waitFieldValue(page, path, value, timeout = 5000) {
  await showField(page, path);
  await page.waitForFunction(([p, v]) => {
    const el = document.querySelector(`[data-path="${p}"]`);
    return el && el.value === v;
  }, [path, value], { timeout, polling: 50 });
}

/** Signs in through the form and chooses the PIN, as on a new device. */
export async function signInWithPin(page, url, username = 'canbo.lachtray', pin = TEST_PIN) {
  await page.goto(url + '/');
  await page.waitForSelector('form.login', { timeout: 30000 });
  await page.fill('form.login input[name=username]', username);
  await page.fill('form.login input[type=password]', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('form.pin-set', { timeout: 30000 });
  await page.fill('form.pin-set input[name=pin]', pin);
  await page.fill('form.pin-set input[name=pin2]', pin);
  await page.click('form.pin-set button[type=submit]');
  await page.waitForSelector('[data-testid=sync-status]', { timeout: 30000 });
  await waitSynced(page);
  await page.waitForSelector('.case-row', { timeout: 30000 });
}

/** Types a PIN on the unlock screen; resolves with the error shown, or null once open. */
export async function tryPin(page, pin) {
  await page.waitForSelector('form.unlock', { timeout: 30000 });
  const before = await page.$eval('form.unlock', (f) => Number(f.dataset.answers));
  await page.fill('form.unlock input[name=pin]', pin);
  await page.click('form.unlock button[type=submit]');
  return await unlockAnswer(page, before);
}

/**
 * Waits for the unlock screen's answer to a try counted from `before` (its
 * `data-answers`); resolves with the error shown, or null once the app is open.
 */
export async function unlockAnswer(page, before) {
  await page.waitForFunction((before) => {
    const f = document.querySelector('form.unlock');
    return !f || Number(f.dataset.answers) > before;
  }, before, { timeout: 30000, polling: 50 });
  const form = await page.$('form.unlock');
  if (!form) return null;
  return await page.$$eval('form.unlock .error', (e) => e.map((x) => x.textContent).join('|'));
}

/** The lock record as the app stores it, unencrypted, in IndexedDB (`meta.vault`). */
export async function lockRecord(page) {
  return await page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open('hoso-phat-trien-dang-vien');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const v = await new Promise((res, rej) => {
      const r = db.transaction('meta').objectStore('meta').get('vault');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    db.close();
    return v ? JSON.parse(v) : null;
  });
}

/** Every file under a directory. */
export function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** The text forms a string can take on disk: UTF-8, UTF-16 in both byte orders. */
function encodings(s) {
  const le = Buffer.from(s, 'utf16le');
  const be = Buffer.from(le);
  be.swap16();
  return [Buffer.from(s, 'utf8'), le, be];
}

/** Whether any of the files' contents holds the string in one of its encodings. */
export function found(blobs, s) {
  return encodings(s).some((needle) => blobs.some((b) => b.includes(needle)));
}

/** The raw files of a profile's IndexedDB (read once the browser is closed). */
export function indexedDbFiles(profileDir) {
  return filesUnder(join(profileDir, 'Default', 'IndexedDB')).map((f) => readFileSync(f));
}
