import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { KillSwitch } from '../risk/kill-switch.ts';
import { TradingState } from '../risk/risk-engine.ts';
import { makeRiskKit } from '../risk/testing.ts';
import { registerRiskCommands } from './risk-command.ts';

function program(options: Parameters<typeof registerRiskCommands>[1]): Command {
  const p = new Command('bot4').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerRiskCommands(p, options);
  return p;
}

describe('bot4 risk kill', () => {
  it('kills through the node it reaches and prints the report', async () => {
    const k = makeRiskKit();
    k.account.positions[k.btc.id] = 3;
    const ks = new KillSwitch({
      target: k.engine,
      risk: k.risk,
      account: k.account,
      instruments: k.engine.cache.instruments,
      clock: k.clock,
    });
    const lines: string[] = [];
    await program({ connect: () => ks, out: (t) => lines.push(t) }).parseAsync(
      ['risk', 'kill', '--flatten', '--reason', 'drill'],
      { from: 'user' },
    );
    expect(k.risk.tradingState).toBe(TradingState.HALTED);
    expect(ks.last?.reason).toBe('drill');
    expect(lines.join('\n')).toMatch(
      /kill switch at \d+ us \(drill\): trading HALTED, 0 cancel request\(s\) sent/,
    );
    expect(lines.join('\n')).toContain('flatten BTCUSDT.SIM: SELL 0.003 reduce-only market');
  });

  it('says plainly that no node can be reached (nodes have no control API yet)', async () => {
    const e = await program({})
      .parseAsync(['risk', 'kill'], { from: 'user' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).code).toBe(ErrorCode.NOT_FOUND);
    expect((e as Bot4Error).message).toMatch(/no running Bot4 node.*no control API yet/);
  });
});
