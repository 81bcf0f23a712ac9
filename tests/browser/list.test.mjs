// The case-file list and the stage gate: Vietnamese sorting, search with and without
// diacritics ("d" finds "Đ"), and "Chuyển bước" refused while a blocking finding stands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import { login, createCase, openCase, setField, watchErrors } from './app_helpers.mjs';

async function search(page, q) {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.fill('input[name=q]', q);
  await page.waitForTimeout(100);
  return await page.$$eval('.case-row .name', (els) => els.map((e) => e.textContent));
}

test('the list sorts the Vietnamese way, searches without diacritics, and the stage gate refuses blocked files', async () => {
  const server = await startServer();
  const device = await launchDevice();
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url);
    const names = ['Nguyễn Khảo Bình', 'Đỗ Khảo Đạt', 'Lê Khảo Ánh', 'Hồ Khảo Dũng', 'Trần Khảo Anh', 'Đặng Khảo An'];
    const ids = {};
    for (const n of names) ids[n] = await createCase(page, n);

    // Given name first, then the Vietnamese alphabet (d < đ) and tones (Anh < Ánh).
    const sorted = ['Đặng Khảo An', 'Trần Khảo Anh', 'Lê Khảo Ánh', 'Nguyễn Khảo Bình', 'Hồ Khảo Dũng', 'Đỗ Khảo Đạt'];
    assert.deepEqual(await search(page, 'khao'), sorted);
    assert.deepEqual(await search(page, 'KHẢO'), sorted);
    assert.deepEqual(await search(page, 'Khảo'), sorted);
    assert.deepEqual(await search(page, 'khao dat'), ['Đỗ Khảo Đạt']);
    assert.deepEqual(await search(page, 'do khao'), ['Đỗ Khảo Đạt']);
    assert.deepEqual(await search(page, 'khao anh'), ['Trần Khảo Anh', 'Lê Khảo Ánh']);
    assert.deepEqual(await search(page, 'KHẢO ÁNH'), ['Trần Khảo Anh', 'Lê Khảo Ánh']);

    // No date of birth: moving forward is refused, and the reason is listed.
    await openCase(page, ids['Đặng Khảo An']);
    assert.match(await page.textContent('[data-testid=stage]'), /Tạo nguồn/);
    await page.click('[data-testid=advance]');
    await page.waitForSelector('[data-testid=advance-refused]');
    const why = await page.textContent('[data-testid=advance-refused]');
    assert.match(why, /Chưa thể chuyển sang bước «Lớp nhận thức về Đảng»/);
    assert.match(why, /ngày sinh/i);
    assert.equal(await page.locator('input[name=advance_date]').count(), 0);
    assert.match(await page.textContent('[data-testid=stage]'), /Tạo nguồn/);

    // Invalid dates are caught in place.
    await page.fill('[data-path="person.birth_date"]', '31/02/2001');
    await page.press('[data-path="person.birth_date"]', 'Tab');
    await page.waitForSelector('.field .error');
    assert.match(await page.textContent('.field .error'), /không tồn tại/);

    // With the facts recorded, the same action asks for the next stage's key date.
    await setField(page, 'person.birth_date', '15/03/2000');
    await page.selectOption('[data-path="person.education_level"]', 'upper_secondary');
    await page.waitForTimeout(200);
    await page.click('[data-testid=advance]');
    const refused = await page.locator('[data-testid=advance-refused]').count();
    if (refused > 0) {
      assert.fail('still refused: ' + await page.textContent('[data-testid=advance-refused]'));
    }
    await page.fill('input[name=advance_date]', '10/01/2025');
    await page.click('form.advance-form button[type=submit]');
    await page.waitForFunction(() => /Lớp nhận thức về Đảng/.test(document.querySelector('[data-testid=stage]').textContent));
    assert.equal(await page.inputValue('[data-path="awareness_class.certificate_date"]'), '10/01/2025');

    // English switch: labels change, dates stay dd/mm/yyyy.
    await page.click('.top .lang button:has-text("EN")');
    await page.waitForSelector('text=Awareness class');
    assert.equal(await page.inputValue('[data-path="person.birth_date"]'), '15/03/2000');
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
