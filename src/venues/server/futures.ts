// The USD-M futures rules of the local exchange around the shared order flow of Trading: the margin check of a
// new order (Binance's -2019 "Margin is insufficient."), reduceOnly (-2022), the minimum notional (-4164), the
// accounting of each fill in the account's FuturesLedger (commission in USDT, realised PnL), and Binance's
// futures JSON: orders, userTrades, positionRisk, account, balance and the user-stream events
// ORDER_TRADE_UPDATE and ACCOUNT_UPDATE. One-way position mode, cross margin. Margin: a position holds
// |amount| x mark / leverage, an open order (its part that grows the position) price x qty / leverage, taken
// when placed and released when it ends. Mark price: the book's mid (last trade when a side is empty).
// Units: lots, ticks, 1e-8 USDT; times ms.

import { FEE_RATE_DENOMINATOR } from '../../model/instrument.ts';
import { ApiError } from './errors.ts';
import { FuturesLedger, type FuturesPosition } from './futures-ledger.ts';
import type { SymbolMarket } from './market.ts';
import { type Account, fmt8, type ServerFill, type ServerOrder } from './trading.ts';

/** Binance USD-M error codes this server answers with (beyond the shared ones in errors.ts). */
export const FuturesCode = {
  MARGIN_INSUFFICIENT: -2019,
  REDUCE_ONLY_REJECT: -2022,
  INVALID_LEVERAGE: -4028,
  MIN_NOTIONAL: -4164,
  GTX_WOULD_TAKE: -5022,
  DUPLICATE_CLIENT_ID: -4116,
  USE_ALGO_ORDERS: -4120,
} as const;

/** Mark price in ticks: the mid of the book, else the last trade, else NaN. */
export function markTicks(m: SymbolMarket): number {
  const b = m.bestBid();
  const a = m.bestAsk();
  if (Number.isFinite(b) && Number.isFinite(a) && b > 0 && a > 0) return Math.round((a + b) / 2);
  return m.lastTrade?.px ?? Number.NaN;
}

/** |amount| valued at the mark price, 1e-8 USDT. */
function markValue(m: SymbolMarket, p: FuturesPosition): number {
  const mark = markTicks(m);
  return Number.isFinite(mark) ? m.quoteUnits(mark, Math.abs(p.amt)) : Math.abs(p.cost);
}

/** The account-wide margin figures Binance reports, 1e-8 USDT. */
export interface MarginSummary {
  wallet: number;
  unrealised: number;
  positionMargin: number;
  orderMargin: number;
  available: number;
}

export class FuturesDesk {
  private readonly markets: Map<string, SymbolMarket>;

  constructor(markets: Map<string, SymbolMarket>) {
    this.markets = markets;
  }

  summary(acc: Account): MarginSummary {
    const l = acc.usdm;
    let unrealised = 0;
    let positionMargin = 0;
    let orderMargin = 0;
    for (const [symbol, p] of l.positions) {
      const m = this.markets.get(symbol);
      orderMargin += p.orderMargin;
      if (m === undefined || p.amt === 0) continue;
      const v = markValue(m, p);
      unrealised += FuturesLedger.unrealised(p, v);
      positionMargin += Math.ceil(v / p.leverage);
    }
    const available = l.wallet + unrealised - positionMargin - orderMargin;
    return { wallet: l.wallet, unrealised, positionMargin, orderMargin, available };
  }

