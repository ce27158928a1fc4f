// Defaults a backtest takes from its data, so `bot4 backtest --strategy ema-cross --data FILE` runs with nothing
// else: the instrument the strategy trades (the data's only instrument, or --symbol/--venue), its bar interval,
// and the starting balance (in the instrument's settlement currency). Tick, lot, venue and settlement currency
// are the loaders' (from the file's name and decimals, or the catalog). What the user gave always wins; every
// default taken is said in one note (standard error and the report). Units: micros for intervals.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { type Instrument, type InstrumentRegistry, instrumentKindName } from '../model/instrument.ts';
import type { ParamPrimitive, ParamSchema } from '../strategy/params.ts';
import { displayDecimals } from './report-format.ts';

export interface DataDefaultsInput {
  /** The strategy's parameter schema and the keys the user set (--param). */
  schema: ParamSchema;
  given: ReadonlySet<string>;
  /** Instruments of the data (registered when the data was opened). */
  instruments: InstrumentRegistry;
  /** --symbol / --venue: which instrument, when the data holds several (or renames a file's). */
  symbol?: string | undefined;
  venue?: string | undefined;
  /** Bar interval of candle data, micros (undefined for tick data). */
  barInterval?: number | undefined;
  /** True when --balance was given. */
  balanceGiven: boolean;
}

export interface DataDefaults {
  /** The instrument strategies trade by default; undefined when the data holds several and none was named. */
  instrument: Instrument | undefined;
  /** Parameters to add to the user's (instrument, interval). */
  params: Record<string, ParamPrimitive>;
  /** The starting balance when none was given. */
  balance: { amount: string; currency: string } | undefined;
  /** One line naming each default taken; empty when none was. */
  notes: string[];
}

/** 60_000_000 -> '1m', 3_600_000_000 -> '1h', 86_400_000_000 -> '1d', 30_000_000 -> '30s'. */
export function intervalText(micros: number): string {
  const units: [number, string][] = [
    [86_400_000_000, 'd'],
    [3_600_000_000, 'h'],
    [60_000_000, 'm'],
    [1_000_000, 's'],
  ];
  for (const [u, name] of units) if (micros >= u && micros % u === 0) return `${micros / u}${name}`;
  return String(micros);
}

function pick(input: DataDefaultsInput): Instrument | undefined {
  const all = input.instruments.all();
  const { symbol, venue } = input;
  if (symbol === undefined && venue === undefined) return all.length === 1 ? all[0] : undefined;
  const found = all.filter(
    (i) =>
      (symbol === undefined || i.symbol === symbol.toUpperCase()) &&
      (venue === undefined || i.venue === venue.toUpperCase()),
  );
  if (found.length === 1) return found[0];
  const named = [
    symbol === undefined ? '' : `--symbol ${symbol}`,
    venue === undefined ? '' : `--venue ${venue}`,
  ]
    .filter((s) => s !== '')
    .join(' ');
  throw new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `${named} names ${found.length === 0 ? 'no instrument' : `${found.length} instruments`} of the data (it holds ${all.map((i) => i.key).join(', ') || 'none'}); add --venue or pick another`,
    { symbol, venue },
  );
}

/** The defaults of a run over `input.instruments`; throws INVALID_ARGUMENT when --symbol/--venue name no instrument. */
export function dataDefaults(input: DataDefaultsInput): DataDefaults {
  const inst = pick(input);
  const params: Record<string, ParamPrimitive> = {};
  const taken: string[] = [];
  const spec = input.schema;
  if (inst !== undefined) {
    const s = spec.instrument;
    if (s !== undefined && s.type === 'string' && !input.given.has('instrument')) {
      params.instrument = inst.key;
      taken.push(
        `instrument ${inst.key} (${instrumentKindName(inst.kind).toLowerCase()}, tick ${inst.tickSize.text}, lot ${inst.lotSize.text}, settles in ${inst.settlement.code})`,
      );
    }
  }
  // Several instruments and none picked: the strategy plan runs one instance per instrument (strategy-plan.ts).
  const iv = spec.interval;
  if (iv !== undefined && input.barInterval !== undefined && !input.given.has('interval')) {
    const text = intervalText(input.barInterval);
    const fits = iv.type === 'string' || (iv.type === 'enum' && iv.values.includes(text));
    if (fits && text !== iv.default) {
      params.interval = text;
      taken.push(`bar interval ${text}`);
    }
  }
  let balance: DataDefaults['balance'];
  if (!input.balanceGiven) {
    const settles = new Set(input.instruments.all().map((i) => i.settlement.code));
    const code = inst?.settlement.code ?? (settles.size === 1 ? [...settles][0]! : 'USDT');
    const c = input.instruments.currencies.get(code);
    // 10,000 of a fiat or stable coin, 1 of a coin (an inverse perpetual settles in BTC: 10,000 BTC is not a start).
    const amount = c === undefined || displayDecimals(c) <= 2 ? '10000' : '1';
    balance = { amount, currency: code };
    taken.push(`balance ${amount} ${code}${inst === undefined ? '' : ' (the settlement currency)'}`);
  }
  const notes =
    taken.length === 0
      ? []
      : [`defaults from the data: ${taken.join(', ')}; --symbol/--venue, --param and --balance set them`];
  return { instrument: inst, params, balance, notes };
}
