// A live node on Binance USD-M futures (config venue.market 'usdm'): the instruments from /fapi/v1/exchangeInfo
// as perpetuals, the starting balance from the USDT wallet (/fapi/v2/account), and the start-up reconciliation
// of positions (/fapi/v2/positionRisk): a venue position on a traded symbol is taken into the portfolio (at
// its entry price, rounded to the tick) when unknownOrders is 'adopt', and halts the start otherwise; after
// that the portfolio's position of every traded symbol must equal the venue's, or the start halts. One-way
// mode only (positionSide BOTH); a hedge-mode row halts. Units: venue decimals in, ticks/lots inside.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { binanceUsdmSpecs } from '../model/binance-instruments.ts';
import { decimalToSteps, decimalToStepsRounded, Rounding, stepsToDecimal } from '../model/decimal.ts';
import type { Instrument, InstrumentSpec } from '../model/instrument.ts';
import { OrderSide } from '../model/order.ts';
import type { BinanceRest } from '../venues/binance/rest.ts';

/** Instrument specs of a USD-M exchangeInfo, under the venue name BINANCE_USDM. */
export function usdmSpecs(info: unknown): InstrumentSpec[] {
  return binanceUsdmSpecs(info, { venue: 'BINANCE_USDM' }).specs;
}

/** The USD-M wallet as the portfolio's starting balance (USDT; unrealised PnL comes from the positions). */
export async function usdmVenueBalances(rest: BinanceRest): Promise<{ currency: string; amount: string }[]> {
  const acct = (await rest.signed('GET', '/fapi/v2/account', {}, 5)) as {
    assets: { asset: string; walletBalance: string }[];
  };
  for (const a of acct.assets) {
    if (a.walletBalance.startsWith('-')) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `reconciliation: the USD-M ${a.asset} wallet is ${a.walletBalance} (negative); trading halted`,
      );
    }
  }
  return acct.assets.map((a) => ({ currency: a.asset, amount: a.walletBalance }));
}

interface VenuePosition {
  symbol: string;
  positionSide: string;
  positionAmt: string;
  entryPrice: string;
}

/** Positions step of the reconciliation; returns its report lines. Throws (halts) on what it cannot explain. */
export async function reconcilePositions(o: {
  rest: BinanceRest;
  kernel: Kernel;
  instruments: readonly Instrument[];
  policy: 'adopt' | 'report' | 'halt';
}): Promise<string[]> {
  const lines: string[] = [];
  const rows = (await o.rest.signed('GET', '/fapi/v2/positionRisk', {}, 5)) as VenuePosition[];
  const traded = new Map(o.instruments.map((i) => [i.symbol, i]));
  const pf = o.kernel.portfolio;
  for (const r of rows) {
    if (r.positionSide !== 'BOTH') {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `reconciliation: ${r.symbol} has a ${r.positionSide} position: the account is in hedge mode, which this node does not trade (switch it to one-way mode); trading halted`,
      );
    }
    const inst = traded.get(r.symbol);
    const amt = inst === undefined ? Number(r.positionAmt) : decimalToSteps(r.positionAmt, inst.lotSize);
    if (amt === 0) continue;
    if (inst === undefined) {
      lines.push(
        `reconcile: position ${r.symbol} ${r.positionAmt} at the venue on a symbol this node does not trade`,
      );
      continue;
    }
    const have = pf.netQty(inst.id as InstrumentId);
    if (have === amt) continue;
    if (have !== 0 || o.policy !== 'adopt') {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `reconciliation: position ${r.symbol} ${r.positionAmt} (entry ${r.entryPrice}) at the venue but ${stepsToDecimal(have, inst.lotSize)} in this node; trading halted (unknownOrders is '${o.policy}': close the position at the venue, or set unknownOrders to 'adopt' to take it over)`,
      );
    }
    const px = decimalToStepsRounded(r.entryPrice, inst.tickSize, Rounding.HALF_EVEN);
    const side = amt > 0 ? OrderSide.BUY : OrderSide.SELL;
    pf.applyFill(inst, side, Math.abs(amt), px, 0, -1, o.kernel.clock.now() as Micros);
    lines.push(`reconcile: adopted position ${r.symbol} ${r.positionAmt} at entry ${r.entryPrice}`);
  }
  // What the node holds now must be the venue's, symbol by symbol (a journal or adoption that disagrees halts).
  for (const inst of o.instruments) {
    const row = rows.find((r) => r.symbol === inst.symbol);
    const venue = row === undefined ? 0 : decimalToSteps(row.positionAmt, inst.lotSize);
    const have = pf.netQty(inst.id as InstrumentId);
    if (have !== venue) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `reconciliation: ${inst.symbol} position is ${stepsToDecimal(venue, inst.lotSize)} at the venue but ${stepsToDecimal(have, inst.lotSize)} in this node; trading halted`,
      );
    }
  }
  const pos = o.instruments
    .map((i) => `${i.symbol} ${stepsToDecimal(pf.netQty(i.id as InstrumentId), i.lotSize)}`)
    .join(', ');
  lines.push(`reconcile: positions ${pos} equal the venue's`);
  return lines;
}