  /**
   * The checks of a new futures order once its fields parsed; returns the margin it holds while open.
   * `refPx` is the limit price, or the touch a market order would take (ticks).
   */
  admit(
    acc: Account,
    m: SymbolMarket,
    buy: boolean,
    qty: number,
    refPx: number,
    reduceOnly: boolean,
  ): number {
    const p = acc.usdm.position(m.symbol);
    if (reduceOnly) {
      const reduces = buy ? p.amt < 0 : p.amt > 0;
      if (!reduces || qty > Math.abs(p.amt)) {
        throw new ApiError(FuturesCode.REDUCE_ONLY_REJECT, 'ReduceOnly Order is rejected.');
      }
      return 0;
    }
    const notional = Number.isFinite(refPx) ? m.quoteUnits(refPx, qty) : 0;
    const min = m.inst.minNotional * 10 ** (8 - m.inst.settlement.precision);
    if (Number.isFinite(refPx) && notional < min) {
      throw new ApiError(
        FuturesCode.MIN_NOTIONAL,
        `Order's notional must be no smaller than ${fmt8(min).replace(/\.?0+$/, '')} (unless you choose reduce only).`,
      );
    }
    // Only the part that grows the position needs margin; the part that closes frees some instead.
    const against = buy ? Math.max(0, -p.amt) : Math.max(0, p.amt);
    const opening = Math.max(0, qty - against);
    if (opening === 0 || !Number.isFinite(refPx)) return 0;
    const need = Math.ceil(m.quoteUnits(refPx, opening) / p.leverage);
    if (need > this.summary(acc).available) {
      throw new ApiError(FuturesCode.MARGIN_INSUFFICIENT, 'Margin is insufficient.');
    }
    p.orderMargin += need;
    return need;
  }

  /** Gives back what an ended (or filled) order still holds. */
  release(o: ServerOrder): void {
    if (o.margin <= 0) return;
    o.account.usdm.position(o.market.symbol).orderMargin -= o.margin;
    o.margin = 0;
  }

  /** Books a fill: commission in USDT at the maker or taker rate, realised PnL; the fill's margin share freed. */
  fill(
    o: ServerOrder,
    qty: number,
    quote: number,
    maker: boolean,
    timeMs: number,
  ): { fee: number; realised: number } {
    const inst = o.market.inst;
    const rate = maker ? inst.makerFee : inst.takerFee;
    const fee = Math.round((quote * rate) / FEE_RATE_DENOMINATOR);
    const lots = o.side === 'BUY' ? qty : -qty;
    const { realised } = o.account.usdm.fill(o.market.symbol, lots, quote, fee, timeMs);
    if (o.margin > 0) {
      const left = o.qty - o.executed - qty;
      const keep = left <= 0 ? 0 : Math.ceil((o.margin * left) / (o.qty - o.executed));
      o.account.usdm.position(o.market.symbol).orderMargin -= o.margin - keep;
      o.margin = keep;
    }
    return { fee, realised };
  }

  // ---- Binance's USD-M JSON --------------------------------------------------------------------------------

