import { describe, expect, it } from 'vitest';
import { monoNanos } from '../core/clock.ts';
import { type T2T_STAGES, TickToTradeStages } from './tick-to-trade.ts';

/** The one value a histogram holds (its max is exact to the histogram's precision). */
const only = (s: TickToTradeStages, k: (typeof T2T_STAGES)[number]) => s.stage[k].max;

describe('tick-to-trade stages', () => {
  it('splits read -> written into stages that add up, and keeps frame -> written as the figure', () => {
    const s = new TickToTradeStages();
    const read = monoNanos() - 50_000;
    const frame = read + 10_000;
    const parsed = frame + 1_000;
    s.begin();
    s.onDecision();
    s.onRiskPassed();
    const signed = monoNanos() + 2_000;
    const written = signed + 5_000;
    s.record(read, frame, parsed, signed, written, written + 99_000);
    expect(s.total.totalCount).toBe(1);
    expect(s.total.max).toBeCloseTo(written - frame, -2);
    expect(s.fromRead.max).toBeCloseTo(written - read, -2);
    expect(only(s, 'read_to_frame')).toBeCloseTo(10_000, -1);
    expect(only(s, 'frame_to_parsed')).toBeCloseTo(1_000, -1);
    expect(only(s, 'signed_to_written')).toBeCloseTo(5_000, -1);
    const four =
      only(s, 'read_to_parsed') +
      only(s, 'parsed_to_decision') +
      only(s, 'decision_to_risk') +
      only(s, 'risk_to_written');
    expect(Math.abs(four - (written - read)) / (written - read)).toBeLessThan(0.01);
    expect(Object.keys(s.figures())).toContain('risk_to_signed_p99_ns');
  });

  it('uses the event end when no order was written (simulated venue), and skips stages without a risk stamp', () => {
    const s = new TickToTradeStages();
    const read = monoNanos() - 20_000;
    s.begin();
    s.onDecision();
    s.onRiskPassed();
    const end = monoNanos() + 3_000;
    s.record(read, read, read, 0, 0, end);
    expect(s.total.max).toBeCloseTo(end - read, -2);
    expect(s.stage.risk_to_written.totalCount).toBe(1);
    expect(s.stage.risk_to_signed.totalCount).toBe(0);
    // A new event that reached no decision: only the total is recorded.
    s.begin();
    s.record(read, read, read, 0, 0, end);
    expect(s.total.totalCount).toBe(2);
    expect(s.stage.read_to_parsed.totalCount).toBe(1);
    s.reset();
    expect(s.total.totalCount + s.fromRead.totalCount + s.stage.read_to_parsed.totalCount).toBe(0);
  });
});
