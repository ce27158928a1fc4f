import { describe, expect, it } from 'vitest';
import { batchesSource, Merge, Reorder } from '../data/replay.ts';
import { currency } from '../model/currency.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { EventBatch, RecordKind } from '../model/market-data.ts';
import { type RiskConfig, RiskConfigSchema } from '../risk/risk-config.ts';
import { EmaCross } from '../strategy/builtin/ema-cross.ts';
import { DEMO_INSTRUMENT, demoMarket } from './demo-market.ts';
import { type BacktestProbe, type LateRowPolicy, runBacktest } from './runner.ts';

const HOUR = 3_600_000_000;

async function run(seed: number, hours = 6, riskConfig?: RiskConfig) {
  const instruments = newInstrumentRegistry();
  const inst = instruments.add(DEMO_INSTRUMENT);
  const result = await runBacktest({
    strategies: [
      { strategy: new EmaCross({ instrument: 'BTCUSDT', fast: 5, slow: 20, qty: 0.05, allowShort: true }) },
    ],
    instruments,
    data: demoMarket(inst.id, { seed, duration: hours * HOUR }),
    dataLabel: `demo seed ${seed}`,
    balances: [{ currency: 'USDT', amount: '10000' }],
    ...(riskConfig === undefined ? {} : { riskConfig }),
  });
  return { ...result, inst };
}

describe('backtest runner', () => {
  it('runs a strategy over the demo market and reconciles the account exactly', async () => {
    const r = await run(11);
    const usdt = currency('USDT');
    expect(r.events).toBeGreaterThan(100_000);
    expect(r.recording.fills.length).toBeGreaterThan(5);
    expect(r.recording.trades.length).toBeGreaterThan(2);
    const pos = r.portfolio.position(r.inst.id);
    const realised = r.portfolio.realisedPnl(usdt.id);
    const fees = r.portfolio.fees(usdt.id);
    const funding = r.portfolio.funding(usdt.id);
    expect(r.portfolio.balance(usdt.id) - 10_000e8).toBe(realised - fees - funding);
    // The position is what the recorded fills add up to (the recorder's columns, not the portfolio's sums).
    let signed = 0;
    for (let i = 0; i < r.recording.fills.length; i++) {
      signed += r.recording.fills.side[i]! * r.recording.fills.qty[i]!;
    }
    expect(pos?.qty).toBe(signed);
    expect(r.report.fingerprint).toBe(r.fingerprint);
  });

  it('is deterministic: the same inputs give the same fingerprint and figures', async () => {
    const a = await run(5, 3);
    const b = await run(5, 3);
    const c = await run(6, 3);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.stats).toEqual(a.stats);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('sends every order through the risk engine: HALTED lets nothing reach the simulated venue', async () => {
    const r = await run(11, 3, RiskConfigSchema.parse({ initialState: 'HALTED' }));
    expect(r.recording.fills.length).toBe(0);
    expect(r.engine.stats.denied).toBeGreaterThan(0);
    expect(r.engine.stats.submitted).toBe(0);
  });
});

describe('rows handed over in place (a Merge pumps them into the runner)', () => {
  /** The demo market split into two sorted sources (quotes, the rest) of owned 1,000-row batches. */
  function demoSources(instrumentId: number): EventBatch[][] {
    const parts: EventBatch[][] = [[], []];
    for (const b of demoMarket(instrumentId, { seed: 11, duration: 2 * HOUR })) {
      for (let i = 0; i < b.length; i++) {
        const part = parts[b.kind[i] === RecordKind.QUOTE ? 0 : 1]!;
        let last = part[part.length - 1];
        if (last === undefined || last.length === last.capacity) {
          last = new EventBatch(1000);
          part.push(last);
        }
        last.copyRow(b, i);
      }
    }
    return parts;
  }

  async function runMerged(pump: boolean, to?: number, probe?: BacktestProbe) {
    const instruments = newInstrumentRegistry();
    const inst = instruments.add(DEMO_INSTRUMENT);
    const merge = new Merge(demoSources(inst.id).map(batchesSource), { batchSize: 700 });
    // Iterated: the same Merge seen only as an async iterable.
    const data = pump ? merge : { [Symbol.asyncIterator]: () => merge[Symbol.asyncIterator]() };
    const result = await runBacktest({
      strategies: [{ strategy: new EmaCross({ instrument: 'BTCUSDT', fast: 5, slow: 20, qty: 0.05 }) }],
      instruments,
      data,
      dataLabel: 'demo, two merged sources',
      balances: [{ currency: 'USDT', amount: '10000' }],
      ...(to === undefined ? {} : { to }),
      ...(probe === undefined ? {} : { probe }),
    });
    return { ...result, batches: merge.stats.batches };
  }

  /** A metrics probe that keeps what the runner told it: rows in range, runs and batches, and the timings. */
  class CountingProbe implements BacktestProbe {
    attached = 0;
    rowCalls = 0;
    counted = 0;
    batches = 0;
    replayNs = 0;
    housekeepings = 0;
    attach(): void {
      this.attached++;
    }
    rows(b: EventBatch, start: number, end: number, from: number, to: number): void {
      this.rowCalls++;
      for (let i = start; i < end; i++) if (b.tsEvent[i]! >= from && b.tsEvent[i]! < to) this.counted++;
    }
    batch(fetchNs: number, replayNs: number): void {
      expect(fetchNs).toBeGreaterThanOrEqual(0);
      expect(replayNs).toBeGreaterThan(0);
      this.batches++;
      this.replayNs += replayNs;
    }
    housekeeping(): void {
      this.housekeepings++;
    }
  }

  it('gives the run the iterated batches give: events, fingerprint, statistics, also cut by --to', async () => {
    const iterated = await runMerged(false);
    const pumped = await runMerged(true);
    expect(pumped.recording.fills.length).toBeGreaterThan(5);
    expect(pumped.events).toBe(iterated.events);
    expect(pumped.fingerprint).toBe(iterated.fingerprint);
    expect(pumped.stats).toEqual(iterated.stats);
    const to = iterated.stats.startTs + HOUR + 123;
    const a = await runMerged(false, to);
    const b = await runMerged(true, to);
    expect(b.events).toBe(a.events);
    expect(b.events).toBeLessThan(iterated.events);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.stats).toEqual(a.stats);
  });

  it('takes the in-place path with a metrics probe too: same run, every replayed row counted once per run of rows', async () => {
    const plain = await runMerged(true);
    const probe = new CountingProbe();
    const probed = await runMerged(true, undefined, probe);
    // In place: the merge handed runs of rows (more calls than batches), not copied batches (one call each).
    expect(probe.rowCalls).toBeGreaterThan(probe.batches);
    expect(probed.batches).toBe(plain.batches);
    expect(probe.batches).toBe(plain.batches);
    expect(probe.attached).toBe(1);
    expect(probe.housekeepings).toBe(plain.batches);
    expect(probe.replayNs).toBeGreaterThan(0);
    expect(probed.events).toBe(plain.events);
    expect(probe.counted).toBe(plain.events);
    expect(probed.fingerprint).toBe(plain.fingerprint);
    expect(probed.stats).toEqual(plain.stats);
    // Cut by --to: the rows past it are neither replayed nor counted.
    const to = plain.stats.startTs + HOUR + 123;
    const cutProbe = new CountingProbe();
    const cut = await runMerged(true, to, cutProbe);
    expect(cut.events).toBe((await runMerged(true, to)).events);
    expect(cutProbe.counted).toBe(cut.events);
  });
});