  positionRisk(acc: Account, symbol: string | undefined, v3: boolean): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const m of this.markets.values()) {
      if (symbol !== undefined && m.symbol !== symbol) continue;
      const p = acc.usdm.position(m.symbol);
      // v3 lists only symbols with a position or open orders; v2 lists every symbol.
      if (v3 && p.amt === 0 && p.orderMargin === 0) continue;
      const mark = markTicks(m);
      const v = markValue(m, p);
      const row: Record<string, unknown> = {
        symbol: m.symbol,
        positionSide: 'BOTH',
        positionAmt: m.inst.lotsToQty(p.amt, m.inst.sizePrecision),
        entryPrice: entryPrice(m, p),
        breakEvenPrice: entryPrice(m, p),
        markPrice: Number.isFinite(mark) ? m.inst.ticksToPrice(mark, 8) : '0.00000000',
        unRealizedProfit: fmt8(p.amt === 0 ? 0 : FuturesLedger.unrealised(p, v)),
        liquidationPrice: '0',
        isolatedMargin: '0.00000000',
        notional: fmt8(p.amt >= 0 ? v : -v),
        isolatedWallet: '0',
        updateTime: p.updateTime,
      };
      if (v3) {
        const im = p.amt === 0 ? 0 : Math.ceil(v / p.leverage);
        Object.assign(row, {
          initialMargin: fmt8(im + p.orderMargin),
          maintMargin: fmt8(Math.ceil(v * 0.004)),
          positionInitialMargin: fmt8(im),
          openOrderInitialMargin: fmt8(p.orderMargin),
          adl: 0,
          bidNotional: '0',
          askNotional: '0',
          marginAsset: 'USDT',
        });
      } else {
        Object.assign(row, {
          leverage: String(p.leverage),
          marginType: 'cross',
          isAutoAddMargin: 'false',
          maxNotionalValue: '1000000',
        });
      }
      out.push(row);
    }
    return out;
  }

  /** The USDT asset row of /fapi/v2|v3/account and /fapi/v2/balance. */
  private assetRow(acc: Account, s: MarginSummary): Record<string, unknown> {
    const margin = s.wallet + s.unrealised;
    return {
      asset: 'USDT',
      walletBalance: fmt8(s.wallet),
      unrealizedProfit: fmt8(s.unrealised),
      marginBalance: fmt8(margin),
      maintMargin: '0.00000000',
      initialMargin: fmt8(s.positionMargin + s.orderMargin),
      positionInitialMargin: fmt8(s.positionMargin),
      openOrderInitialMargin: fmt8(s.orderMargin),
      crossWalletBalance: fmt8(s.wallet),
      crossUnPnl: fmt8(s.unrealised),
      availableBalance: fmt8(s.available),
      maxWithdrawAmount: fmt8(Math.max(0, Math.min(s.wallet, s.available))),
      marginAvailable: true,
      // ccxt skips an asset whose updateTime is 0 (never touched): a funded wallet counts as touched.
      updateTime: acc.usdm.updateTime === 0 ? 1 : acc.usdm.updateTime,
    };
  }

  account(acc: Account, v3: boolean): Record<string, unknown> {
    const s = this.summary(acc);
    const row = this.assetRow(acc, s);
    return {
      ...(v3 ? {} : { feeTier: 0, canTrade: true, canDeposit: true, canWithdraw: true, updateTime: 0 }),
      totalInitialMargin: row.initialMargin,
      totalMaintMargin: '0.00000000',
      totalWalletBalance: row.walletBalance,
      totalUnrealizedProfit: row.unrealizedProfit,
      totalMarginBalance: row.marginBalance,
      totalPositionInitialMargin: row.positionInitialMargin,
      totalOpenOrderInitialMargin: row.openOrderInitialMargin,
      totalCrossWalletBalance: row.crossWalletBalance,
      totalCrossUnPnl: row.crossUnPnl,
      availableBalance: row.availableBalance,
      maxWithdrawAmount: row.maxWithdrawAmount,
      assets: [row],
      positions: this.positionRisk(acc, undefined, true).map((r) => ({
        symbol: r.symbol,
        positionSide: 'BOTH',
        positionAmt: r.positionAmt,
        unrealizedProfit: r.unRealizedProfit,
        isolatedMargin: '0',
        notional: r.notional,
        isolatedWallet: '0',
        initialMargin: r.initialMargin,
        maintMargin: r.maintMargin,
        updateTime: r.updateTime,
        ...(v3
          ? {}
          : {
              entryPrice: r.entryPrice,
              leverage: String(acc.usdm.position(r.symbol as string).leverage),
              isolated: false,
            }),
      })),
    };
  }

  balance(acc: Account): Record<string, unknown>[] {
    const s = this.summary(acc);
    const row = this.assetRow(acc, s);
    return [
      {
        accountAlias: 'SgsR',
        asset: 'USDT',
        balance: row.walletBalance,
        crossWalletBalance: row.crossWalletBalance,
        crossUnPnl: row.crossUnPnl,
        availableBalance: row.availableBalance,
        maxWithdrawAmount: row.maxWithdrawAmount,
        marginAvailable: true,
        updateTime: row.updateTime,
      },
    ];
  }

  /** ACCOUNT_UPDATE after a fill: the USDT wallet and the symbol's position. */
  accountUpdate(o: ServerOrder, timeMs: number): Record<string, unknown> {
    const acc = o.account;
    const m = o.market;
    const p = acc.usdm.position(m.symbol);
    return {
      e: 'ACCOUNT_UPDATE',
      E: timeMs,
      T: timeMs,
      a: {
        m: 'ORDER',
        B: [{ a: 'USDT', wb: fmt8(acc.usdm.wallet), cw: fmt8(acc.usdm.wallet), bc: '0' }],
        P: [
          {
            s: m.symbol,
            pa: m.inst.lotsToQty(p.amt, m.inst.sizePrecision),
            ep: entryPrice(m, p),
            bep: entryPrice(m, p),
            cr: fmt8(acc.usdm.realisedTotal),
            up: fmt8(p.amt === 0 ? 0 : FuturesLedger.unrealised(p, markValue(m, p))),
            mt: 'cross',
            iw: '0',
            ps: 'BOTH',
          },
        ],
      },
    };
  }
}

