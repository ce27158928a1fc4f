// Fee schedules for simulated venues (backtest, optimise): maker/taker rates per instrument, per venue and by
// default, from the config's `fees` section or `--fee`, written as percent ("0.02%"), basis points ("2bps") or
// fractions ("0.0002"), or as a named preset (Binance's published tiers). Rates are exact FeeRate integers
// (1e-8 units); the InstrumentRegistry applies a schedule to every instrument it adds, so an instrument built
// from a candle file charges the configured fees instead of none. Edge code: runs once per instrument.

import { z } from 'zod';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { type FeeRate, feeRateToDecimal, parseFeeRate } from './instrument.ts';

/** Maker and taker rates and where they came from (a preset name, a config key, `--fee`). */
export interface FeeSchedule {
  readonly maker: FeeRate;
  readonly taker: FeeRate;
  readonly source: string;
}

const RATE_RE = /^([+-]?)(\d+(?:\.\d+)?|\.\d+)\s*(%|bps?)?$/i;

// Binance's regular (non-market-maker) tiers, as published on binance.com/en/fee/schedule (spot) and
// binance.com/en/fee/futureFee (USD-M), as the author knew them on 2026-12-07; compared then against a
// third-party copy of the spot table (VIP0-9, with and without BNB) and of the USD-M table (VIP0-6), which
// agreed. USD-M VIP7-9 could not be re-checked offline: confirm them against Binance before relying on them.
// Binance changes these tables from time to time and your account's own rate (GET /api/v3/account
// commissionRates, /fapi/v1/commissionRate) is the authority. Rates in percent: [maker, taker].
const BINANCE_SPOT: readonly (readonly [string, string])[] = [
  ['0.1000', '0.1000'],
  ['0.0900', '0.1000'],
  ['0.0800', '0.1000'],
  ['0.0420', '0.0600'],
  ['0.0420', '0.0540'],
  ['0.0360', '0.0480'],
  ['0.0300', '0.0420'],
  ['0.0240', '0.0360'],
  ['0.0180', '0.0300'],
  ['0.0120', '0.0240'],
];
const BINANCE_USDM: readonly (readonly [string, string])[] = [
  ['0.0200', '0.0500'],
  ['0.0160', '0.0400'],
  ['0.0140', '0.0350'],
  ['0.0120', '0.0320'],
  ['0.0100', '0.0300'],
  ['0.0080', '0.0270'],
  ['0.0060', '0.0250'],
  ['0.0040', '0.0220'],
  ['0.0020', '0.0200'],
  ['0.0000', '0.0170'],
];
/** Paying fees in BNB: 25% off on spot, 10% off on USD-M futures (Binance's published discounts). */
const BNB_SPOT_FACTOR = 0.75;
const BNB_USDM_FACTOR = 0.9;

function tierPresets(
  prefix: string,
  table: readonly (readonly [string, string])[],
  bnb: number,
): [string, { maker: FeeRate; taker: FeeRate }][] {
  const out: [string, { maker: FeeRate; taker: FeeRate }][] = [];
  table.forEach(([m, t], vip) => {
    const maker = parseRate(`${m}%`, prefix);
    const taker = parseRate(`${t}%`, prefix);
    out.push([`${prefix}-vip${vip}`, { maker, taker }]);
    // Every tier's discounted rate is a whole number of 1e-8 units (checked by the tests), so this is exact.
    out.push([
      `${prefix}-vip${vip}-bnb`,
      { maker: Math.round(maker * bnb) as FeeRate, taker: Math.round(taker * bnb) as FeeRate },
    ]);
  });
  return out;
}

/** Named presets: binance-spot-vip0..9, binance-usdm-vip0..9, each also with -bnb; plus `zero`. */
export const FEE_PRESETS: ReadonlyMap<string, { maker: FeeRate; taker: FeeRate }> = new Map([
  ['zero', { maker: 0 as FeeRate, taker: 0 as FeeRate }],
  ...tierPresets('binance-spot', BINANCE_SPOT, BNB_SPOT_FACTOR),
  ...tierPresets('binance-usdm', BINANCE_USDM, BNB_USDM_FACTOR),
]);

