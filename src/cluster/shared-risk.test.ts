// Shared risk between two nodes' risk engines through a real nats-server's KV bucket: global limits count the
// peer's published exposure, a peer unheard of too long counts at its limits (or halts trading), and the kill
// switch reaches every node.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { EngineReason } from '../execution/engine.ts';
import type { Instrument } from '../model/instrument.ts';
import { OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { OrderEventKind, OrderStatus } from '../model/order-state.ts';
import { type KillReport, KillSwitch } from '../risk/kill-switch.ts';
import type { RiskConfigInput } from '../risk/risk-config.ts';
import { RiskReason, TradingState } from '../risk/risk-engine.ts';
import { makeRiskKit, type RiskKit } from '../risk/testing.ts';
import { type Cluster, openCluster } from './nats.ts';
import { NatsCluster, natsServerPresent } from './nats-testing.ts';
import { type KillOrder, SharedRisk, type SharedRiskOptions } from './shared-risk.ts';

const have = natsServerPresent();
const U = 100_000_000; // money units per USDT
const PX = 500_000; // BTCUSDT 50,000.0: one lot (0.001 BTC) is 50 USDT
const ETH_PX = 300_000; // 3,000.00: one lot is 3 USDT

function kit(config: RiskConfigInput): RiskKit {
  const k = makeRiskKit(config);
  k.account.balances[k.usdt] = 10_000_000 * U;
  k.risk.onPrice(k.btc.id, PX);
  k.risk.onPrice(k.eth.id, ETH_PX);
  k.risk.onPrice(k.bnb.id, 6_000);
  return k;
}

function buy(k: RiskKit, inst: Instrument, lots: number, px: number) {
  const r = new OrderRequest();
  r.instrumentId = inst.id;
  r.strategyId = 1 as StrategyId;
  r.side = OrderSide.BUY;
  r.type = OrderType.LIMIT;
  r.tif = TimeInForce.GTC;
  r.qty = lots as QtyLots;
  r.price = px as PriceTicks;
  const o = k.engine.submit(r);
  const denied = k.log.filter((e) => e.orderId === o.id && e.kind === OrderEventKind.DENIED).at(-1);
  return {
    status: o.status,
    reason: o.status === OrderStatus.DENIED ? o.lastReason - EngineReason.RISK : 0,
    text: denied?.reason ?? '',
  };
}

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const CONFIG: RiskConfigInput = {
  limits: { maxNetExposure: '700' },
  total: { maxGrossExposure: '1000', maxVenueExposure: '950' },
};

describe.skipIf(!have)('shared risk across two nodes on a real nats-server', () => {
  let server: NatsCluster;
  const open: (Cluster | SharedRisk)[] = [];
  beforeAll(async () => {
    server = await NatsCluster.start(1);
  }, 30_000);
  // Every node of a test leaves the bucket after it (a clean stop deletes the node's entry).
  afterEach(async () => {
    for (const x of open.reverse()) await x.close().catch(() => undefined);
    open.length = 0;
  });
  afterAll(async () => {
    await server?.close();
  });

  async function node(
    id: string,
    k: RiskKit,
    extra: Partial<SharedRiskOptions> = {},
  ): Promise<{ s: SharedRisk; c: Cluster; kills: KillOrder[] }> {
    const c = await openCluster(server.urls.split(','), id, 10_000);
    open.push(c);
    const kills: KillOrder[] = [];
    const s = await SharedRisk.start({
      cluster: c,
      node: id,
      risk: k.risk,
      instruments: k.instruments,
      maxAgeMs: 60_000,
      onStale: 'limit',
      publishMs: 60_000,
      onKill: (o) => kills.push(o),
      ...extra,
    });
    open.push(s);
    return { s, c, kills };
  }

  /** Publishes `from`'s exposure and waits until `to` holds that revision. */
  async function sync(from: { s: SharedRisk }, fromId: string, to: { s: SharedRisk }): Promise<void> {
    const rev = await from.s.publish();
    await until(`${fromId}'s revision ${rev} on its peer`, 5000, () =>
      to.s.peerAges().some((p) => p.node === fromId && p.revision >= rev),
    );
  }

  it('global limits add the peer node’s exposure: instrument net, total gross and venue gross', async () => {
    const ka = kit(CONFIG);
    const kb = kit(CONFIG);
    const a = await node('limits-a', ka);
    const b = await node('limits-b', kb);
    // Node A is 600 USDT long BTC (12 lots).
    ka.account.positions[ka.btc.id] = 12;
    ka.risk.refreshAll();
    await sync(a, 'limits-a', b);
    // B alone could buy 3 lots of BTC (150 USDT); with A's 600 the net exposure would be 750 > 700.
    const net = buy(kb, kb.btc, 3, PX);
    expect(net.status).toBe(OrderStatus.DENIED);
    expect(net.reason).toBe(RiskReason.INSTRUMENT_NET);
    expect(net.text).toMatch(/net exposure 750 USDT would exceed max 700 USDT/);
    expect(buy(kb, kb.btc, 2, PX).status).not.toBe(OrderStatus.DENIED); // 700
    // ETH: 100 lots = 300 USDT brings the total to 1,000 (A's 600 + B's 100 + 300).
    expect(buy(kb, kb.eth, 100, ETH_PX).status).toBe(OrderStatus.DENIED);
    const venue = buy(kb, kb.eth, 100, ETH_PX);
    expect(venue.reason).toBe(RiskReason.VENUE_GROSS);
    expect(venue.text).toMatch(/gross exposure on venue SIM 1,000 USDT would exceed max 950 USDT/);
    expect(buy(kb, kb.eth, 80, ETH_PX).status).not.toBe(OrderStatus.DENIED); // 940
    // A sees B too: its own 600 plus B's 340 open leave 10 USDT of venue room.
    await sync(b, 'limits-b', a);
    expect(buy(ka, ka.eth, 5, ETH_PX).reason).toBe(RiskReason.VENUE_GROSS);
    expect(buy(ka, ka.eth, 3, ETH_PX).status).not.toBe(OrderStatus.DENIED);
    // A stops cleanly: its entry goes, and B's room comes back.
    await a.s.close();
    await until('node A gone from B', 5000, () => b.s.peerAges().length === 0);
    expect(buy(kb, kb.btc, 10, PX).status).not.toBe(OrderStatus.DENIED);
  }, 30_000);

  it('total gross counts the peer', async () => {
    const cfg: RiskConfigInput = { total: { maxGrossExposure: '1000' } };
    const ka = kit(cfg);
    const kb = kit(cfg);
    const a = await node('total-a', ka);
    const b = await node('total-b', kb);
    ka.account.positions[ka.btc.id] = -16; // 800 USDT short
    ka.risk.refreshAll();
    await sync(a, 'total-a', b);
    const d = buy(kb, kb.eth, 70, ETH_PX); // 210: 1,010
    expect(d.reason).toBe(RiskReason.TOTAL_GROSS);
    expect(d.text).toMatch(/total gross exposure 1,010 USDT would exceed max 1,000 USDT/);
    expect(buy(kb, kb.eth, 66, ETH_PX).status).not.toBe(OrderStatus.DENIED); // 998
  }, 30_000);

  it('a peer unheard of past the age limit counts at its limits, or halts trading', async () => {
    const cfg: RiskConfigInput = { total: { maxGrossExposure: '1000' } };
    const ka = kit(cfg);
    const kb = kit(cfg);
    const kh = kit(cfg);
    // Every live node publishes each 100 ms: only a dead one goes past the 400 ms age limit.
    const live = { maxAgeMs: 400, publishMs: 100 };
    const a = await node('stale-a', ka, live);
    const b = await node('stale-b', kb, live);
    const h = await node('stale-h', kh, { ...live, onStale: 'halt' });
    await sync(a, 'stale-a', b);
    await until('A on H', 5000, () => h.s.peerAges().some((p) => p.node === 'stale-a'));
    expect(buy(kb, kb.eth, 10, ETH_PX).status).not.toBe(OrderStatus.DENIED);
    // A dies without deleting its entry (its connection just ends).
    await a.c.close();
    await until('A stale on B', 5000, () => b.s.stale.includes('stale-a'));
    // Counted at its own limit (1,000 total gross): B may add nothing.
    const d = buy(kb, kb.eth, 2, ETH_PX);
    expect(d.reason).toBe(RiskReason.TOTAL_GROSS);
    await until('H halted', 5000, () => kh.risk.tradingState === TradingState.HALTED);
    expect(buy(kh, kh.eth, 2, ETH_PX).reason).toBe(RiskReason.HALTED);
    // A comes back under the same id (its old entry is stale, so the id is free): both resume.
    const a2 = await node('stale-a', kit(cfg), live);
    await sync(a2, 'stale-a', h);
    await until('H active', 5000, () => kh.risk.tradingState === TradingState.ACTIVE);
    await until('A fresh on B', 5000, () => b.s.stale.length === 0);
    expect(buy(kb, kb.eth, 10, ETH_PX).status).not.toBe(OrderStatus.DENIED);
  }, 30_000);

  it('a second live node under one id is refused', async () => {
    await node('dup', kit({}));
    await expect(node('dup', kit({}))).rejects.toThrow(/cluster node id 'dup' is in use by a live node/);
  }, 30_000);

  it('the kill switch is cluster-wide', async () => {
    const ka = kit({});
    const kb = kit({});
    const killOn = (k: RiskKit) => {
      const sw = new KillSwitch({
        target: k.engine,
        risk: k.risk,
        account: k.account,
        instruments: k.instruments,
        clock: k.clock,
      });
      return (o: KillOrder) => {
        reports.push(sw.kill({ reason: `cluster kill by ${o.by}: ${o.reason}` }));
      };
    };
    const reports: KillReport[] = [];
    const a = await node('kill-a', ka, { onKill: killOn(ka) });
    await node('kill-b', kb, { onKill: killOn(kb) });
    expect(buy(kb, kb.btc, 1, PX - 1000).status).not.toBe(OrderStatus.DENIED);
    await a.s.killCluster('drill');
    await until('B halted', 5000, () => kb.risk.tradingState === TradingState.HALTED);
    await until('A halted', 5000, () => ka.risk.tradingState === TradingState.HALTED);
    expect(reports.map((r) => r.reason).sort()).toEqual([
      'cluster kill by kill-a: drill',
      'cluster kill by kill-a: drill',
    ]);
    // B's resting order was cancelled by its own kill switch.
    expect(reports.reduce((n, r) => n + r.cancelled, 0)).toBe(1);
    expect(buy(kb, kb.btc, 1, PX - 1000).reason).toBe(RiskReason.HALTED);
  }, 30_000);
});
