// What a node does with its orders and positions when it stops (Ctrl-C, SIGTERM, durationSec): `cancel-all`
// cancels every open order and waits for the venue to confirm, `leave` leaves them working at the venue, and
// `flatten` runs the kill switch with flatten (cancel everything, then reduce-only market orders closing each
// position) and waits for the fills. Runs before market data and the order session stop, so acks and fills
// still arrive. Also the node's readiness for orchestrators. Units: ms, lots.

import { z } from 'zod';
import { monoMillis } from '../core/clock.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { stepsToDecimal } from '../model/decimal.ts';
import { formatKillReport } from '../risk/kill-switch.ts';
import { TradingState } from '../risk/loss-limits.ts';
import { ConnState } from '../venues/binance/ws-supervisor.ts';

export const ShutdownPolicy = { CANCEL_ALL: 'cancel-all', LEAVE: 'leave', FLATTEN: 'flatten' } as const;
export type ShutdownPolicy = (typeof ShutdownPolicy)[keyof typeof ShutdownPolicy];

export const ShutdownConfigSchema = z.strictObject({
  policy: z
    .enum([ShutdownPolicy.CANCEL_ALL, ShutdownPolicy.LEAVE, ShutdownPolicy.FLATTEN])
    .default('cancel-all'),
  /** How long to wait for cancels and flattening fills to be confirmed before stopping anyway. */
  timeoutSec: z.number().positive().max(300).default(10),
});
export type ShutdownConfig = z.infer<typeof ShutdownConfigSchema>;

function positions(k: Kernel): { text: string; flat: boolean } {
  let flat = true;
  const parts = k.traded.map((i) => {
    const q = k.portfolio.netQty(i.id);
    if (q !== 0) flat = false;
    return `${i.symbol} ${stepsToDecimal(q, i.lotSize)}`;
  });
  return { text: parts.join(', ') || '-', flat };
}

/** Applies the policy, waits for the venue (up to the timeout); returns the lines for the stop summary. */
export async function applyShutdownPolicy(k: Kernel, cfg: ShutdownConfig): Promise<string[]> {
  const open0 = k.cache.openCount();
  if (cfg.policy === ShutdownPolicy.LEAVE) {
    return [
      `shutdown policy leave: ${open0} open order(s) left working at the venue; positions ${positions(k).text}`,
    ];
  }
  const lines: string[] = [];
  let done: () => boolean;
  if (cfg.policy === ShutdownPolicy.CANCEL_ALL) {
    const sent = open0 === 0 ? 0 : k.engine.cancelAll();
    lines.push(`shutdown policy cancel-all: ${sent} cancel request(s) sent`);
    done = () => k.cache.openCount() === 0;
  } else {
    const report = k.riskMonitor.killSwitch.kill({ flatten: true, reason: 'shutdown policy flatten' });
    lines.push(`shutdown policy flatten: ${formatKillReport(report).replace(/\n\s*/g, '; ')}`);
    done = () => k.cache.openCount() === 0 && positions(k).flat;
  }
  const until = monoMillis() + cfg.timeoutSec * 1000;
  while (!done() && monoMillis() < until) await new Promise((r) => setTimeout(r, 20));
  const left = k.cache.openCount();
  const pos = positions(k);
  lines.push(
    `shutdown: ${left} order(s) still open, positions ${pos.text}` +
      (done() ? '' : ` (not confirmed within ${cfg.timeoutSec} s)`),
  );
  return lines;
}

/** The node's readiness: reconciled (it exists), market data connected and in sync, trading not halted. */
export function nodeReadiness(n: {
  kernel: Kernel;
  stopping: boolean;
  md: { supervisor: { state: string }; inSync(id: number): boolean };
}): { ready: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (n.stopping) reasons.push('stopping');
  if (n.md.supervisor.state !== ConnState.OPEN) reasons.push('market data not connected');
  else {
    const out = n.kernel.traded.filter((i) => !n.md.inSync(i.id)).map((i) => i.symbol);
    if (out.length > 0) reasons.push(`order book not in sync: ${out.join(', ')}`);
  }
  if (n.kernel.risk.tradingState === TradingState.HALTED) reasons.push('trading halted');
  return { ready: reasons.length === 0, reasons };
}
