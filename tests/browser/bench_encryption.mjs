// What encryption at rest costs: a device holding 2,000 case files is reloaded (server
// stopped, the app from the service-worker cache) and the time until the list shows
// every file is measured, from the PIN's submission when the build asks for one (the
// PIN's own derivation is measured apart). Then the PBKDF2 derivation alone, at normal
// speed and with the CPU slowed 4× and 6× (Chromium's CDP throttling, the usual
// stand-in for a low-end phone). Run with DIST_DIR pointing at the build to measure;
// a build without the lock simply never shows the PIN form. The ratio to an opening
// without encryption is estimated from the decryption of the values the list needs,
// timed alone.
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launchDevice, SERVER_BIN, TEST_PIN } from './support.mjs';
import { waitForServiceWorker, addrOf } from './app_helpers.mjs';

const N_FILES = 2000;
const RUNS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let server = await startServer();
const addr = addrOf(server.url);
await server.stop();
const branches = ['phuong-11-cb1', 'phuong-11-cb2', 'phuong-11-cb3', 'phuong-11-cb4', 'phuong-11-cb5', 'phuong-11-cb6'];
const family = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ', 'Đặng', 'Bùi', 'Đỗ', 'Ngô'];
const given = ['An', 'Bình', 'Cường', 'Dũng', 'Đạt', 'Hà', 'Hạnh', 'Lan', 'Linh', 'Yến', 'Ánh', 'Anh'];
const cases = [];
for (let i = 0; i < N_FILES; i++) {
  cases.push({
    id: randomBytes(16).toString('hex'),
    case: {
      org_id: branches[i % branches.length],
      person: {
        full_name: `${family[i % family.length]} Văn ${given[(i * 7) % given.length]}`,
        birth_date: `19${80 + (i % 20)}-0${1 + (i % 9)}-1${i % 10}`,
      },
    },
  });
}
const importFile = join(server.dir, 'bench-cases.json');
writeFileSync(importFile, JSON.stringify({ format: 'ho-so-phat-trien-dang-vien/1', case_files: cases }));
const imp = spawnSync(SERVER_BIN, ['import-cases', importFile, '--data', server.dir], { encoding: 'utf8' });
if (imp.status !== 0) throw new Error('import failed: ' + imp.stderr + imp.stdout);
server = await startServer({ dataDir: server.dir, addr });

