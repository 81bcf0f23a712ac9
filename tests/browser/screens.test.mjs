// The screens of both apps as a cadre and a reviewer meet them: axe-core finds no
// critical or serious violation on any screen at 360×740 and 1366×768; on a phone the
// first file is above the fold, the sync bar stays in view while scrolling a long case,
// and every target is at least 44 px; filters, the due-date sort and the empty state of
// the list; findings, checklist items and conflicts take the cadre to their field; a
// future date asks first; the reviewer's history names fields and shows old → new;
// finding messages in Vietnamese are Vietnamese only, with no paths or empty sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import { startServer, launchDevice } from './support.mjs';
import {
  login, waitSynced, openCase, setField, createCase, addrOf, watchErrors, PASSWORD,
} from './app_helpers.mjs';
import { PHONE, OFFICE, TABLET, axeViolations, smallTargets } from './a11y.mjs';

async function officeLogin(page, url, username = 'bantochuc') {
  await page.goto(url + '/central/login');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/central/login"] button')]);
}

async function toList(page) {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.waitForSelector('.list');
}

/** A case file of the list at a later stage than the first (its early sections done). */
async function laterStageCase(page) {
  return page.$$eval('.case-row', (rows) => rows.find((r) => !/Tạo nguồn/.test(r.querySelector('.stage').textContent))?.dataset.id);
}

function parseVn(s) {
  const m = /(\d{2})\/(\d{2})\/(\d{4})/.exec(s);
  return m ? `${m[3]}-${m[2]}-${m[1]}` : null;
}

test('axe-core finds no critical or serious violation on any screen of either app, at phone and office sizes', async () => {
  // Every screen is checked before the test judges, so one run lists every violation.
  const found = [];
  const assertAccessible = async (page, where) => {
    const v = await axeViolations(page);
    if (v.length) found.push({ where, v });
  };
  const server = await startServer();
  const device = await launchDevice();
  const office = await launchDevice();
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    await page.setViewportSize(PHONE);
    await page.goto(server.url + '/');
    await page.waitForSelector('form.login', { timeout: 30000 });
    for (const size of [PHONE, OFFICE]) {
      await page.setViewportSize(size);
      await assertAccessible(page, `PWA sign-in ${size.width}`);
    }
    await login(page, server.url);
    const later = await laterStageCase(page);
    assert.ok(later, 'a file past its first stage');
    const fresh = await createCase(page, 'Kiểm Tra Truy Cập');
    for (const size of [PHONE, OFFICE]) {
      await page.setViewportSize(size);
      const w = size.width;
      await toList(page);
      await assertAccessible(page, `PWA list ${w}`);
      await page.click('.more-filters > summary');
      await page.fill('input[name=q]', 'không có ai tên này');
      await page.waitForSelector('[data-testid=empty]');
      await assertAccessible(page, `PWA list, filters open, nothing found ${w}`);
      await page.fill('input[name=q]', '');
      await page.click('[data-testid=new-case]');
      await page.waitForSelector('form.new-case');
      await assertAccessible(page, `PWA new file ${w}`);
      await openCase(page, fresh);
      await assertAccessible(page, `PWA new case ${w}`);
      await page.click('[data-testid=advance]');
      await page.waitForSelector('[data-testid=advance-refused]');
      await assertAccessible(page, `PWA refused move ${w}`);
      await openCase(page, later);
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
      await assertAccessible(page, `PWA later case, every section open ${w}`);
      await page.click('.top .lang button:has-text("EN")');
      await page.waitForSelector('text=Next actions');
      await assertAccessible(page, `PWA later case in English ${w}`);
      await page.click('.top .lang button:has-text("VI")');
    }
    assert.deepEqual(errors, []);

    // The office's pages, as the reviewer and as the administrator.
    const o = await office.context.newPage();
    await o.goto(server.url + '/central/login');
    for (const size of [PHONE, OFFICE]) {
      await o.setViewportSize(size);
      await assertAccessible(o, `office sign-in ${size.width}`);
    }
    await officeLogin(o, server.url, 'admin');
    const caseLink = async () => o.$eval('a[href^="/central/cases/"]', (a) => a.getAttribute('href'));
    const pages = ['/central', '/central/cases', '/central/conflicts', '/central/findings',
      '/central/deadlines', '/central/duplicates', '/central/cases?from=31/02/2026'];
    await o.goto(server.url + '/central/cases');
    pages.push(await caseLink());
    pages.push('/central/admin', '/central/admin/accounts', '/central/admin/devices',
      '/central/admin/settings', '/central/admin/calendar', '/central/admin/audit',
      '/central/admin/orgs', '/central/admin/members', '/central/admin/targets');
    for (const size of [PHONE, TABLET, OFFICE]) {
      await o.setViewportSize(size);
      for (const path of pages) {
        const resp = await o.goto(server.url + path);
        assert.ok(resp.status() < 500, `${path}: ${resp.status()}`);
        await assertAccessible(o, `office ${path} ${size.width}`);
        // Usable down to a tablet: nothing runs off the side of the screen.
        const [scroll, inner] = await o.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
        assert.ok(scroll <= inner, `${path} at ${size.width}: ${scroll}px wide`);
      }
    }
    // A bad date in a filter is said beside the form, in the page's language.
    await o.setViewportSize(OFFICE);
    await o.goto(server.url + '/central/cases?from=31/02/2026');
    assert.match(await o.textContent('#filter-errors'), /«Từ ngày»: 31\/02\/2026 không phải là ngày có thật/);
    assert.equal(await o.locator('form.filters input[name=from]').count(), 1, 'the form stays to correct it');
    assert.equal(found.length, 0, '\n' + found.map(({ where, v }) =>
      `${where}: ${v.map((x) => `${x.id} (${x.impact}) ${x.nodes.join(' | ')}`).join('; ')}`).join('\n'));
  } finally {
    await device.context.close();
    await office.context.close();
    await server.stop();
    server.cleanup();
  }
});

