// Live start-up reconciliation, before the first order: the venue's open orders are adopted into the engine
// (they then take fills and cancels like the node's own), reported and left alone, or stop the start, as the
// config says; then the funds the venue holds locked must be exactly what those open orders lock. Anything
// else (another client on the key, an order the venue lost) halts with a message saying what differs.
// Balances need no step here: the portfolio starts from the venue's own balances. The venue is read through
// ReconcileVenue: Binance's REST endpoints here, ccxt's fetchOpenOrders / fetchBalance in
// src/venues/ccxt/ccxt-node.ts. On USD-M futures the positions step (usdm.ts) replaces the locked-funds one:
// futures orders hold margin, not funds, and the positions must equal the venue's.
// Units: venue decimals, compared as integers of 1e-8 (Binance's balance precision).

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { StrategyId } from '../core/units.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { decimalToSteps } from '../model/decimal.ts';
import type { Instrument } from '../model/instrument.ts';
import { OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { OrderStatus, orderStatusName } from '../model/order-state.ts';
import type { BinanceOrderClient } from '../venues/binance/order-client.ts';
import type { BinanceRest } from '../venues/binance/rest.ts';
import { reconcilePositions } from './usdm.ts';

export interface ReconcileReport {
  lines: string[];
  openAtVenue: number;
  adopted: number;
  reported: number;
}

/** An order open at the venue, in Binance's field names (decimal strings). */
export interface VenueOrder {
  symbol: string;
  orderId: number | string;
  clientOrderId: string;
  side: 'BUY' | 'SELL';
  type: string;
  price: string;
  origQty: string;
  executedQty: string;
}

/** One asset's balance at the venue (decimal strings). */
export interface VenueBalance {
  asset: string;
  free: string;
  locked: string;
}

/** What reconciliation reads from the venue, and the order client that takes over adopted orders. */
export interface ReconcileVenue {
  /** Orders open at the venue on the instrument (its `symbol` is the instrument's). */
  openOrders(inst: Instrument): Promise<VenueOrder[]>;
  balances(): Promise<VenueBalance[]>;
  /** The next submit with this client id is an adoption of the venue's order: accepted, not sent. */
  expectAdoption(clientOrderId: string, venueOrderId: string): void;
  /**
   * A derivatives venue: checks the portfolio's positions against the venue's (adopting them per policy) in place
   * of the locked-funds check, and returns its report lines.
   */
  positions?(kernel: Kernel, instruments: readonly Instrument[], policy: ReconcilePolicy): Promise<string[]>;
}

export type ReconcilePolicy = 'adopt' | 'report' | 'halt';

/** The native adapter's reads: the market's open orders, and /api/v3/account (spot) or positionRisk (USD-M). */
export function binanceReconcileVenue(rest: BinanceRest, client: BinanceOrderClient): ReconcileVenue {
  const venue: ReconcileVenue = {
    openOrders: async (inst) =>
      (await rest.signed('GET', rest.paths.openOrders, { symbol: inst.symbol }, 6)) as VenueOrder[],
    balances: async () =>
      ((await rest.signed('GET', '/api/v3/account', {}, 20)) as { balances: VenueBalance[] }).balances,
    expectAdoption: (coid, venueId) => client.expectAdoption(coid, venueId),
  };
  if (rest.market === 'usdm') {
    venue.positions = (kernel, instruments, policy) =>
      reconcilePositions({ rest, kernel, instruments, policy });
  }
  return venue;
}

/** Decimal text -> integer of 1e-8 units (exact). */
function e8(text: string): bigint {
  const [i, f = ''] = text.split('.');
  return BigInt(i! + f.padEnd(8, '0').slice(0, 8));
}

export async function reconcile(o: {
  venue: ReconcileVenue;
  kernel: Kernel;
  instruments: readonly Instrument[];
  policy: ReconcilePolicy;
  /** Client ids the node's journal knows (its own orders of earlier runs): adopted whatever the policy. */
  known?: ReadonlySet<string>;
}): Promise<ReconcileReport> {
  const lines: string[] = [];
  const open: VenueOrder[] = [];
  for (const inst of o.instruments) open.push(...(await o.venue.openOrders(inst)));
  const describe = (v: VenueOrder) =>
    `${v.clientOrderId} (${v.symbol} ${v.side} ${v.origQty} @ ${v.price}, filled ${v.executedQty})`;
  // Without a journal of earlier runs every open order is one this run did not place.
  const isKnown = (v: VenueOrder) => o.known?.has(v.clientOrderId) === true;
  const unknown = open.filter((v) => !isKnown(v));
  if (unknown.length > 0 && o.policy === 'halt') {
    throw new Bot4Error(
      ErrorCode.CONFIG_INVALID,
      `reconciliation: ${unknown.length} open order(s) at the venue that this node did not place: ${unknown.map(describe).join(', ')}; trading halted (unknownOrders is 'halt': cancel them, or set it to 'adopt' or 'report')`,
    );
  }
  let adopted = 0;
  let reported = 0;
  for (const v of open) {
    const inst = o.instruments.find((i) => i.symbol === v.symbol)!;
    if (o.policy === 'report' && !isKnown(v)) {
      reported++;
      lines.push(`reconcile: open order ${describe(v)} left to the venue, not managed by this node`);
      continue;
    }
    const req = new OrderRequest();
    req.instrumentId = inst.id;
    req.strategyId = 0 as StrategyId;
    req.side = v.side === 'BUY' ? OrderSide.BUY : OrderSide.SELL;
    req.type = OrderType.LIMIT;
    req.tif = TimeInForce.GTC;
    // What is left of it: the part filled before this run is already in the venue's balances.
    req.qty = (decimalToSteps(v.origQty, inst.lotSize) -
      decimalToSteps(v.executedQty, inst.lotSize)) as OrderRequest['qty'];
    req.price = decimalToSteps(v.price, inst.tickSize) as OrderRequest['price'];
    req.clientOrderId = v.clientOrderId;
    o.venue.expectAdoption(v.clientOrderId, String(v.orderId));
    const order = o.kernel.engine.submit(req);
    if (order.status !== OrderStatus.ACCEPTED) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `reconciliation: open order ${describe(v)} could not be adopted (${orderStatusName(order.status)}${order.lastReason === 0 ? '' : `: ${o.kernel.risk.reasonText(order.lastReason, order)}`}); trading halted`,
      );
    }
    adopted++;
    lines.push(`reconcile: adopted open order ${describe(v)}`);
  }

  if (o.venue.positions !== undefined) {
    lines.push(...(await o.venue.positions(o.kernel, o.instruments, o.policy)));
    lines.push(
      `reconcile: ${open.length} open order(s) at the venue (${adopted} adopted, ${reported} reported)`,
    );
    return { lines, openAtVenue: open.length, adopted, reported };
  }

  // Locked funds must be what the open orders lock (exactly, unless a partial fill at a better price left more).
  const balances = await o.venue.balances();
  const explained = new Map<string, bigint>();
  const partial = new Set<string>();
  for (const v of open) {
    const inst = o.instruments.find((i) => i.symbol === v.symbol)!;
    const asset = v.side === 'BUY' ? inst.quote.code : inst.base.code;
    const lock = v.side === 'BUY' ? (e8(v.price) * e8(v.origQty)) / 100_000_000n : e8(v.origQty);
    if (e8(v.executedQty) > 0n) partial.add(asset);
    explained.set(asset, (explained.get(asset) ?? 0n) + lock);
  }
  const assets = new Set(o.instruments.flatMap((i) => [i.base.code, i.quote.code]));
  const fmt = (x: bigint) => `${x / 100_000_000n}.${(x % 100_000_000n).toString().padStart(8, '0')}`;
  for (const b of balances) {
    if (!assets.has(b.asset)) continue;
    const locked = e8(b.locked);
    const want = explained.get(b.asset) ?? 0n;
    if (partial.has(b.asset) ? locked < want : locked !== want) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `reconciliation: ${b.asset} locked at the venue is ${fmt(locked)} but its open orders lock ${fmt(want)}; trading halted (another client on this key, or an order the venue does not list)`,
      );
    }
  }
  const bal = balances
    .filter((b) => assets.has(b.asset))
    .map((b) => `${b.asset} ${b.free}+${b.locked}`)
    .join(', ');
  lines.push(
    `reconcile: balances ${bal}; ${open.length} open order(s) at the venue (${adopted} adopted, ${reported} reported); locked funds agree`,
  );
  return { lines, openAtVenue: open.length, adopted, reported };
}
