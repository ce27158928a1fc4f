// The web console in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against a paper
// node trading on the in-process local exchange server: a wrong token is refused at the login; the operator
// token logs in; a position appears after the node's first fill; the kill switch button halts trading (the
// state shows HALTED, the node's risk engine is halted, no order is sent afterwards); the read-only token sees
// the console with its buttons disabled. Screenshots go to a temp dir and must not be blank.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import { present } from '../core/test-resources.ts';
import { TradingState } from '../risk/risk-engine.ts';
import { type ControlRig, startRig } from './control.test-util.ts';

const CHROMIUM = '/usr/bin/chromium';

/** The little of the page's DOM the waits read (the project's types have no DOM; the casts are erased). */
interface PageGlobals {
  document: {
    querySelector(s: string): { textContent: string | null } | null;
    querySelectorAll(s: string): Iterable<{ textContent: string | null }>;
  };
}
const shots = mkdtempSync(join(tmpdir(), 'bot4-console-shots-'));

describe.skipIf(!present(CHROMIUM, "Debian's chromium (.ci/run installs it)"))(
  'web console in Chromium',
  () => {
    let rig: ControlRig;
    let browser: Browser;
    beforeAll(async () => {
      rig = await startRig();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu'],
        timeout: 30_000,
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await rig?.close();
      rmSync(shots, { recursive: true, force: true });
    }, 20_000);

    async function shot(page: Page, name: string): Promise<void> {
      const file = join(shots, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
      expect(statSync(file).size, `screenshot ${name}`).toBeGreaterThan(10_000);
    }

    async function login(page: Page, token: string): Promise<void> {
      await page.goto(rig.url, { timeout: 10_000 });
      await page.fill('#token', token, { timeout: 10_000 });
      await page.click('#login', { timeout: 10_000 });
    }

    it('logs in, shows a position after a fill, and the kill switch halts trading', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });

      await login(page, `${rig.operator}x`);
      await page.waitForSelector('.login .error', { timeout: 10_000 });
      expect(await page.textContent('.login .error')).toMatch(/^401/);
      await shot(page, 'login-refused');
      errors.length = 0; // the refused login's 401 was the point

      await login(page, rig.operator);
      await page.waitForSelector('#trading-state', { timeout: 10_000 });
      // The node's strategy buys on its first up-cross; the console shows the position once it fills.
      await page.waitForFunction(
        () =>
          [
            ...(globalThis as unknown as PageGlobals).document.querySelectorAll(
              '#positions tbody tr td:nth-child(2)',
            ),
          ].some((c) => Number(c.textContent) !== 0),
        undefined,
        { timeout: 40_000 },
      );
      expect(rig.node.counters.fills).toBeGreaterThan(0);
      expect(await page.textContent('#trading-state')).toBe('ACTIVE');
      await page.waitForSelector('#equity-chart canvas', { timeout: 10_000 });
      await shot(page, 'position');

      await page.click('#kill', { timeout: 10_000 });
      await page.waitForFunction(
        () =>
          (globalThis as unknown as PageGlobals).document.querySelector('#trading-state')?.textContent ===
          'HALTED',
        undefined,
        { timeout: 10_000 },
      );
      expect(rig.node.kernel.risk.tradingState).toBe(TradingState.HALTED);
      await page.waitForSelector('#kill-report', { timeout: 10_000 });
      // Trading has stopped: no order reaches the venue while halted (the strategy's tries are denied).
      const sent = rig.node.counters.submitted;
      await new Promise((r) => setTimeout(r, 1500));
      expect(rig.node.counters.submitted).toBe(sent);
      await page.waitForFunction(
        () =>
          (globalThis as unknown as PageGlobals).document
            .querySelector('#log')
            ?.textContent?.includes('kill switch') === true,
        undefined,
        { timeout: 10_000 },
      );
      await shot(page, 'halted');
      expect(errors).toEqual([]);
      if (process.env.BOT4_KEEP_SHOTS !== undefined) {
        const { cpSync } = await import('node:fs');
        cpSync(shots, process.env.BOT4_KEEP_SHOTS, { recursive: true });
      }
      await page.close();
    }, 90_000);

    it('the read-only token sees the console with the operator buttons disabled', async () => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await login(page, rig.read);
      await page.waitForSelector('#trading-state', { timeout: 10_000 });
      expect(await page.isDisabled('#kill')).toBe(true);
      expect(await page.isDisabled('#flatten')).toBe(true);
      await waitFor(() => rig.node.kernel.risk.tradingState === TradingState.HALTED, 'still halted', 1000);
      await shot(page, 'read-only');
      await page.close();
    }, 60_000);
  },
);