test('on a phone the list opens on active files above the fold, filters and sorts, and the sync bar stays in view', async () => {
  const server = await startServer();
  const device = await launchDevice();
  try {
    const page = await device.context.newPage();
    const errors = watchErrors(page);
    await page.setViewportSize(PHONE);
    await login(page, server.url);

    // The first file is inside the first screen.
    const first = await page.locator('.case-row').first().boundingBox();
    assert.ok(first.y >= 0 && first.y + first.height <= PHONE.height, `first row at ${first.y}+${first.height}`);
    const bar = await page.locator('[data-testid=sync-bar]').boundingBox();
    assert.ok(bar.height <= 60, `the sync bar is one line: ${bar.height}px`);

    // Active files by default; official members one choice away.
    const stages = () => page.$$eval('.case-row .stage', (els) => els.map((e) => e.textContent));
    const active = await stages();
    assert.ok(active.length > 0);
    assert.ok(active.every((s) => !/Đảng viên chính thức|Đã dừng/.test(s)), active.join(', '));
    await page.selectOption('select[name=view]', 'official');
    const official = await stages();
    assert.ok(official.length > 0 && official.every((s) => /Đảng viên chính thức/.test(s)), official.join(', '));
    await page.selectOption('select[name=view]', 'active');

    // Each due badge says what is due; sorted by due date, the nearest comes first.
    const dues = await page.$$eval('[data-testid=due]', (els) => els.map((e) => e.textContent));
    assert.ok(dues.length > 0, 'some file has something due');
    for (const d of dues) assert.match(d, /^[^:]{4,}: (hạn|quá hạn) \d{2}\/\d{2}\/\d{4}$/, d);
    await page.selectOption('select[name=sort]', 'due');
    const order = await page.$$eval('.case-row', (rows) => rows.map((r) => r.querySelector('[data-testid=due]')?.textContent ?? ''));
    const dated = order.map(parseVn);
    const firstUndated = dated.indexOf(null);
    const head = firstUndated < 0 ? dated : dated.slice(0, firstUndated);
    assert.ok(head.length > 0);
    assert.deepEqual([...head].sort(), head, 'nearest due date first');
    assert.ok(dated.slice(head.length).every((d) => d === null), 'files with nothing due come last');
    await page.selectOption('select[name=sort]', 'name');

    // A file not sent yet: the "not sent" filter finds it and only it.
    await device.context.setOffline(true);
    const id = await createCase(page, 'Lọc Chưa Gửi');
    await toList(page);
    await page.check('input[name=unsent]');
    assert.deepEqual(await page.$$eval('.case-row', (r) => r.map((x) => x.dataset.id)), [id]);
    assert.match(await page.textContent('[data-testid=sync-status]'), /Không có mạng/);
    assert.match(await page.textContent('[data-testid=unsynced]'), /1 hồ sơ chưa gửi · cũ nhất/);
    await page.uncheck('input[name=unsent]');
    await device.context.setOffline(false);
    await page.click('button.sync-now');
    await waitSynced(page);

    // Returned by the office: its filter finds the file.
    await page.check('input[name=returned]');
    const returned = await page.$$eval('.case-row', (r) => r.length);
    await page.uncheck('input[name=returned]');
    assert.ok(returned < (await page.$$eval('.case-row', (r) => r.length)), 'the returned filter narrows the list');

    // Nothing found: the empty state says what to do and can clear the filters.
    await page.fill('input[name=q]', 'không ai tên này');
    await page.waitForSelector('[data-testid=empty]');
    assert.match(await page.textContent('[data-testid=empty]'), /«không ai tên này»/);
    await page.click('[data-testid=clear-filters]');
    assert.equal(await page.inputValue('input[name=q]'), '');
    assert.ok((await page.$$eval('.case-row', (r) => r.length)) > active.length, 'all files shown after clearing');

    // Every target on the list is at least 44 px.
    await page.selectOption('select[name=view]', 'active');
    await page.click('.more-filters > summary');
    assert.deepEqual(await smallTargets(page), [], 'list targets');

    // A long case: the sync bar stays at the top while scrolling, and targets are big.
    const later = await laterStageCase(page);
    await openCase(page, later);
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
    assert.deepEqual(await smallTargets(page), [], 'case targets');
    const long = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(long > 3 * PHONE.height, `a long page: ${long}px`);
    for (const y of [PHONE.height, long / 2, long]) {
      await page.evaluate((y) => window.scrollTo(0, y), y);
      await page.waitForTimeout(100);
      const b = await page.locator('[data-testid=sync-bar]').boundingBox();
      assert.ok(Math.abs(b.y) < 1, `sync bar at ${b.y} after scrolling to ${y}`);
      assert.ok(await page.locator('button.sync-now').isVisible());
    }
    assert.deepEqual(errors, []);
  } finally {
    await device.context.close();
    await server.stop();
    server.cleanup();
  }
});