const device = await launchDevice(undefined, { pin: false });
try {
  const page = await device.context.newPage();
  // Signs in; a build with the lock asks for the PIN first.
  await page.goto(server.url + '/');
  await page.waitForSelector('form.login', { timeout: 30000 });
  await page.fill('form.login input[name=username]', 'canbo.lachtray');
  await page.fill('form.login input[type=password]', 'demo2026');
  await page.click('form.login button[type=submit]');
  const first = await page.waitForSelector('form.pin-set, [data-testid=sync-status]', { timeout: 60000 });
  if (await first.evaluate((e) => e.matches('form.pin-set'))) {
    await page.fill('form.pin-set input[name=pin]', TEST_PIN);
    await page.fill('form.pin-set input[name=pin2]', TEST_PIN);
    await page.click('form.pin-set button[type=submit]');
  }
  // (Both wordings of the header, so older builds can be measured too.)
  await page.waitForFunction(() => /Mọi thay đổi đã lên máy chủ|Đã gửi hết/.test(document.querySelector('[data-testid=unsynced]')?.textContent ?? '')
    && /Đã đồng bộ/.test(document.querySelector('[data-testid=sync-status]')?.textContent ?? ''), null, { timeout: 300000, polling: 200 });
  const total = (await page.textContent('[data-testid=count]')).trim();
  await waitForServiceWorker(page);
  await server.stop();
  // The total as shown, thousands grouped ("2.090" in Vietnamese).
  const n = /\/ ([\d.,]+)/.exec(total)?.[1] ?? String(N_FILES);
  const full = (n) => page.waitForFunction((n) => {
    const c = document.querySelector('[data-testid=count]');
    return c && c.textContent.includes(`/ ${n} `);
  }, n, { timeout: 120000, polling: 10 });
  const lists = [];
  const unlocks = [];
  for (let i = 0; i < RUNS; i++) {
    let t = Date.now();
    await page.reload();
    const shown = await page.waitForSelector('form.unlock, .case-row', { timeout: 60000 });
    if (await shown.evaluate((e) => e.matches('form.unlock'))) {
      await page.fill('form.unlock input[name=pin]', TEST_PIN);
      unlocks.push(Date.now() - t);
      t = Date.now();
      await page.click('form.unlock button[type=submit]');
    }
    await full(n);
    lists.push(Date.now() - t);
  }
  console.log(`list of ${total}: from ${unlocks.length ? 'the PIN submitted' : 'the reload'} to every file listed: median ${median(lists)} ms (runs ${lists.join(', ')})`);
  if (unlocks.length) console.log(`reload to the unlock screen: median ${median(unlocks)} ms`);

  // The same reload while another tab of the app is open (and unlocked): no PIN, the
  // key comes from that tab, so this is the list's own cost, decryption included.
  const other = await device.context.newPage();
  await other.goto(server.url + '/');
  const o = await other.waitForSelector('form.unlock, .case-row', { timeout: 60000 });
  if (await o.evaluate((e) => e.matches('form.unlock'))) {
    await other.fill('form.unlock input[name=pin]', TEST_PIN);
    await other.click('form.unlock button[type=submit]');
    await other.waitForSelector('.case-row', { timeout: 60000 });
  }
  const opens = [];
  for (let i = 0; i < RUNS; i++) {
    const t = Date.now();
    await page.reload();
    const shown = await page.waitForSelector('form.unlock, .case-row', { timeout: 60000 });
    if (await shown.evaluate((e) => e.matches('form.unlock'))) throw new Error('the other tab did not hand over the key');
    await full(n);
    opens.push(Date.now() - t);
  }
  console.log(`list of ${total}, another tab open: from the reload to every file listed: median ${median(opens)} ms (runs ${opens.join(', ')})`);
  await other.close();

  // What encryption adds to that opening: the AES-GCM decryption of every sealed value
  // the list needs (each file's summary, the session, the reference data), timed alone
  // on values of the stored sizes, all at once as the app does it. The same opening
  // without encryption is estimated as the opening minus that time.
  const dec = await page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open('hoso-phat-trien-dang-vien');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const all = (store) => new Promise((res) => {
      const r = db.transaction(store).objectStore(store).getAll();
      r.onsuccess = () => res(r.result);
    });
    const sizes = [];
    for (const v of await all('docmeta')) if (v && v.s instanceof Uint8Array) sizes.push(v.s.length);
    for (const v of await all('meta')) if (v instanceof Uint8Array) sizes.push(v.length);
    db.close();
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    // Sealed = "HSE1" + 12-byte IV + ciphertext and 16-byte tag.
    const sealed = await Promise.all(sizes.map((n) => {
      const plain = new Uint8Array(Math.max(0, n - 32));
      for (let i = 0; i < plain.length; i += 65536) crypto.getRandomValues(plain.subarray(i, i + 65536));
      return crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain);
    }));
    const times = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await Promise.all(sealed.map((c) => crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, c)));
      times.push(performance.now() - t0);
    }
    return { values: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0), ms: times.sort((a, b) => a - b)[2] };
  });
  const open = median(opens);
  const plain = Math.max(1, open - dec.ms);
  console.log(`decryption of what the list needs (${dec.values} values, ${(dec.bytes / 1024).toFixed(0)} KB): median ${dec.ms.toFixed(0)} ms`);
  console.log(`opening the list encrypted vs without encryption (estimated as the opening minus the decryption): ${open} ms vs ${plain.toFixed(0)} ms, ratio ${(open / plain).toFixed(2)} (goal: at most 1.5)`);

  // The PIN derivation alone, as the app does it, at three CPU speeds.
  const cdp = await device.context.newCDPSession(page);
  for (const rate of [1, 4, 6]) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    const ms = await page.evaluate(async () => {
      const out = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const base = await crypto.subtle.importKey('raw', new TextEncoder().encode('246810'), 'PBKDF2', false, ['deriveKey']);
        await crypto.subtle.deriveKey({ name: 'PBKDF2', salt: crypto.getRandomValues(new Uint8Array(16)), iterations: 600000, hash: 'SHA-256' },
          base, { name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
        out.push(performance.now() - t0);
      }
      return out.sort((a, b) => a - b)[1];
    });
    console.log(`PBKDF2-SHA256, 600,000 rounds, CPU slowed ${rate}×: ${ms.toFixed(0)} ms`);
  }
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
} finally {
  await device.context.close();
  await server.stop();
  server.cleanup();
}
