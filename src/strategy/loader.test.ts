import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import { OrderType } from '../model/order.ts';
import { EmaCross } from './builtin/ema-cross.ts';
import { BUILTIN_STRATEGIES } from './builtin/index.ts';
import { MarketTopics } from './context.ts';
import { importWithTsx, loadStrategyFile, resolveStrategy, validateStrategyClass } from './loader.ts';
import { parseParams } from './params.ts';
import { isStrategyClass, Strategy } from './strategy.ts';
import { MINUTE, makeStrategyKit, START } from './test-kit.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/my-strategy.ts');
const STRATEGY_URL = pathToFileURL(resolve(import.meta.dirname, 'strategy.ts')).href;
const PARAMS_URL = pathToFileURL(resolve(import.meta.dirname, 'params.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'bot4-strategy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

async function loadError(path: string, exportName?: string): Promise<Bot4Error> {
  try {
    await loadStrategyFile(path, exportName === undefined ? {} : { exportName });
  } catch (e) {
    if (e instanceof Bot4Error) return e;
    throw e;
  }
  throw new Error('expected a Bot4Error');
}

const strategySource = (name: string, withParams = true) => `
import { Strategy } from '${STRATEGY_URL}';
import { int } from '${PARAMS_URL}';
export class ${name} extends Strategy {
  ${withParams ? 'static params = { n: int({ default: 1, description: "n" }) };' : ''}
}
`;

describe('loadStrategyFile', () => {
  it('loads the example user strategy and runs it through a host', async () => {
    const cls = await loadStrategyFile(EXAMPLE);
    expect(cls.name).toBe('AboveEma');
    expect(Object.keys(cls.params)).toEqual(['instrument', 'period', 'qty']);
    const params = parseParams(cls.params, ['period=3', 'qty=0.002'], 'examples/my-strategy.ts');
    const k = makeStrategyKit();
    const host = k.run(new cls(params));
    expect(host.subscriptions.bars.map((b) => b.intervalMicros)).toEqual([MINUTE]);
    // Falling then rising closes: the close crosses above its EMA once, a market buy of 0.002 BTC.
    [100, 99, 98, 97, 99, 101, 102].forEach((c, i) => {
      k.bar(k.btc.id, START + i * MINUTE, MINUTE, c, c, c, c);
      if (i === 5) k.fillOpen(OrderType.MARKET, c);
    });
    const submits = k.venue.calls.filter((c) => c.op === 'submit');
    expect(submits.map((c) => c.qty)).toEqual([2]);
    expect(k.bus.topic(MarketTopics.BARS).published).toBe(7);
    expect(k.portfolio.netQty(k.btc.id)).toBe(2);
  });

  it('also loads it the way a plain Node 20 does, through tsx (a separate module copy)', async () => {
    const mod = await importWithTsx(pathToFileURL(EXAMPLE).href, EXAMPLE);
    const cls = mod['default'];
    // Another copy of strategy.ts: not the same class object, still recognised by its brand.
    expect(isStrategyClass(cls)).toBe(true);
    expect(Object.getPrototypeOf(cls)).not.toBe(Strategy);
    expect(validateStrategyClass(cls, 'example').name).toBe('AboveEma');
  });

  it('reports a missing file with its absolute path', async () => {
    const e = await loadError('no/such/strategy.ts');
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe(
      `strategy file not found: ${resolve('no/such/strategy.ts')} (given as 'no/such/strategy.ts')`,
    );
  });

  it('reports a file that exports no strategy, listing its exports', async () => {
    const p = file('none.mjs', 'export const x = 1;\nexport default function helper() {}\n');
    const e = await loadError(p);
    expect(e.message).toBe(
      `strategy file ${p}: exports no Strategy subclass; its exports are: default (function), x (number). Its default export is a function (helper) that does not extend Strategy.`,
    );
  });

  it('reports several strategies without a default, and takes one by name', async () => {
    const p = file(
      'two.ts',
      `${strategySource('Alpha')}\n${strategySource('Beta').split('\n').slice(3).join('\n')}`,
    );
    const e = await loadError(p);
    expect(e.message).toBe(
      `strategy file ${p}: exports several strategies (Alpha, Beta) and none as default; export one as default or pick one with ${p}:Alpha`,
    );
    expect((await loadStrategyFile(p, { exportName: 'Beta' })).name).toBe('Beta');
    expect((await resolveStrategy(`${p}:Alpha`)).name).toBe('Alpha');
    expect((await loadError(p, 'Gamma')).message).toMatch(
      /has no export named 'Gamma'; its exports are: Alpha/,
    );
  });

  it('prefers the default export, and takes a lone named one', async () => {
    const one = file('one.ts', strategySource('Solo'));
    expect((await loadStrategyFile(one)).name).toBe('Solo');
    const withDefault = file(
      'def.ts',
      `${strategySource('Main')}\n${strategySource('Other').split('\n').slice(3).join('\n')}\nexport default Main;\n`,
    );
    expect((await loadStrategyFile(withDefault)).name).toBe('Main');
  });

  it('requires a parameter schema of its own, and a valid one', async () => {
    const p = file('noparams.ts', strategySource('Bare', false));
    expect((await loadError(p)).message).toMatch(
      /class Bare\) declares no parameter schema: add `static override readonly params = \{ \.\.\. \}` \(use \{\} for none\)/,
    );
    const bad = file(
      'badparams.ts',
      `import { Strategy } from '${STRATEGY_URL}';\nexport default class Bad extends Strategy { static params = { n: { type: 'int', default: 'x', description: '' } }; }\n`,
    );
    expect((await loadError(bad)).message).toMatch(/parameter 'n' default must be a finite integer, got x/);
  });

  it('wraps a file that fails to import, and refuses other extensions', async () => {
    const p = file('broken.mjs', 'export const = ;\n');
    expect((await loadError(p)).message).toMatch(new RegExp(`^strategy file ${p}: failed to load: `));
    const txt = file('s.txt', '');
    expect((await loadError(txt)).message).toBe(
      `strategy file ${txt}: has extension '.txt'; a strategy file is .ts, .mts, .js or .mjs`,
    );
  });
});

describe('resolveStrategy and the built-in registry', () => {
  it('finds built-ins by name and explains an unknown name', async () => {
    expect(await resolveStrategy('ema-cross')).toBe(EmaCross);
    await expect(resolveStrategy('ema')).rejects.toThrow(
      "unknown strategy 'ema': built-in strategies are ema-cross, mean-reversion, donchian-breakout, market-maker, pairs, ml-signal; or give a .ts/.js file",
    );
  });

  it('lists only valid strategy classes with descriptions and defaults that construct', () => {
    for (const [name, cls] of Object.entries(BUILTIN_STRATEGIES)) {
      expect(validateStrategyClass(cls, name)).toBe(cls);
      expect(cls.description.length).toBeGreaterThan(10);
      expect(new cls().params).toEqual(parseParams(cls.params, []));
    }
  });
});
