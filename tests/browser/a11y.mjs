// Accessibility checks shared by the browser tests: axe-core (from npm, injected into
// the page through the DevTools protocol, so the pages' Content-Security-Policy stays
// as it is) and the size of what a finger must hit on a phone.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const PHONE = { width: 360, height: 740 };
export const OFFICE = { width: 1366, height: 768 };
export const TABLET = { width: 768, height: 1024 };

/** Critical and serious axe-core violations on the page as it is now. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE_SOURCE);
  }
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'critical' || v.impact === 'serious')
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ')) }));
  });
}

/** Fails with the list of violations when axe-core finds a critical or serious one. */
export async function assertAccessible(page, where) {
  const found = await axeViolations(page);
  assert.deepEqual(found, [], `${where}: ${JSON.stringify(found, null, 1)}`);
}

/**
 * Visible things a finger must hit that are smaller than `min` px either way. A
 * checkbox or radio counts by its label, which is what the finger hits; a link inside
 * running text is exempt (WCAG 2.5.8's inline exception).
 */
export async function smallTargets(page, min = 44) {
  return page.evaluate((min) => {
    const out = [];
    const seen = new Set();
    for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary, [role=button]')) {
      if (el.type === 'hidden') continue;
      let target = el;
      if (el.type === 'checkbox' || el.type === 'radio') target = el.closest('label') ?? el;
      if (seen.has(target)) continue;
      seen.add(target);
      const r = target.getBoundingClientRect();
      const style = getComputedStyle(target);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      if (target.closest('details:not([open])') && target.tagName !== 'SUMMARY') continue;
      if (el.tagName === 'A' && getComputedStyle(el).display === 'inline' && el.closest('p, li > span, td')) continue;
      if (r.height < min - 0.5 || r.width < min - 0.5) {
        out.push(`${target.tagName.toLowerCase()}${target.className ? '.' + String(target.className).replace(/\s+/g, '.') : ''} "${(target.textContent || target.name || '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return out;
  }, min);
}
