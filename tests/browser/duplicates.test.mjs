// Duplicate case files on the device: creating a file for a person the device already
// holds warns with a link to the existing file (it never blocks), and a file the office
// merged into another says so, links to the file kept and leaves the default list; what
// is still recorded in it reaches the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import { login, waitSynced, waitSaved, openCase, setField, apiAs, watchErrors } from './app_helpers.mjs';

async function syncNow(page) {
  await page.click('button.sync-now');
  await waitSynced(page, 60000);
}

/** The ids of the list's rows found by a search (the list draws its first lines only). */
async function rowIds(page, q) {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.fill('input[name=q]', q);
  await page.waitForTimeout(100);
  return await page.$$eval('.case-row', (rows) => rows.map((r) => r.dataset.id));
}

test('a duplicate is warned about with a link, and a file merged at the office points to the file kept', async () => {
  const server = await startServer();
  const device = await launchDevice();
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url);

    // The first file of the person.
    await page.click('[data-testid=new-case]');
    const org = await page.inputValue('form.new-case select[name=org_id]');
    await page.fill('form.new-case input[name=full_name]', 'Nguyễn Văn Trùng');
    await page.fill('form.new-case input[name=birth_date]', '01/02/2000');
    assert.equal(await page.locator('[data-testid=duplicates]').count(), 0);
    await page.click('form.new-case button[type=submit]');
    await page.waitForSelector('[data-testid=case-name]');
    await waitSaved(page);
    const first = await page.evaluate(() => location.hash.replace('#/c/', ''));
    assert.equal(await page.locator('[data-testid=duplicates]').count(), 0, 'no warning about itself');

    // The same person typed again, without diacritics and in another order: warned.
    await page.evaluate(() => { location.hash = '#/'; });
    await page.click('[data-testid=new-case]');
    await page.fill('form.new-case input[name=full_name]', 'trung  van nguyen');
    assert.equal(await page.locator('[data-testid=duplicates]').count(), 0, 'a name alone is not enough');
    await page.fill('form.new-case input[name=birth_date]', '01/02/2000');
    await page.waitForSelector('[data-testid=duplicates]');
    const warning = await page.textContent('[data-testid=duplicates]');
    assert.match(warning, /có thể của cùng một người/);
    assert.match(warning, /Nguyễn Văn Trùng/);
    assert.match(warning, /01\/02\/2000/);
    assert.equal(await page.getAttribute('[data-testid=duplicates] li', 'data-id'), first);
    // The link opens the existing file.
    await page.click('[data-testid=duplicates] [data-testid=open-duplicate]');
    await page.waitForFunction((id) => location.hash === '#/c/' + id, first);
    assert.equal(await page.textContent('[data-testid=case-name]'), 'Nguyễn Văn Trùng');

    // It warns, never blocks: the second file is created anyway, and its editor warns too.
    await page.evaluate(() => { location.hash = '#/'; });
    await page.click('[data-testid=new-case]');
    await page.fill('form.new-case input[name=full_name]', 'Trùng Nguyễn Văn');
    await page.fill('form.new-case input[name=birth_date]', '01/02/2000');
    await page.waitForSelector('[data-testid=duplicates]');
    await page.click('form.new-case button[type=submit]');
    await page.waitForFunction((id) => /^#\/c\//.test(location.hash) && location.hash !== '#/c/' + id, first);
    await waitSaved(page);
    const second = await page.evaluate(() => location.hash.replace('#/c/', ''));
    await page.waitForSelector('[data-testid=duplicates]');
    assert.equal(await page.getAttribute('[data-testid=duplicates] li', 'data-id'), first);
    // The identity-card number field is in the editor.
    assert.equal(await page.locator('[data-path="person.id_number"]').count(), 1);
    await page.click('[data-testid=duplicates] [data-testid=open-duplicate]');
    await page.waitForFunction((id) => location.hash === '#/c/' + id, first);
    // The first file's editor names the second.
    await page.waitForSelector('[data-testid=duplicates]');
    assert.equal(await page.getAttribute('[data-testid=duplicates] li', 'data-id'), second);

    // The office finds the pair and merges it, keeping side "a".
    await syncNow(page);
    const api = await apiAs(server.url);
    let pair;
    for (let i = 0; i < 50 && !pair; i++) {
      const pairs = await api('GET', `/api/review/duplicates?org=${encodeURIComponent(org)}`);
      pair = pairs.find((p) => [p.a.doc_id, p.b.doc_id].sort().join() === [first, second].sort().join());
      if (!pair) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(pair, 'the server lists the pair');
    const survivor = pair.a.doc_id;
    const merged = pair.b.doc_id;
    const answer = await api('POST', `/api/review/duplicates/${pair.id}/merge`, { survivor: 'a' });
    assert.equal(answer.survivor, survivor);

    await syncNow(page);
    // The merged file leaves the default list; asked for, it shows marked as merged.
    const ids = await rowIds(page, 'trung');
    assert.ok(ids.includes(survivor), 'the file kept stays listed');
    assert.ok(!ids.includes(merged), 'the merged file leaves the default list');
    await page.check('input[name=merged]');
    await page.waitForSelector(`.case-row[data-id="${merged}"] [data-testid=merged-badge]`);
    assert.match(await page.textContent(`.case-row[data-id="${merged}"]`), /Đã gộp vào hồ sơ khác/);
    assert.equal(await page.locator(`.case-row[data-id="${survivor}"] [data-testid=merged-badge]`).count(), 0);

    // Opened, the merged file says so and links to the file kept.
    await openCase(page, merged);
    await page.waitForSelector('[data-testid=merged-note]');
    assert.match(await page.textContent('[data-testid=merged-note]'), /Hồ sơ này đã được gộp vào hồ sơ/);
    assert.equal(await page.locator('[data-testid=duplicates]').count(), 0);
    // Something still recorded in the merged file is not lost: the server takes it.
    await setField(page, 'person.ethnicity', 'Tày');
    await syncNow(page);
    assert.match(await page.textContent('[data-testid=doc-state]'), /Đã đồng bộ/);
    await page.click('[data-testid=open-survivor]');
    await page.waitForFunction((id) => location.hash === '#/c/' + id, survivor);
    await page.waitForSelector('[data-testid=case-name]');
    assert.equal(await page.locator('[data-testid=merged-note]').count(), 0);
    // The merged file no longer counts as a duplicate of the file kept.
    assert.equal(await page.locator('[data-testid=duplicates]').count(), 0);

    // In English, one language per message.
    await openCase(page, merged);
    await page.click('.top .lang button:has-text("EN")');
    await page.waitForFunction(() => /This file was merged into the file of/.test(document.querySelector('[data-testid=merged-note]').textContent));
    assert.doesNotMatch(await page.textContent('[data-testid=merged-note]'), /Hồ sơ này/);
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});
