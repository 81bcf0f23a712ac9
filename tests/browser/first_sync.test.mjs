// The first sync of a new device takes whole documents: the list fills page by page and
// is usable while the rest arrives, a connection cut in the middle of it and a browser
// closed then loses nothing, and the sync goes on from the last stored page instead of
// starting again. Pages are made small (the request's max_bytes) so the demo ward's
// files take several.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchDevice } from './support.mjs';
import { PASSWORD, waitSynced, openCase, apiAs, watchErrors } from './app_helpers.mjs';

const PAGE_BYTES = 24 * 1024;

/** How many files the list holds (its count line: "shown / all"). */
const listed = () => {
  const m = /\/\s*([\d.]+)/.exec(document.querySelector('[data-testid=count]')?.textContent ?? '');
  return m ? Number(m[1].replace(/\./g, '')) : -1;
};

/** Sends every sync request with small pages and records what the server answered. */
async function smallPages(page, seen, { cutAfter = Infinity } = {}) {
  let answered = 0;
  await page.route('**/api/sync', async (route) => {
    if (answered >= cutAfter) {
      await route.abort('internetdisconnected');
      return;
    }
    const req = route.request();
    const body = JSON.parse(req.postData());
    body.max_bytes = PAGE_BYTES;
    const resp = await route.fetch({ postData: JSON.stringify(body) });
    const json = await resp.json();
    answered += 1;
    seen.push({ request: body, whole: json.whole?.map((w) => w.doc_id) ?? [], resume: json.resume, remaining: json.remaining });
    await route.fulfill({ response: resp, json });
  });
}

test('an interrupted first sync of whole files goes on where it stopped after a restart', async () => {
  const server = await startServer();
  let device = await launchDevice();
  const profile = device.dir;
  try {
    const api = await apiAs(server.url);
    const ward = await api('GET', '/api/review/cases?org=phuong-11');
    const files = ward.total;
    assert.ok(files > 20, `the ward has files for several pages (${files})`);

    // First sign-in; the connection drops after two pages of files.
    let page = await device.context.newPage();
    const errors = watchErrors(page);
    const before = [];
    await smallPages(page, before, { cutAfter: 2 });
    // Signing in as `login` does, without waiting for a sync that cannot finish.
    await page.goto(server.url + '/');
    await page.waitForSelector('form.login', { timeout: 30000 });
    await page.fill('form.login input[name=username]', 'canbo.lachtray');
    await page.fill('form.login input[type=password]', PASSWORD);
    await page.click('form.login button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.sync')?.classList.contains('offline')
      || document.querySelector('.sync')?.classList.contains('error'), null, { timeout: 30000 });
    const got = before.flatMap((s) => s.whole);
    assert.ok(got.length > 0 && before[1].resume, `two pages came, with a resume point: ${JSON.stringify(before.map((s) => s.resume))}`);
    assert.ok(before[1].remaining > 0, 'files were still to come');
    // The list shows what arrived, and a file received whole opens (parsed on demand).
    await page.waitForFunction(`(${listed})() === ${got.length}`);
    await openCase(page, got[0]);
    assert.notEqual(await page.inputValue('[data-path="person.full_name"]'), '');
    assert.deepEqual(errors, []);

    // The browser closes; opened again, the sync goes on from the second page's point.
    await device.context.close();
    device = await launchDevice(profile);
    page = await device.context.newPage();
    const errors2 = watchErrors(page);
    const after = [];
    await smallPages(page, after);
    await page.goto(server.url + '/');
    await waitSynced(page, 90000);
    assert.equal(after[0].request.cursor, 0);
    assert.equal(after[0].request.resume, before[1].resume, 'the first request goes on from the stored point');
    const again = after.flatMap((s) => s.whole);
    for (const id of again) assert.ok(!got.includes(id), `${id} came twice`);
    assert.equal(got.length + again.length, files, 'every file came once');
    await page.waitForFunction(`(${listed})() === ${files}`);
    assert.deepEqual(errors2, []);
  } finally {
    await device.context.close();
    await server.stop();
  }
});
