// The USD-M futures account of the local exchange in one-way mode, cross margin: a USDT wallet, one signed
// position per symbol and its cost, the leverage per symbol, and the margin the open orders hold.
// Invariants (checked by futures-ledger.property.test.ts): every amount is an integer of 1e-8 USDT; a fill's
// cash (price x quantity) is exact, so wallet + unrealised PnL always equals the starting wallet plus the
// signed cash of every fill, minus commissions, plus the position valued at the mark price. Realised PnL on a
// reducing fill is its cash against the share of the position's cost it closes (that share rounded once, to
// 1e-8, half away from zero; the last close takes the whole remaining cost, so nothing is lost).
// Units: lots (signed for positions), quote 1e-8 units for cash, margin and PnL.

/** One symbol's position: signed size and signed cost (long: positive cost; short: negative). */
export class FuturesPosition {
  /** Lots; positive long, negative short, 0 flat. */
  amt = 0;
  /** Signed quote 1e-8 units paid for the open position (sum of its opening fills' signed cash). */
  cost = 0;
  /** Leverage for new margin (Binance's default is 20 on a new symbol). */
  leverage = 20;
  /** Margin held by open orders of this symbol, 1e-8 USDT. */
  orderMargin = 0;
  /** Market time of the last change, ms. */
  updateTime = 0;
}

export interface FillResult {
  /** PnL this fill realised (0 for an opening fill), 1e-8 USDT. */
  realised: number;
}

/** Signed cost share of `q` lots out of a position of `amt` lots of cost `cost`, rounded half away from zero. */
function share(cost: number, q: number, amt: number): number {
  if (q === Math.abs(amt)) return cost;
  const exact = (cost * q) / Math.abs(amt);
  return Math.sign(exact) * Math.round(Math.abs(exact));
}

export class FuturesLedger {
  /** Wallet balance, 1e-8 USDT: deposits + realised PnL - commissions. */
  wallet: number;
  readonly positions = new Map<string, FuturesPosition>();
  /** Sums for reports: realised PnL and commissions since the start, 1e-8 USDT. */
  realisedTotal = 0;
  commissionTotal = 0;
  /** Market time of the last wallet change, ms (0 until then, so ccxt's stale-asset check sees it once set). */
  updateTime = 0;

  constructor(wallet: number) {
    this.wallet = wallet;
  }

  position(symbol: string): FuturesPosition {
    let p = this.positions.get(symbol);
    if (p === undefined) {
      p = new FuturesPosition();
      this.positions.set(symbol, p);
    }
    return p;
  }

  /**
   * Applies one fill: `lots` > 0 bought, < 0 sold, `cash` its price x quantity (positive), `fee` its commission.
   * A fill that crosses zero closes the old position (realising its PnL) and opens the rest at the fill price.
   */
  fill(symbol: string, lots: number, cash: number, fee: number, timeMs: number): FillResult {
    const p = this.position(symbol);
    const signedCash = lots > 0 ? cash : -cash;
    let realised = 0;
    if (p.amt === 0 || Math.sign(p.amt) === Math.sign(lots)) {
      p.amt += lots;
      p.cost += signedCash;
    } else {
      const q = Math.abs(lots);
      const closing = Math.min(q, Math.abs(p.amt));
      // Cash of the closing part and of the rest: exact, as the fill's cash is price x lots in whole units.
      const closeCash = closing === q ? signedCash : Math.round((signedCash * closing) / q);
      const removed = share(p.cost, closing, p.amt);
      // Long closed by a sale: cash received (-closeCash) minus the cost given up; short: the mirror.
      realised = -closeCash - removed;
      p.cost -= removed;
      p.amt += Math.sign(lots) * closing;
      if (closing < q) {
        p.amt += Math.sign(lots) * (q - closing);
        p.cost += signedCash - closeCash;
      }
    }
    this.wallet += realised - fee;
    this.realisedTotal += realised;
    this.commissionTotal += fee;
    p.updateTime = timeMs;
    this.updateTime = timeMs;
    return { realised };
  }

  /** Unrealised PnL of a position given its value at the mark price (|amt| x mark, 1e-8 USDT). */
  static unrealised(p: FuturesPosition, markValue: number): number {
    return (p.amt >= 0 ? markValue : -markValue) - p.cost;
  }
}