/**
 * "0.02%", "2bps" (or "2bp"), "0.0002" or a number (a fraction) -> FeeRate (1e-8 units), exactly: the
 * decimal point moves, nothing goes through a float. Throws INVALID_ARGUMENT naming `what` and the value.
 */
export function parseRate(value: string | number, what: string): FeeRate {
  const text = typeof value === 'number' ? numberText(value) : value.trim();
  const m = RATE_RE.exec(text);
  if (m === null) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${what}: '${value}' is not a fee rate; write a percent (0.02%), basis points (2bps) or a fraction (0.0002)`,
      { value },
    );
  }
  const unit = (m[3] ?? '').toLowerCase();
  const shift = unit === '%' ? 2 : unit === '' ? 0 : 4;
  const digits = m[2]!.startsWith('.') ? `0${m[2]}` : m[2]!;
  const fraction = `${m[1] === '-' ? '-' : ''}${shiftLeft(digits, shift)}`;
  try {
    return parseFeeRate(fraction, what);
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${what}: '${value}' is finer than Binance's 8-decimal commission rates (1e-8 = 0.000001%)`,
      { value },
      { cause: e },
    );
  }
}

/** "12.5" shifted 2 places -> "0.125". */
function shiftLeft(digits: string, places: number): string {
  if (places === 0) return digits;
  const [int, frac = ''] = digits.split('.');
  const whole = int!.padStart(places + 1, '0');
  const head = whole.slice(0, whole.length - places).replace(/^0+(?=\d)/, '');
  return `${head}.${whole.slice(whole.length - places)}${frac}`;
}

function numberText(x: number): string {
  const s = String(x);
  return /e/i.test(s) ? x.toFixed(20).replace(/\.?0+$/, '') : s;
}

/** A rate as a percent for people: 20_000 -> "0.02%". */
export function formatRatePct(rate: FeeRate | number): string {
  const pct = shiftRight(feeRateToDecimal(rate), 2);
  return `${pct}%`;
}

function shiftRight(decimal: string, places: number): string {
  const neg = decimal.startsWith('-');
  const [int, frac = ''] = (neg ? decimal.slice(1) : decimal).split('.');
  const f = frac.padEnd(places, '0');
  const head = `${int}${f.slice(0, places)}`.replace(/^0+(?=\d)/, '');
  const tail = f.slice(places).replace(/0+$/, '');
  return `${neg ? '-' : ''}${head}${tail === '' ? '' : `.${tail}`}`;
}

/**
 * One entry: a preset, or maker and taker rates (both: a missing side is a mistake, not a zero), or a preset
 * with one side overridden. A strict object, so a misspelt key is an error naming it.
 */
const rate = z.union([z.string(), z.number()]);
export const FeeEntrySchema = z
  .strictObject({ preset: z.string().min(1).optional(), maker: rate.optional(), taker: rate.optional() })
  .refine((e) => e.preset !== undefined || (e.maker !== undefined && e.taker !== undefined), {
    message: 'give a preset, or both maker and taker rates (e.g. {"maker": "0.02%", "taker": "0.05%"})',
  });
export type FeeEntry = z.infer<typeof FeeEntrySchema>;

/** The config's `fees` section: applies to simulated venues; the most specific entry wins. */
export const FeeConfigSchema = z.strictObject({
  /** Every instrument without a more specific entry; absent = the instrument's own rates (zero for files). */
  default: FeeEntrySchema.optional(),
  /** Per venue name as the data names it (BINANCE, BINANCE_USDM, FTX...). */
  venues: z.record(z.string().min(1), FeeEntrySchema).default({}),
  /** Per instrument, keyed "SYMBOL.VENUE" or "SYMBOL". */
  instruments: z.record(z.string().min(1), FeeEntrySchema).default({}),
});
export type FeeConfig = z.infer<typeof FeeConfigSchema>;

/** One entry of the config (or `--fee`) as rates; `where` names it in errors and in the report. */
export function feeFromEntry(entry: FeeEntry, where: string): FeeSchedule {
  let base: { maker: FeeRate; taker: FeeRate } | undefined;
  let source = where;
  if (entry.preset !== undefined) {
    const name = entry.preset.trim().toLowerCase();
    base = FEE_PRESETS.get(name);
    if (base === undefined) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${where === '--fee' ? where : `${where}.preset`}: unknown fee preset '${entry.preset}'; presets: ${presetSummary()}`,
        { value: entry.preset },
      );
    }
    source = `${name} via ${where}`;
  }
  const side = (v: string | number | undefined, s: 'maker' | 'taker'): FeeRate => {
    if (v !== undefined) return parseRate(v, `${where}.${s}`);
    if (base === undefined) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${where}: ${s} rate missing`, { key: where });
    }
    return base[s];
  };
  return { maker: side(entry.maker, 'maker'), taker: side(entry.taker, 'taker'), source };
}

