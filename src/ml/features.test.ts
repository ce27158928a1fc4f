import { describe, expect, it } from 'vitest';
import { DEMO_INSTRUMENT, DEMO_START, demoMarket, Rng } from '../backtest/demo-market.ts';
import { createIndicator, getIndicator } from '../indicators/registry.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { EventBatch, RecordKind } from '../model/market-data.ts';
import { buildDataset, parseLabel } from './dataset.ts';
import { FeatureEngine, parseFeatureSpec } from './features.ts';

const MIN = 60_000_000;
/** The demo instrument's id in a fresh registry (the first one added). */
const DEMO_ID = 0;

describe('feature spec', () => {
  it('derives names and refuses bad input naming the feature and key', () => {
    const s = parseFeatureSpec({
      interval: '1m',
      features: [
        { kind: 'indicator', indicator: 'rsi', params: { period: 14 } },
        { kind: 'indicator', indicator: 'macd', output: 'signal' },
        { kind: 'return', window: 5 },
        { kind: 'volatility', window: 20 },
        { kind: 'imbalance', levels: 5 },
        { kind: 'vpin', bucket: 100, buckets: 10 },
        { kind: 'time-of-day', encoding: 'sin' },
      ],
    });
    expect(s.names).toEqual(['rsi_14', 'macd_signal', 'ret_5', 'vol_20', 'imb_5', 'vpin_100x10', 'tod_sin']);
    expect(s.needsBook && s.needsTrades).toBe(true);
    expect(s.intervalMicros).toBe(MIN);
    const spec = (f: unknown) => () => parseFeatureSpec({ interval: '1m', features: [f] }, 'spec.json');
    expect(spec({ kind: 'wavelet' })).toThrow(
      /spec.json: feature kind "wavelet" is not one of indicator, return/,
    );
    expect(spec({ kind: 'return', window: 0 })).toThrow(/'window' must be a whole number from 1/);
    expect(spec({ kind: 'indicator', indicator: 'rsi', params: { period: -1 } })).toThrow(
      /rsi: parameter 'period'/,
    );
    expect(spec({ kind: 'indicator', indicator: 'obi' })).toThrow(/features take bar inputs only/);
    expect(spec({ kind: 'indicator', indicator: 'macd', output: 'nope' })).toThrow(
      /output "nope" is not one of macd/,
    );
    expect(() =>
      parseFeatureSpec({
        interval: '1m',
        features: [
          { kind: 'return', window: 5 },
          { kind: 'return', window: 5 },
        ],
      }),
    ).toThrow(/two features are named 'ret_5'/);
    expect(() => parseFeatureSpec({ interval: 'soon', features: [{ kind: 'spread' }] })).toThrow(
      /interval 'soon'/,
    );
  });
});