test('findings, checklist items and conflicts take the cadre to the field; a future date asks first; the office sees labels and old → new', async () => {
  let server = await startServer();
  const addr = addrOf(server.url);
  const devA = await launchDevice();
  const devB = await launchDevice();
  const office = await launchDevice();
  try {
    const a = await devA.context.newPage();
    const errors = watchErrors(a);
    await a.setViewportSize(PHONE);
    await login(a, server.url);

    // A new file: the checklist names what the first stage lacks.
    const fresh = await createCase(a, 'Đến Trường Kiểm');
    const checklist = await a.$$eval('[data-testid=checklist] li', (li) => li.map((x) => ({ p: x.dataset.pattern, done: x.classList.contains('done') })));
    assert.ok(checklist.length >= 5, JSON.stringify(checklist));
    assert.ok(checklist.find((x) => x.p === 'person.full_name').done);
    assert.ok(!checklist.find((x) => x.p === 'person.birth_date').done);

    // A finding's link opens the closed section and focuses the field.
    await a.evaluate(() => document.querySelectorAll('details.section').forEach((d) => { d.open = false; }));
    await a.evaluate(() => window.scrollTo(0, 0));
    await a.click('[data-testid=findings] [data-testid=goto-field][data-field="person.birth_date"]');
    const focused = await a.evaluate(() => {
      const el = document.activeElement;
      const r = el.getBoundingClientRect();
      return { path: el.dataset.path, open: el.closest('details').open, top: r.top, bottom: r.bottom };
    });
    assert.equal(focused.path, 'person.birth_date');
    assert.ok(focused.open, 'the section opened');
    assert.ok(focused.top >= 48 && focused.bottom <= PHONE.height, `the field is in view below the sync bar: ${focused.top}`);

    // The refusal of "Chuyển bước" links to its fields too.
    await a.click('[data-testid=advance]');
    await a.waitForSelector('[data-testid=advance-refused] [data-testid=goto-field]');

    // A date after today is asked about before it is recorded.
    await setField(a, 'person.birth_date', '15/03/2000');
    await a.selectOption('[data-path="person.education_level"]', 'upper_secondary');
    await a.waitForTimeout(200);
    await a.click('[data-testid=advance]');
    const next = new Date(Date.now() + 400 * 86400000);
    const future = `${String(next.getUTCDate()).padStart(2, '0')}/${String(next.getUTCMonth() + 1).padStart(2, '0')}/${next.getUTCFullYear()}`;
    await a.fill('input[name=advance_date]', future);
    await a.click('form.advance-form .actions button[type=submit]');
    await a.waitForSelector('[data-testid=future-date]');
    assert.match(await a.textContent('[data-testid=future-date]'), /sau hôm nay/);
    assert.match(await a.textContent('[data-testid=stage]'), /Tạo nguồn/);
    await a.click('[data-testid=future-date-ok]');
    await a.waitForFunction(() => /Lớp nhận thức về Đảng/.test(document.querySelector('[data-testid=stage]').textContent));
    const future_msg = await a.$$eval('[data-testid=findings] li', (li) => li.map((x) => x.textContent).join('\n'));
    assert.match(future_msg, /Ngày cấp giấy chứng nhận là \d{2}\/\d{2}\/\d{4}, sau hôm nay/);
    assert.doesNotMatch(future_msg, /awareness_class|certificate_date/);

    // A conflict in a completed section: two devices write the same field apart.
    const b = await devB.context.newPage();
    await login(b, server.url);
    await toList(a);
    const id = await laterStageCase(a);
    assert.ok(id, 'a file past its first stage');
    await openCase(a, id);
    await openCase(b, id);
    await server.stop();
    await setField(a, 'person.ethnicity', 'Tày');
    // The network is up but the server is not: the bar says which.
    await a.click('button.sync-now');
    await a.waitForFunction(() => /Không kết nối được máy chủ/.test(document.querySelector('[data-testid=sync-status]').textContent), null, { timeout: 20000 });
    await setField(b, 'person.ethnicity', 'Nùng');
    server = await startServer({ dataDir: server.dir, addr });
    for (const p of [a, b, a]) {
      await p.click('button.sync-now');
      await waitSynced(p);
    }
    await a.waitForSelector('[data-testid=conflict-summary] [data-testid=goto-conflict]', { timeout: 30000 });
    const mark = await a.textContent('details.section[data-stage=source] > summary');
    assert.match(mark, /⚠ 1 xung đột/);
    assert.doesNotMatch(mark, /✓/);
    await a.evaluate(() => document.querySelectorAll('details.section').forEach((d) => { d.open = false; }));
    await a.click('[data-testid=goto-conflict][data-conflict="person.ethnicity"]');
    assert.deepEqual(await a.evaluate(() => [document.activeElement.tagName, document.activeElement.dataset.path]), ['INPUT', 'person.ethnicity']);
    await a.waitForSelector('.field[data-pattern="person.ethnicity"] [data-testid=conflict]', { state: 'visible', timeout: 5000 });

    // The office: the conflict by its label, nothing chosen, a confirmation after.
    const o = await office.context.newPage();
    await officeLogin(o, server.url);
    await o.goto(server.url + '/central/conflicts');
    const section = o.locator('section.conflict', { hasText: 'Dân tộc' }).first();
    assert.match(await section.locator('h2').textContent(), /Dân tộc/);
    assert.doesNotMatch(await section.textContent(), /case\.person|Mozilla/);
    assert.equal(await section.locator('input[type=radio]:checked').count(), 0, 'nothing preselected');
    const devices = await section.locator('.value .muted').allTextContents();
    assert.notEqual(devices[0], devices[1], 'the two devices are told apart: ' + devices.join(' / '));
    await section.locator('label.choice', { hasText: '«Nùng»' }).locator('input').check();
    await Promise.all([o.waitForNavigation(), section.locator('button').click()]);
    assert.match(await o.textContent('#resolved-notice'), /Đã giải quyết xung đột Dân tộc.*«Nùng»/s);

    // The history names the field and shows the old and new values.
    await o.goto(`${server.url}/central/cases/${id}`);
    const history = (await o.$$eval('tr.history', (rows) => rows.map((r) => r.textContent))).join('\n');
    assert.match(history, /Dân tộc: [^\n]*→ (Tày|Nùng)/);
    assert.doesNotMatch(history, /case\.person|Mozilla\/5\.0/);
    const whole = await o.textContent('.case-file');
    assert.match(whole, /Lần biểu quyết|Người giới thiệu/);
    assert.deepEqual(errors, []);
  } finally {
    await devA.context.close();
    await devB.context.close();
    await office.context.close();
    await server.stop();
    server.cleanup();
  }
});