/** Average entry price of a position as a decimal (cost / size), 8 places; "0" when flat. */
function entryPrice(m: SymbolMarket, p: FuturesPosition): string {
  if (p.amt === 0) return '0.0';
  const perTick = m.quoteUnits(1, Math.abs(p.amt));
  return (Math.abs(p.cost) / perTick / 10 ** m.inst.pricePrecision).toFixed(8);
}

const px8 = (o: ServerOrder, ticks: number): string =>
  Number.isNaN(ticks) ? '0' : o.market.inst.ticksToPrice(ticks, o.market.inst.pricePrecision);
const qtyText = (o: ServerOrder, lots: number): string =>
  o.market.inst.lotsToQty(lots, o.market.inst.sizePrecision);
const avgPx = (o: ServerOrder): string =>
  o.executed === 0
    ? '0'
    : (o.cumQuote / o.market.quoteUnits(1, o.executed) / 10 ** o.market.inst.pricePrecision).toFixed(
        o.market.inst.pricePrecision + 3,
      );

/** GET /fapi/v1/order, openOrders rows and the DELETE answer. */
export function futuresOrderJson(o: ServerOrder): Record<string, unknown> {
  return {
    orderId: o.orderId,
    symbol: o.market.symbol,
    status: o.status,
    clientOrderId: o.clientOrderId,
    price: px8(o, o.price),
    avgPrice: avgPx(o),
    origQty: qtyText(o, o.qty),
    executedQty: qtyText(o, o.executed),
    cumQty: qtyText(o, o.executed),
    cumQuote: fmt8(o.cumQuote),
    timeInForce: o.tif,
    type: o.type,
    reduceOnly: o.reduceOnly,
    closePosition: false,
    side: o.side,
    positionSide: 'BOTH',
    stopPrice: '0',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: o.type,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
    time: o.time,
    updateTime: o.updateTime,
  };
}

/** GET /fapi/v1/userTrades rows. */
export function futuresTradeJson(o: ServerOrder, f: ServerFill): Record<string, unknown> {
  return {
    buyer: o.side === 'BUY',
    commission: fmt8(f.commission),
    commissionAsset: f.commissionAsset,
    id: f.tradeId,
    maker: f.maker,
    orderId: o.orderId,
    price: px8(o, f.px),
    qty: qtyText(o, f.qty),
    quoteQty: fmt8(f.quote),
    realizedPnl: fmt8(f.realised),
    side: o.side,
    positionSide: 'BOTH',
    symbol: o.market.symbol,
    time: f.time,
  };
}

/** The ORDER_TRADE_UPDATE user-stream event for execution type `x` (NEW, TRADE, CANCELED, EXPIRED). */
export function orderTradeUpdate(o: ServerOrder, x: string, f: ServerFill | null): Record<string, unknown> {
  const t = f?.time ?? o.updateTime;
  return {
    e: 'ORDER_TRADE_UPDATE',
    E: o.updateTime,
    T: t,
    o: {
      s: o.market.symbol,
      c: o.clientOrderId,
      S: o.side,
      o: o.type,
      f: o.tif,
      q: qtyText(o, o.qty),
      p: px8(o, o.price),
      ap: avgPx(o),
      sp: '0',
      x,
      X: o.status,
      i: o.orderId,
      l: qtyText(o, f?.qty ?? 0),
      z: qtyText(o, o.executed),
      L: f === null ? '0' : px8(o, f.px),
      N: f?.commissionAsset ?? 'USDT',
      n: fmt8(f?.commission ?? 0),
      T: t,
      t: f?.tradeId ?? 0,
      b: '0',
      a: '0',
      m: f?.maker ?? false,
      R: o.reduceOnly,
      wt: 'CONTRACT_PRICE',
      ot: o.type,
      ps: 'BOTH',
      cp: false,
      rp: fmt8(f?.realised ?? 0),
      pP: false,
      si: 0,
      ss: 0,
      V: 'EXPIRE_MAKER',
      pm: 'NONE',
      gtd: 0,
    },
  };
}