describe('FeatureEngine', () => {
  it('bar features equal a direct computation over the same closes', () => {
    const spec = parseFeatureSpec({
      interval: '1m',
      features: [
        { kind: 'indicator', indicator: 'ema', params: { period: 5 } },
        { kind: 'indicator', indicator: 'atr', params: { period: 3 } },
        { kind: 'return', window: 3 },
        { kind: 'volatility', window: 4 },
        { kind: 'time-of-day' },
      ],
    });
    const e = new FeatureEngine(spec);
    const ema = createIndicator('ema', { period: 5 });
    const atr = createIndicator('atr', { period: 3 });
    const rng = new Rng(3);
    const closes: number[] = [];
    for (let t = 0; t < 200; t++) {
      const c = 1000 + 50 * Math.sin(t / 9) + 10 * rng.next();
      const h = c + 3;
      const l = c - 4;
      closes.push(c);
      const ts = DEMO_START + (t + 1) * MIN + 17;
      e.time[0] = ts;
      e.onBar(c, h, l, c, 5);
      expect(e.row[0]).toBe(ema.update(c));
      expect(e.row[1]).toBe(atr.update(h, l, c));
      expect(e.row[2]).toBe(t >= 3 ? Math.log(c / closes[t - 3]!) : Number.NaN);
      if (t >= 4) {
        const r = [1, 2, 3, 4].map((k) => Math.log(closes[t - 4 + k]! / closes[t - 5 + k]!));
        const m = r.reduce((a, b) => a + b) / 4;
        const sd = Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / 3);
        expect(Math.abs(e.row[3]! - sd)).toBeLessThan(1e-12);
      } else expect(e.row[3]).toBeNaN();
      expect(e.row[4]).toBeCloseTo(((ts % 86_400_000_000) / 86_400_000_000) as number, 12);
    }
  });

  it('every output of every bar indicator equals the indicator fed directly, output 0 included', () => {
    // Output 0 is read like the others: the update's return value is not always output 0 (bbands, keltner and
    // donchian return the middle band, aroon its oscillator), and the engine once wrote that return value.
    const defs = [
      ...['upper', 'middle', 'lower'].map((output) => ({ indicator: 'bbands', output })),
      ...['upper', 'middle', 'lower'].map((output) => ({ indicator: 'keltner', output })),
      ...['upper', 'middle', 'lower'].map((output) => ({ indicator: 'donchian', output })),
      ...['up', 'down', 'oscillator'].map((output) => ({ indicator: 'aroon', output })),
      ...['macd', 'signal', 'histogram'].map((output) => ({ indicator: 'macd', output })),
      { indicator: 'stoch', output: 'd' },
      { indicator: 'cci', output: 0 },
      { indicator: 'willr', output: 0 },
      { indicator: 'obv', output: 0 },
    ];
    const e = new FeatureEngine(
      parseFeatureSpec({
        interval: '1m',
        features: defs.map((d, i) => ({ kind: 'indicator', ...d, name: `f${i}` })),
      }),
    );
    const direct = new Map(
      ['bbands', 'keltner', 'donchian', 'aroon', 'macd', 'stoch', 'cci', 'willr', 'obv'].map((n) => [
        n,
        createIndicator(n),
      ]),
    );
    const rng = new Rng(5);
    for (let t = 0; t < 120; t++) {
      const c = 1000 + 40 * Math.sin(t / 7) + 10 * rng.next();
      const o = c - 2;
      const h = c + 3 + rng.next();
      const l = c - 4;
      const v = 5 + (t % 3);
      e.time[0] = DEMO_START + t * MIN;
      e.onBar(o, h, l, c, v);
      for (const [name, ind] of direct) {
        if (name === 'obv') ind.update(c, v);
        else if (name === 'bbands' || name === 'macd') ind.update(c);
        else if (name === 'donchian' || name === 'aroon') ind.update(h, l);
        else ind.update(h, l, c);
      }
      defs.forEach((d, i) => {
        const spec = getIndicator(d.indicator);
        const k = typeof d.output === 'number' ? d.output : spec.outputs.indexOf(d.output);
        expect(
          Object.is(e.row[i], direct.get(d.indicator)!.output(k)),
          `${d.indicator} ${d.output} bar ${t}`,
        ).toBe(true);
      });
    }
  });

  it('book and trade-flow features equal a direct computation', () => {
    const spec = parseFeatureSpec({
      interval: '1m',
      features: [
        { kind: 'spread' },
        { kind: 'microprice' },
        { kind: 'imbalance' },
        { kind: 'signed-volume', window: 4 },
        { kind: 'trade-intensity', window: 3 },
        { kind: 'vpin', bucket: 10, buckets: 3 },
      ],
    });
    const e = new FeatureEngine(spec);
    e.onQuote(999, 3, 1001, 1);
    const trades: [number, number, number, number][] = [
      [1e6, 1000, 4, 1],
      [2e6, 1001, 7, -1],
      [2.5e6, 1002, 9, 0], // tick rule: up-tick, a buy
      [4e6, 1002, 5, 0], // unchanged: the last sign (buy)
      [5e6, 1000, 12, -1],
    ];
    for (const [ts, px, q, s] of trades) e.onTrade(ts, px, q, s);
    e.time[0] = 6e6;
    e.onBar(1, 1, 1, 1, 1);
    const r = e.row;
    expect(r[0]).toBeCloseTo((2 / 1000) * 1e4, 12);
    expect(r[1]).toBeCloseTo((((999 * 1 + 1001 * 3) / 4 - 1000) / 1000) * 1e4, 12);
    expect(r[2]).toBe(0.5);
    expect(r[3]).toBe(-7 + 9 + 5 - 12);
    expect(r[4]).toBeCloseTo(2 / 2.5, 12); // the last 3 trades span 2.5 s: 2 gaps
    // Buckets of 10: [4b 6s] -> 0.2; [1s 9b] -> 0.8; [5b 5s] -> 0; then 7s left over.
    expect(r[5]).toBeCloseTo((0.2 + 0.8 + 0) / 3, 12);
  });
});