test('finding messages in Vietnamese have no English words, no paths and no empty source, in both apps', async () => {
  const server = await startServer();
  const device = await launchDevice();
  const office = await launchDevice();
  const english = /\b(the|and|or|of|is|are|not|date|vote|file|branch|check|record|missing|before|after|must)\b/i;
  const path = /\[\]|\b[a-z_]+\.[a-z_]+\b/;
  try {
    const page = await device.context.newPage();
    await login(page, server.url);
    await page.selectOption('select[name=view]', 'all');
    const ids = await page.$$eval('.case-row', (rows) => rows.map((r) => r.dataset.id));
    let seen = 0;
    for (const id of ids.slice(0, 25)) {
      await openCase(page, id);
      const items = await page.$$eval('[data-testid=findings] li, [data-testid=checklist] li, [data-testid=next-due]', (li) => li.map((x) => ({
        msg: (x.querySelector('.msg') ?? x).textContent,
        src: x.querySelector('.src')?.textContent,
      })));
      for (const { msg, src } of items) {
        seen += 1;
        assert.doesNotMatch(msg, english, msg);
        assert.doesNotMatch(msg, path, msg);
        if (src !== undefined) {
          assert.ok(src.trim() !== '' && !/^[—\s·]*$/.test(src) && !/· —|— ·/.test(src), `empty source: «${src}»`);
        }
      }
    }
    assert.ok(seen > 20, `messages checked: ${seen}`);

    const o = await office.context.newPage();
    await officeLogin(o, server.url);
    await o.goto(server.url + '/central/findings');
    const msgs = await o.$$eval('main li[data-code]', (li) => li.map((x) => x.textContent));
    assert.ok(msgs.length > 10);
    for (const m of msgs) {
      assert.doesNotMatch(m, english, m);
      assert.doesNotMatch(m, path, m);
      assert.doesNotMatch(m, /\b[A-Z]+_[A-Z_]+\b/, `a rule named by its code: ${m}`);
    }
  } finally {
    await device.context.close();
    await office.context.close();
    await server.stop();
    server.cleanup();
  }
});

