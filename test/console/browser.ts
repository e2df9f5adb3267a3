/**
 * A real Chromium for the console's end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a downloaded browser), headless, with axe-core for the accessibility check.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core on the page as it is now and returns the serious and critical violations, each with
 * the elements it found (so a failing test says what to fix). Evaluated through the DevTools protocol,
 * which the page's Content-Security-Policy does not restrict.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  // Page code as text: the tests are type-checked without the DOM library.
  const violations = await page.evaluate<AxeViolation[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}: ${v.nodes[0]?.failureSummary ?? ''}`,
    );
}

const repo = resolve(import.meta.dirname, '../..');

/**
 * A screenshot of the page for docs/console.md. Written into docs/console/ when UPDATE_SCREENSHOTS=1
 * (so an ordinary test run leaves the tree clean), else into the test's own folder.
 */
export async function screenshot(page: Page, name: string, scratch: string): Promise<void> {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? join(repo, 'docs', 'console') : scratch;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}
