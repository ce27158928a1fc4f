// Two paper nodes (each with its in-process local exchange) share one risk view through a real nats-server:
// each sees the other's published exposure, and the cluster kill switch halts both.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import { NodeMode, TradingNode } from '../live/node.ts';
import { NodeConfigSchema } from '../live/node-config.ts';
import { TradingState } from '../risk/risk-engine.ts';
import { NatsCluster, natsServerPresent } from './nats-testing.ts';

const have = natsServerPresent();

describe.skipIf(!have)('paper nodes in a cluster', () => {
  let server: NatsCluster;
  const nodes: TradingNode[] = [];
  beforeAll(async () => {
    server = await NatsCluster.start(1);
  }, 30_000);
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.stop();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('share their exposure and one kill switch', async () => {
    const start = (id: string) =>
      TradingNode.start({
        mode: NodeMode.PAPER,
        config: NodeConfigSchema.parse({
          instruments: ['BTCUSDT'],
          strategies: [
            {
              name: 'ema-cross',
              params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 3, slow: 8, qty: 0.001 },
            },
          ],
          statusIntervalSec: 60,
          cluster: { url: server.urls, node: id, publishMs: 200 },
        }),
        print: () => {},
      });
    const a = await start('paper-a');
    nodes.push(a);
    const b = await start('paper-b');
    nodes.push(b);
    const sa = a.cluster!.shared;
    const sb = b.cluster!.shared;
    await waitFor(
      () =>
        sa.peerAges().some((p) => p.node === 'paper-b') && sb.peerAges().some((p) => p.node === 'paper-a'),
      'each node sees the other',
      10_000,
    );
    // Once A has traded, B's view of its peers holds A's gross exposure as A last published it.
    await waitFor(() => a.counters.fills >= 1, 'a fill on node A', 20_000);
    await waitFor(
      () => {
        const mine = sa.snapshot();
        return mine.gross > 0 && Math.abs(sb.peers.gross - mine.gross) <= 1e-9 * mine.gross + 1;
      },
      "A's exposure in B's view",
      10_000,
    );
    expect(sb.peers.gross).toBeGreaterThan(0);
    expect(sb.stale).toEqual([]);
    await sa.killCluster('drill');
    await waitFor(
      () =>
        a.kernel.risk.tradingState === TradingState.HALTED &&
        b.kernel.risk.tradingState === TradingState.HALTED,
      'both nodes halted by the cluster kill switch',
      10_000,
    );
    expect(b.kernel.riskMonitor.killSwitch.last?.reason).toBe('cluster kill switch by paper-a: drill');
  }, 60_000);
});