/** The files of a ZIP archive (an XLSX), read from its central directory. */
function unzip(buf) {
  const files = {};
  let end = buf.length - 22;
  while (end >= 0 && buf.readUInt32LE(end) !== 0x06054b50) end -= 1;
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    files[name] = (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

test('spreadsheets say Có/Không, open with filter buttons, and are named after what they hold', async () => {
  const server = await startServer();
  try {
    const r = await fetch(server.url + '/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bantochuc', password: PASSWORD, device_name: 'test' }),
    });
    const { token } = await r.json();
    const get = (path) => fetch(server.url + path, { headers: { authorization: 'Bearer ' + token } });
    const resp = await get('/api/review/export/cases?org=phuong-11');
    assert.equal(resp.status, 200);
    const name = /filename="([^"]+)"/.exec(resp.headers.get('content-disposition'))?.[1];
    assert.match(name, /^ho-so-.*lach-tray.*-\d{4}-\d{2}-\d{2}\.xlsx$/, name);
    const files = unzip(Buffer.from(await resp.arrayBuffer()));
    assert.match(files['xl/worksheets/sheet1.xml'], /<autoFilter ref="A1:/);
    const strings = files['xl/sharedStrings.xml'] ?? files['xl/worksheets/sheet1.xml'];
    assert.match(strings, /Có|Không/);
    const english = await get('/api/review/export/findings?org=phuong-11&lang=en');
    assert.match(english.headers.get('content-disposition'), /filename="findings-.*-\d{4}-\d{2}-\d{2}\.xlsx"/);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