function presetSummary(): string {
  return 'zero, binance-spot-vip0..vip9, binance-usdm-vip0..vip9 (each also -bnb)';
}

/**
 * `--fee` text: a preset name (`binance-usdm-vip0-bnb`) or `maker=0.02%,taker=0.05%` (both sides, in any
 * of the rate forms). Throws INVALID_ARGUMENT naming the bad part.
 */
export function parseFeeOption(text: string): FeeSchedule {
  const t = text.trim();
  if (!t.includes('=')) return feeFromEntry({ preset: t }, '--fee');
  const sides: Record<string, string> = {};
  for (const part of t.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim().toLowerCase();
    if (eq < 0 || (key !== 'maker' && key !== 'taker') || key in sides) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--fee '${text}': '${part.trim()}' is not maker=<rate> or taker=<rate> (once each), e.g. --fee maker=0.02%,taker=0.05%`,
        { value: text },
      );
    }
    sides[key] = part.slice(eq + 1);
  }
  if (sides.maker === undefined || sides.taker === undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--fee '${text}': give both maker= and taker=, e.g. --fee maker=0.02%,taker=0.05%`,
      { value: text },
    );
  }
  return {
    maker: parseRate(sides.maker, '--fee maker'),
    taker: parseRate(sides.taker, '--fee taker'),
    source: '--fee',
  };
}

/** Resolves the schedule of an instrument: instrument key, then symbol, then venue, then default. */
export class FeeSchedules {
  private readonly byInstrument = new Map<string, FeeSchedule>();
  private readonly byVenue = new Map<string, FeeSchedule>();
  private fallback: FeeSchedule | undefined;

  /** Checks every entry now (a bad preset or rate fails at start, naming its config key). */
  static fromConfig(config: FeeConfig): FeeSchedules {
    const s = new FeeSchedules();
    if (config.default !== undefined) s.fallback = feeFromEntry(config.default, 'fees.default');
    for (const [venue, e] of Object.entries(config.venues)) {
      s.byVenue.set(venue, feeFromEntry(e, `fees.venues.${venue}`));
    }
    for (const [key, e] of Object.entries(config.instruments)) {
      s.byInstrument.set(key, feeFromEntry(e, `fees.instruments.${key}`));
    }
    return s;
  }

  /** One schedule for everything (`--fee` replaces whatever the config says). */
  static uniform(schedule: FeeSchedule): FeeSchedules {
    const s = new FeeSchedules();
    s.fallback = schedule;
    return s;
  }

  get isEmpty(): boolean {
    return this.fallback === undefined && this.byVenue.size === 0 && this.byInstrument.size === 0;
  }

  resolve(symbol: string, venue: string): FeeSchedule | undefined {
    return (
      this.byInstrument.get(`${symbol}.${venue}`) ??
      this.byInstrument.get(symbol) ??
      this.byVenue.get(venue) ??
      this.fallback
    );
  }
}

/** The schedules a run uses: `--fee` when given (it replaces the config's), else the config's; undefined if none. */
export function runFeeSchedules(config: FeeConfig, feeOption: string | undefined): FeeSchedules | undefined {
  const s =
    feeOption === undefined
      ? FeeSchedules.fromConfig(config)
      : FeeSchedules.uniform(parseFeeOption(feeOption));
  return s.isEmpty ? undefined : s;
}

/** "BTC-PERP.FTX: 0.02% / 0.05% (--fee)" for reports; rates as fractions (spec and report.json form). */
export function feeLine(
  key: string,
  maker: string | undefined,
  taker: string | undefined,
  source?: string,
): string {
  const pct = (f: string | undefined) => formatRatePct(f === undefined ? 0 : parseFeeRate(f));
  return `${key}: ${pct(maker)} / ${pct(taker)} (${source ?? 'instrument definition'})`;
}