/** The demo market as owned batches, with the quote after the 20,000th row moved 1 s before the row ahead of it. */
function demoWithLateQuote(instrumentId: number): { batches: EventBatch[]; lateTs: number; rows: number } {
  const batches: EventBatch[] = [];
  let rows = 0;
  let lateTs = Number.NaN;
  for (const b of demoMarket(instrumentId, { seed: 11, duration: 2 * HOUR })) {
    const copy = new EventBatch(b.length);
    for (let i = 0; i < b.length; i++) {
      copy.copyRow(b, i);
      if (Number.isNaN(lateTs) && rows > 20_000 && b.kind[i] === RecordKind.QUOTE) {
        lateTs = copy.tsEvent[i - 1]! - 1_000_000;
        copy.tsEvent[i] = lateTs;
        copy.tsInit[i] = lateTs;
      }
      rows++;
    }
    batches.push(copy);
  }
  return { batches, lateTs, rows };
}

describe('late rows (older than rows already replayed)', () => {
  async function runLate(policy: LateRowPolicy | undefined, through: 'batches' | 'reorder') {
    const instruments = newInstrumentRegistry();
    const inst = instruments.add(DEMO_INSTRUMENT);
    const { batches, lateTs, rows } = demoWithLateQuote(inst.id);
    // A reorder window shorter than the lateness passes the row through late, as a capture would.
    const reorder = new Reorder(batchesSource(batches), { windowMicros: 200_000 });
    const result = await runBacktest({
      strategies: [{ strategy: new EmaCross({ instrument: 'BTCUSDT', fast: 5, slow: 20, qty: 0.05 }) }],
      instruments,
      data: through === 'reorder' ? reorder : batches,
      dataLabel: 'demo with a late quote',
      balances: [{ currency: 'USDT', amount: '10000' }],
      ...(policy === undefined ? {} : { lateRows: policy }),
    });
    return { result, lateTs, rows, reorder };
  }

  it('delivers a quote 1 s late at the current time by default, counts it and notes it in the report', async () => {
    const { result, lateTs, rows } = await runLate(undefined, 'batches');
    expect(result.events).toBe(rows);
    expect(result.late.count).toBe(1);
    expect(result.late.firstTs).toBe(lateTs);
    expect(result.late.firstBehind).toBeGreaterThanOrEqual(1_000_000);
    expect(result.report.notes[0]).toMatch(/^1 rows were older than rows already replayed .* delivered/);
    expect(result.report.notes[0]).toContain(new Date(lateTs / 1000).toISOString());
    expect(result.notes).toEqual([result.report.notes[0]]);
  });

  it("drops it under the 'drop' policy, counted and noted", async () => {
    const { result, rows } = await runLate('drop', 'batches');
    expect(result.events).toBe(rows - 1);
    expect(result.late.count).toBe(1);
    expect(result.report.notes[0]).toMatch(/and were dropped/);
  });

  it('completes when the late row comes through a reorder window shorter than its lateness', async () => {
    const { result, rows, reorder } = await runLate('deliver', 'reorder');
    expect(reorder.stats.late).toBe(1);
    expect(result.events).toBe(rows);
    expect(result.late.count).toBe(1);
  });

  it('notes nothing when no row is late', async () => {
    const r = await run(5, 1);
    expect(r.late.count).toBe(0);
    expect(r.notes).toEqual([]);
  });
});
