// Shared helpers for the browser tests: a real server on a free loopback port with a
// fresh SQLite file, and headless Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const SERVER_BIN = process.env.SERVER_BIN;
export const DIST_DIR = process.env.DIST_DIR;

/**
 * Starts the server; resolves once it prints its address. `dataDir` reuses a store. A
 * new store with the demo district starts from a copy of `DEMO_TEMPLATE` when the suite
 * made one (the same server seeded it once), instead of seeding it again.
 */
export async function startServer({ dataDir, demo = true, addr = '127.0.0.1:0', dist = DIST_DIR } = {}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'hoso-data-'));
  if (!dataDir && demo && process.env.DEMO_TEMPLATE) {
    cpSync(process.env.DEMO_TEMPLATE, dir, { recursive: true });
  }
  const args = ['serve', '--addr', addr, '--data', dir, '--dist', dist];
  if (!demo) args.push('--no-demo');
  const proc = spawn(SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + log)), 60000);
    proc.stdout.on('data', (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/[0-9.:]+)\//.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.stderr.on('data', (chunk) => { log += chunk; });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
  return {
    url, dir, proc,
    async stop() {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** The PIN the test devices use. */
export const TEST_PIN = '246810';

/**
 * Launches headless Chromium with a persistent profile (a "device"). The app asks for a
 * PIN at the first sign-in and after every start; unless `pin` is false, the device
 * types `TEST_PIN` there by itself (as a cadre would), so tests about other things run
 * through the lock unchanged. Tests of the lock itself pass `{ pin: false }`.
 */
export async function launchDevice(profileDir, { pin = TEST_PIN } = {}) {
  const dir = profileDir ?? mkdtempSync(join(tmpdir(), 'hoso-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  if (pin) await context.addInitScript(typePin, pin);
  return { context, dir };
}

/** In the page: types the PIN into the PIN forms as soon as one is shown. */
function typePin(pin) {
  const type = (form, names) => {
    if (form.dataset.typed) return;
    form.dataset.typed = '1';
    for (const name of names) {
      const input = form.querySelector(`input[name=${name}]`);
      input.value = pin;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    form.querySelector('button[type=submit]').click();
  };
  const look = () => {
    const set = document.querySelector('form.pin-set');
    if (set) type(set, ['pin', 'pin2']);
    const unlock = document.querySelector('form.unlock');
    if (unlock) type(unlock, ['pin']);
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true });
}
