import { startServer, launchDevice } from './support.mjs';
const server = await startServer();
const { context } = await launchDevice();
const page = await context.newPage();
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('request', (r) => console.log('start', r.method(), r.url()));
page.on('requestfinished', (r) => console.log('req', r.method(), r.url()));
page.on('requestfailed', (r) => console.log('fail', r.method(), r.url(), r.failure()?.errorText));
page.on('pageerror', (e) => console.log('pageerror', String(e)));
await page.goto(server.url + '/');
await page.waitForSelector('form.login');
await page.fill('form.login input[name=username]', 'canbo.lachtray');
await page.fill('form.login input[type=password]', 'demo2026');
await page.click('form.login button[type=submit]');
for (let i = 0; i < 8; i++) {
  await page.waitForTimeout(1500);
  const t = await page.evaluate(() => document.body.innerText.slice(0, 400) + (document.querySelector('header.top')?.innerText ?? '') + ' | rows=' + document.querySelectorAll('.case-row').length + ' | ' + (document.querySelector('.banner')?.innerText ?? ''));
  console.log(t.replace(/\n/g, ' / '));
}
await context.close(); await server.stop(); server.cleanup();
