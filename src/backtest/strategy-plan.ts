// Several strategies and instruments in one backtest: which strategy instances a run builds from the CLI's
// repeatable `--strategy` and `--param`, and the data's instruments. All instances share one account per venue
// (the kernel's portfolio), so their orders, margin and risk limits interact as they would live.
//
// Rules (README "Many instruments and strategies in one run"):
// - `--param key=value` goes to every strategy whose schema declares `key`; `--param N.key=value` (N the
//   1-based position of the --strategy) or `--param NAME.key=value` (the built-in name or file stem) to one.
//   A key no strategy declares is an error naming the key.
// - A strategy with an `instrument` parameter that no --param sets trades the data's instrument, and runs once
//   per instrument when the data holds several (each copy named `name[KEY]`).
// - A strategy with an `instruments` parameter (a portfolio strategy) that no --param sets gets every
//   instrument of the data, comma separated, and runs once.

import { basename, extname } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Instrument, InstrumentRegistry } from '../model/instrument.ts';
import { parseParams } from '../strategy/params.ts';
import { resolveInstrument, type Strategy, type StrategyClass } from '../strategy/strategy.ts';
import { isCatalogQuery, parseCatalogQuery } from './data-query.ts';

export interface StrategyEntry {
  /** The --strategy text as given ('ema-cross', 'my.ts', 'my.ts:Export'). */
  readonly spec: string;
  readonly cls: StrategyClass;
}

export interface PlannedStrategy {
  readonly strategy: Strategy;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** The short name a `--param NAME.key=value` prefix matches: a built-in name, or the file's stem. */
export function entryName(spec: string): string {
  const path = spec.replace(/:[A-Za-z_$][\w$]*$/, '');
  const ext = extname(path);
  return ext === '' ? path : basename(path, ext);
}

/**
 * Splits `--param` texts among the strategies (see the module rules); returns each entry's `key=value` list.
 * Throws INVALID_ARGUMENT for a prefix that names no strategy or a key no strategy declares.
 */
export function routeParams(entries: readonly StrategyEntry[], params: readonly string[]): string[][] {
  const out = entries.map((): string[] => []);
  for (const arg of params) {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg : arg.slice(0, eq).trim();
    const dot = key.indexOf('.');
    if (dot > 0) {
      const prefix = key.slice(0, dot);
      const rest = `${key.slice(dot + 1)}${eq < 0 ? '' : arg.slice(eq)}`;
      const n = /^\d+$/.test(prefix) ? Number(prefix) : Number.NaN;
      const targets = Number.isNaN(n)
        ? entries.flatMap((e, i) => (entryName(e.spec) === prefix ? [i] : []))
        : n >= 1 && n <= entries.length
          ? [n - 1]
          : [];
      if (targets.length > 0) {
        for (const i of targets) out[i]!.push(rest);
        continue;
      }
      if (entries.length > 1 || !Number.isNaN(n)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `--param '${arg}': '${prefix}' names no --strategy (give its position 1..${entries.length} or one of ${entries.map((e) => entryName(e.spec)).join(', ')})`,
          { param: arg },
        );
      }
    }
    const targets = entries.flatMap((e, i) => (Object.hasOwn(e.cls.params, key) ? [i] : []));
    // One strategy: its own parser names the unknown key and lists the known ones.
    if (targets.length === 0 && entries.length === 1) targets.push(0);
    if (targets.length === 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--param '${arg}': no --strategy has a parameter '${key}' (${entries.map((e) => `${entryName(e.spec)}: ${Object.keys(e.cls.params).join(', ')}`).join('; ')})`,
        { param: arg },
      );
    }
    for (const i of targets) out[i]!.push(arg);
  }
  return out;
}

/**
 * The instruments a run's data holds: those a catalog query names, and every registered one when there are
 * files or a catalog query for all (`catalog:*`); in registry order.
 */
export function dataInstruments(specs: readonly string[], registry: InstrumentRegistry): Instrument[] {
  const all = registry.all();
  const queries = specs.filter(isCatalogQuery).map(parseCatalogQuery);
  if (specs.length === 0 || queries.length < specs.length || queries.some((q) => q.instruments.length === 0))
    return [...all];
  const named = new Set(
    queries.flatMap((q) => q.instruments.map((r) => resolveInstrument(registry, r, '--data').id)),
  );
  return all.filter((i) => named.has(i.id));
}

function given(list: readonly string[], key: string): boolean {
  return list.some((a) => a.slice(0, a.indexOf('=')).trim() === key);
}

/** The strategy instances of a run (see the module rules). Parameters are parsed here: errors name the strategy. */
export function planStrategies(
  entries: readonly StrategyEntry[],
  params: readonly string[],
  instruments: readonly Instrument[],
): PlannedStrategy[] {
  const routed = routeParams(entries, params);
  const out: PlannedStrategy[] = [];
  entries.forEach((e, i) => {
    const list = routed[i]!;
    const name = entryName(e.spec);
    const context = entries.length > 1 ? `strategy ${i + 1} (${name})` : `strategy ${e.cls.name}`;
    const build = (extra: string[], label: string | undefined): void => {
      const parameters = parseParams(e.cls.params, [...list, ...extra], context);
      const strategy = new e.cls(parameters);
      if (label !== undefined) strategy.name = label;
      out.push({ strategy, parameters });
    };
    const schema = e.cls.params;
    if (Object.hasOwn(schema, 'instrument') && !given(list, 'instrument') && instruments.length > 0) {
      if (instruments.length === 1)
        build([`instrument=${instruments[0]!.key}`], entries.length > 1 ? name : undefined);
      else for (const inst of instruments) build([`instrument=${inst.key}`], `${name}[${inst.key}]`);
      return;
    }
    const portfolio =
      Object.hasOwn(schema, 'instruments') && !given(list, 'instruments') && instruments.length > 0;
    build(
      portfolio ? [`instruments=${instruments.map((x) => x.key).join(',')}`] : [],
      entries.length > 1 ? name : undefined,
    );
  });
  return out;
}
