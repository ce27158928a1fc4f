// `bot4 backtest --replay-session <id>`: re-runs a recorded paper or live session's strategies on the session's
// own market data through the backtest runner (the same kernel, simulated venue with the session's latency,
// risk limits and balances), then pairs the backtest's orders with the session's, order by order
// (session-divergence.ts). The replay clock is the session's engine clock: each market event is replayed at
// the engine time the node handled it, so a deterministic strategy on its own data reproduces every order.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Bot4Error, ErrorCode, isBot4Error } from '../core/errors.ts';
import {
  CLOCK_TAG,
  Col,
  encodeOrderEvent,
  marketBatches,
  ROW,
  readSessionLog,
  SESSION_LOG_FILE,
  SESSION_MANIFEST_FILE,
  type SessionLog,
  type SessionManifest,
  sessionDir,
} from '../data/session-log.ts';
import { type InstrumentRegistry, newInstrumentRegistry } from '../model/instrument.ts';
import { DeltaFlag, RecordKind } from '../model/market-data.ts';
import { type RiskConfig, RiskConfigSchema } from '../risk/risk-config.ts';
import { resolveStrategy } from '../strategy/loader.ts';
import { parseParams } from '../strategy/params.ts';
import type { Strategy } from '../strategy/strategy.ts';
import { type BacktestResult, runBacktest } from './runner.ts';
import {
  type CompareOptions,
  compareOrders,
  type Divergence,
  divergenceLines,
} from './session-divergence.ts';

export interface ReplayOptions extends CompareOptions {
  catalogDir: string;
  sessionId: string;
  /** Divergences listed in the printed lines and report notes (all are in divergence.json). Default 20. */
  listMax?: number;
  /** Replaces the recorded parameters of strategy i (tests, what-if runs). */
  params?: readonly Record<string, unknown>[];
}

export interface SessionReplay {
  manifest: SessionManifest;
  log: SessionLog;
  result: BacktestResult;
  divergence: Divergence;
  /** The backtest's order events, in the session log's encoding. */
  backtest: { rows: Float64Array; count: number };
  /** Market events of the session replayed: quotes, trades, book updates (the runner counts rows). */
  marketEvents: number;
  /** Summary lines (also the first report notes). */
  lines: string[];
}

const str = z.string().min(1);
/** What a replay needs of session.json (data/session-log.ts SessionManifest); other keys are kept as they are. */
const ManifestSchema = z.looseObject({
  version: z.literal(1),
  id: str,
  mode: z.enum(['paper', 'live']),
  startedAt: str,
  stoppedAt: str.optional(),
  config: z.record(z.string(), z.unknown()),
  strategies: z
    .array(
      z.strictObject({
        name: str,
        params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
      }),
    )
    .min(1),
  instruments: z
    .array(
      z.looseObject({
        symbol: str,
        venue: str,
        kind: z.number().int(),
        base: str,
        quote: str,
        settlement: str,
        tickSize: str,
        lotSize: str,
      }),
    )
    .min(1),
  balances: z.array(z.strictObject({ currency: str, amount: str })).min(1),
  paperLatencyMicros: z.number().int().nonnegative(),
  counts: z.record(z.string(), z.number()).optional(),
});

/** What a session needs to re-run: its manifest and, built from it, instruments, strategies and risk limits. */
export interface LoadedSession {
  manifest: SessionManifest;
  registry: InstrumentRegistry;
  strategies: { strategy: Strategy; parameters: Record<string, unknown> }[];
  riskConfig: RiskConfig;
}

/** Reads a session's manifest; errors name the session, the file and the bad key (exit 2). */
export function readSessionManifest(catalogDir: string, id: string): SessionManifest {
  const dir = sessionDir(catalogDir, id);
  const file = join(dir, SESSION_MANIFEST_FILE);
  if (!existsSync(file)) {
    const root = join(dir, '..');
    const known = existsSync(root) ? readdirSync(root).slice(-5) : [];
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `--replay-session '${id}': no session ${id} in ${root}` +
        (known.length > 0
          ? ` (latest: ${known.join(', ')})`
          : ' (no sessions recorded there; check --catalog)'),
      { session: id, dir: root },
    );
  }
  return parseSessionManifest(readFileSync(file, 'utf8'), file);
}

export function parseSessionManifest(text: string, file: string): SessionManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: ${(e as Error).message}`, { file });
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = issue.path.join('.');
    throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: '${key}': ${issue.message}`, { file, key });
  }
  return r.data as unknown as SessionManifest;
}