/** The demo market's batches, copied (the generator refills one batch). */
function demoBatches(seed: number, hours: number): EventBatch[] {
  const out: EventBatch[] = [];
  for (const b of demoMarket(DEMO_ID, { seed, duration: hours * 3_600_000_000, meanGapMicros: 200_000 })) {
    const c = new EventBatch(b.length);
    for (let i = 0; i < b.length; i++) c.copyRow(b, i);
    out.push(c);
  }
  return out;
}

const SPEC = parseFeatureSpec({
  interval: '1m',
  features: [
    { kind: 'indicator', indicator: 'rsi', params: { period: 14 } },
    { kind: 'indicator', indicator: 'bbands', params: { period: 20 }, output: 'upper' },
    { kind: 'return', window: 5 },
    { kind: 'volatility', window: 30 },
    { kind: 'spread' },
    { kind: 'microprice' },
    { kind: 'imbalance' },
    { kind: 'signed-volume', window: 50 },
    { kind: 'trade-intensity', window: 50 },
    { kind: 'vpin', bucket: 200, buckets: 20 },
    { kind: 'time-of-day', encoding: 'cos' },
  ],
});

async function dataset(batches: EventBatch[]) {
  const instruments = newInstrumentRegistry();
  expect(instruments.add(DEMO_INSTRUMENT).id).toBe(DEMO_ID);
  return buildDataset({
    spec: SPEC,
    data: { batches, instruments, label: 'demo' },
    label: parseLabel('forward-return:5m'),
    catalogDir: '',
  });
}

describe('no look-ahead through the engine', () => {
  it('perturbing every input after time t changes no feature row at or before t', async () => {
    const base = demoBatches(7, 3);
    const a = await dataset(base);
    expect(a.table.n).toBeGreaterThan(150);
    const ts = a.table.columns[0]!;
    const t = ts[Math.floor(a.table.n / 2)]!;
    // Every quote and trade after t: prices shifted, sizes scaled, aggressors flipped.
    const rng = new Rng(99);
    const perturbed = base.map((b) => {
      const c = new EventBatch(b.length);
      for (let i = 0; i < b.length; i++) {
        c.copyRow(b, i);
        if (c.tsEvent[i]! <= t) continue;
        const k = c.kind[i]!;
        const shift = Math.round(rng.next() * 200) - 100;
        if (k === RecordKind.QUOTE) {
          c.a[i] = c.a[i]! + shift;
          c.c[i] = c.a[i]! + 1 + Math.floor(rng.next() * 5);
          c.b[i] = 1 + Math.floor(rng.next() * 50);
        } else if (k === RecordKind.TRADE) {
          c.a[i] = c.a[i]! + shift;
          c.b[i] = 1 + Math.floor(rng.next() * 100);
          c.c[i] = c.c[i] === 1 ? 2 : 1;
        }
      }
      return c;
    });
    const b = await dataset(perturbed);
    let compared = 0;
    let changedAfter = 0;
    const nf = SPEC.names.length;
    for (let r = 0; r < Math.min(a.table.n, b.table.n); r++) {
      const at = ts[r]!;
      expect(b.table.columns[0]![r]).toBe(at);
      for (let j = 1; j <= nf; j++) {
        const x = a.table.columns[j]![r]!;
        const y = b.table.columns[j]![r]!;
        if (at <= t) {
          expect(Object.is(x, y), `${SPEC.names[j - 1]} at row ${r} (ts ${at} <= t ${t})`).toBe(true);
          compared++;
        } else if (!Object.is(x, y)) changedAfter++;
      }
    }
    expect(compared).toBeGreaterThan(nf * 50);
    // The test can fail: the perturbation does move the features after t.
    expect(changedAfter).toBeGreaterThan(nf * 20);
  });
});
