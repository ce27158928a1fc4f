// `bot4 profile -- backtest --demo` end to end: the child runs under --cpu-prof, the terminal gets the top
// functions by self time, and the flamegraph page renders offline in a real headless Chromium (the profile is
// loaded and drawn: the screenshot has many colours, not a blank or error page).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatTopFunctions, readCpuProfile, topSelfTime } from '../monitoring/cpu-profile.ts';
import { perfUnavailable } from './profile-command.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function bot4(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
}

describe('bot4 profile', () => {
  const out = mkdtempSync(join(tmpdir(), 'bot4-profile-'));
  let stdout = '';

  it('profiles a demo backtest: top functions printed, profile and flamegraph written, exit code passed on', () => {
    const r = bot4([
      'profile',
      '--out',
      out,
      '--top',
      '10',
      '--',
      'backtest',
      '--demo',
      '--hours',
      '6',
      '--out',
      join(out, 'bt'),
      '--no-progress',
    ]);
    stdout = r.stdout;
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(
      /Top 10 functions by self time \(main thread\):\n\s+self %\s+self ms\s+function\n/,
    );
    // The engine's own code is among the hottest functions of a backtest.
    expect(r.stdout).toMatch(/\(src\/(backtest|portfolio|venues|strategy|execution)\//);
    const profile = readCpuProfile(join(out, 'main.cpuprofile'));
    expect(profile.samples!.length).toBeGreaterThan(100);
    const top = topSelfTime(profile, 10, ROOT);
    // The printed table is the profile's own top ten.
    for (const line of formatTopFunctions(top).slice(1)) expect(r.stdout).toContain(line);
    const html = readFileSync(join(out, 'flamegraph.html'), 'utf8');
    expect(html).not.toMatch(/<script src=|<link rel="stylesheet" href=/);
    const bad = bot4(['profile', '--out', join(out, 'bad'), '--', 'backtest', '--demo', '--hours', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--hours must be > 0/);
  }, 300_000);

  it('--perf records with Linux perf and JIT symbols where it can, and says why not where it cannot', () => {
    const dir = join(out, 'perf');
    const r = bot4([
      'profile',
      '--perf',
      '--out',
      dir,
      '--',
      'backtest',
      '--demo',
      '--hours',
      '1',
      '--out',
      join(dir, 'bt'),
      '--no-progress',
    ]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const why = perfUnavailable();
    if (why === undefined) {
      // --perf-basic-prof maps JIT code to JavaScript names: perf's samples name our functions.
      expect(readFileSync(join(dir, 'perf.script'), 'utf8')).toMatch(/JS:\S*\s/);
    } else {
      expect(r.stderr).toContain(`--perf unavailable here (${why})`);
    }
    expect(existsSync(join(dir, 'flamegraph.html'))).toBe(true);
  }, 300_000);

  const browser = existsSync(CHROMIUM);
  if (!browser && process.env.CI) throw new Error('chromium is missing in CI: .ci/run installs it');
  it.skipIf(!browser)(
    'the flamegraph renders offline in headless Chromium (screenshot not blank)',
    async () => {
      expect(stdout, 'the profile test above must run first').toContain('flamegraph:');
      const b = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
      try {
        const page = await b.newPage({ viewport: { width: 1400, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        // No network: every request but the page itself fails, so an asset left outside the file shows.
        await page.route(/^(?!file:)/, (route) => route.abort());
        await page.goto(`file://${join(out, 'flamegraph.html')}`);
        // speedscope names the page after the loaded profile once it has imported it.
        await page.waitForFunction("document.title.includes('bot4 backtest')", undefined, {
          timeout: 60_000,
        });
        await page.waitForTimeout(1000);
        const text = await page.evaluate<string>('document.body.innerText');
        expect(text).not.toContain('Something went wrong');
        const png = await page.screenshot();
        writeFileSync(join(out, 'flamegraph.png'), png);
        // Count the colours of the screenshot in the page itself (a blank or error page has a handful).
        const colours = await page.evaluate<number>(`(async () => {
        const img = new Image();
        img.src = 'data:image/png;base64,${png.toString('base64')}';
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        return seen.size;
      })()`);
        expect(colours, `screenshot ${join(out, 'flamegraph.png')}`).toBeGreaterThan(40);
        expect(errors).toEqual([]);
      } finally {
        await b.close();
      }
    },
    120_000,
  );
});