/** The manifest with its instruments registered (at the log's ids), strategies constructed, risk limits parsed. */
export async function loadSession(
  catalogDir: string,
  id: string,
  params?: readonly Record<string, unknown>[],
): Promise<LoadedSession> {
  const manifest = readSessionManifest(catalogDir, id);
  const file = join(sessionDir(catalogDir, id), SESSION_MANIFEST_FILE);
  // The session's instruments at the ids its log uses (the node's registry order).
  const registry: InstrumentRegistry = newInstrumentRegistry();
  // What the registry and the strategy loader refuse is named with the file and the manifest key.
  const where = async <T>(key: string, f: () => T | Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (!isBot4Error(e)) throw e;
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}: '${key}': ${e.message}`,
        { file, key },
        { cause: e },
      );
    }
  };
  for (const [i, spec] of manifest.instruments.entries())
    await where(`instruments.${i}`, () => registry.add(spec));
  const strategies = [];
  for (const [i, s] of manifest.strategies.entries()) {
    const built = await where(`strategies.${i}`, async () => {
      const cls = await resolveStrategy(s.name);
      const parsed = parseParams(
        cls.params,
        Object.entries(params?.[i] ?? s.params).map(([k, v]) => `${k}=${String(v)}`),
        `strategy ${cls.name}`,
      );
      return { strategy: new cls(parsed), parameters: parsed };
    });
    strategies.push(built);
  }
  const risk = RiskConfigSchema.safeParse(manifest.config.risk ?? {});
  if (!risk.success) {
    const key = `config.risk.${risk.error.issues[0]!.path.join('.')}`;
    throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: '${key}': ${risk.error.issues[0]!.message}`, {
      file,
      key,
    });
  }
  return { manifest, registry, strategies, riskConfig: risk.data };
}

export async function replaySession(o: ReplayOptions): Promise<SessionReplay> {
  const { manifest, registry, strategies, riskConfig } = await loadSession(
    o.catalogDir,
    o.sessionId,
    o.params,
  );
  const log = readSessionLog(join(sessionDir(o.catalogDir, o.sessionId), SESSION_LOG_FILE));
  const lat = manifest.paperLatencyMicros;
  // The backtest's order events, in the log's encoding, to be paired with the session's.
  let bt = new Float64Array(1024 * ROW);
  let btCount = 0;
  const notes: string[] = [];
  if (log.malformed > 0)
    notes.push(`session log: ${log.malformed} damaged row(s) dropped (${log.examples.join('; ')})`);
  if (log.truncatedBytes > 0) {
    notes.push(
      `session log: the last row was cut short (${log.truncatedBytes} bytes, a crash mid-write), dropped`,
    );
  }
  if (manifest.stoppedAt === undefined) {
    notes.push(
      'the session did not stop cleanly (no stop time): compared up to the last whole row of its log',
    );
  }
  if (manifest.mode === 'live') {
    notes.push('a live session: its fills came from the venue, the backtest fills in the simulated exchange');
  }
  let divergence: Divergence | undefined;
  const lines: string[] = [];
  const result = await runBacktest({
    strategies,
    instruments: registry,
    data: marketBatches(log),
    dataLabel: `session ${manifest.id} (${manifest.mode}, ${manifest.startedAt})`,
    balances: manifest.balances,
    // The node's equity currency (a live session's balances come in the venue's order, BTC before USDT).
    reportCurrency: riskConfig.accountCurrency,
    riskConfig,
    // Seconds-long sessions: a minute grid would be one sample.
    sampleIntervalMicros: 1_000_000,
    venue: { latency: { orderEntry: lat, response: lat }, venueOrderIds: true, tradeIds: true },
    onOrderEvent: (ev) => {
      if ((btCount + 1) * ROW > bt.length) {
        const grown = new Float64Array(bt.length * 2);
        grown.set(bt);
        bt = grown;
      }
      encodeOrderEvent(ev, bt, btCount * ROW);
      btCount++;
    },
    // Read once the run has ended (every order event is in): the comparison goes into the report's notes.
    dataNotes: () => {
      divergence = compareOrders(log.rows, log.count, bt, btCount, registry, o);
      lines.push(...divergenceLines(divergence, o.listMax ?? 20), ...notes);
      return lines;
    },
  });
  // The report is built on first read, after dataNotes ran.
  void result.report;
  // A book update is a group of delta rows ending in one with the LAST flag.
  let marketEvents = 0;
  for (let i = 0; i < log.count; i++) {
    const tag = log.rows[i * ROW]!;
    if (tag === RecordKind.DELTA ? (log.rows[i * ROW + Col.D]! & DeltaFlag.LAST) !== 0 : tag < CLOCK_TAG) {
      marketEvents++;
    }
  }
  return {
    manifest,
    log,
    result,
    divergence: divergence!,
    backtest: { rows: bt, count: btCount },
    marketEvents,
    lines,
  };
}

/** Writes divergence.json (counts and every divergence) beside the report files. */
export function writeDivergence(outDir: string, r: SessionReplay): string {
  const file = join(outDir, 'divergence.json');
  const d = r.divergence;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        session: r.manifest.id,
        mode: r.manifest.mode,
        counts: d.counts,
        orphanEvents: d.orphanEvents,
        notByStrategy: d.notByStrategy,
        items: d.items.map((i) => ({
          kind: i.kind,
          fields: i.fields,
          text: i.text,
          live: i.live,
          backtest: i.backtest,
        })),
      },
      (_, v) => (typeof v === 'number' && Number.isNaN(v) ? null : v),
      2,
    )}\n`,
  );
  return file;
}
