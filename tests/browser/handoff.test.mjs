// The hand-off file: a device with unsent edits exports it from the header; the file is
// unreadable without the server's key (another server refuses it); a reviewer uploads
// it at /central/handoff; the server then holds the edits with the device's authorship;
// the device's later sync of the same changes (and a second upload) add nothing; once
// the device is revoked, its file is refused with a clear message. (Changes written by
// another device's actor are refused too: tests/tests/handoff.rs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchDevice } from './support.mjs';
import { login, waitSynced, openCase, setField, apiAs, watchErrors, PASSWORD } from './app_helpers.mjs';

async function officeLogin(page, url, username) {
  await page.goto(url + '/central/login');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/central/login"] button')]);
}

async function upload(page, url, file) {
  await page.goto(url + '/central/handoff');
  await page.setInputFiles('input[type=file][name=file]', file);
  await Promise.all([page.waitForNavigation(), page.click('form[action^="/central/handoff"] button')]);
  return (await page.textContent('main')).replace(/\s+/g, ' ');
}

function edits(history, path) {
  const rows = Array.isArray(history) ? history : history.entries ?? history.rows ?? [];
  return rows.filter((e) => (e.fields ?? []).some((f) => f === path || f.endsWith('.' + path)));
}

test('a hand-off file reaches the server through the office, once, with the device as its author', async () => {
  const server = await startServer();
  const other = await startServer();
  const device = await launchDevice();
  const office = await launchDevice();
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url);
    const id = await page.$eval('.case-row', (r) => r.dataset.id);
    const api = await apiAs(server.url);
    const before = edits(await api('GET', `/api/review/cases/${id}/history`), 'person.ethnicity').length;

    // No network: the edit stays on the device; the cadre exports the hand-off file.
    await device.context.setOffline(true);
    await openCase(page, id);
    await setField(page, 'person.ethnicity', 'Khơ Mú');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=handoff]'),
    ]);
    const file = join(device.dir, 'handoff.json');
    await download.saveAs(file);
    await page.waitForSelector('[data-testid=handoff-result]');
    assert.match(await page.textContent('[data-testid=handoff-result]'), /^1 hồ sơ/);
    assert.match(await page.textContent('[data-testid=handed]'), /Đã xuất bàn giao 1 hồ sơ/);
    // Still unsent: the device will sync it as well.
    assert.match(await page.textContent('[data-testid=unsynced]'), /1 hồ sơ chưa gửi/);

    const text = readFileSync(file, 'utf8');
    const envelope = JSON.parse(text);
    assert.deepEqual(Object.keys(envelope).sort(), ['data', 'epk', 'format', 'iv']);
    assert.ok(!text.includes('Khơ Mú') && !text.includes(id), 'nothing readable in the file');

    // Another server (another key) cannot read it.
    const stranger = await office.context.newPage();
    await officeLogin(stranger, other.url, 'bantochuc');
    assert.match(await upload(stranger, other.url, file), /không phải tệp bàn giao của máy chủ này/);

    // The reviewer uploads it: accepted, with the device's authorship.
    const reviewer = await office.context.newPage();
    await officeLogin(reviewer, server.url, 'bantochuc');
    const result = await upload(reviewer, server.url, file);
    assert.match(result, /canbo\.lachtray/);
    assert.match(result, /nhận 1 hồ sơ, từ chối 0 hồ sơ/);
    const onServer = await api('GET', `/api/review/cases/${id}`);
    assert.equal(onServer.case.person.ethnicity, 'Khơ Mú');
    const history = edits(await api('GET', `/api/review/cases/${id}/history`), 'person.ethnicity');
    assert.equal(history.length, before + 1);
    const last = history[history.length - 1];
    const admin = await apiAs(server.url, 'admin');
    const devices = await admin('GET', '/api/admin/devices');
    const list = Array.isArray(devices) ? devices : devices.devices ?? devices.rows;
    const mine = list.filter((d) => d.username === 'canbo.lachtray' && /Chrom|Mozilla/.test(d.name));
    assert.equal(mine.length, 1, 'one browser device of the cadre');
    // The history names the device (by the name it gave at sign-in) and its user.
    assert.equal(last.device, mine[0].name, 'written by the device, not by the reviewer');
    assert.match(JSON.stringify(last.user), /canbo\.lachtray|Lạch Tray/);

    // The same file again, and the device's own sync: nothing new.
    assert.match(await upload(reviewer, server.url, file), /nhận 1 hồ sơ/);
    await device.context.setOffline(false);
    await page.click('button.sync-now');
    await waitSynced(page);
    assert.equal(edits(await api('GET', `/api/review/cases/${id}/history`), 'person.ethnicity').length, before + 1);

    // A revoked device's file is refused.
    await admin('POST', `/api/admin/devices/${mine[0].id}/revoke`, {});
    assert.match(await upload(reviewer, server.url, file), /đã bị thu hồi\. Không có thay đổi nào được nhận/);
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await office.context.close();
    await server.stop();
    await other.stop();
    server.cleanup();
    other.cleanup();
  }
});
