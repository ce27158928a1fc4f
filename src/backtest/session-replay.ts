// `bot4 backtest --replay-session <id>`: re-runs a recorded paper or live session's strategies on the session's
// own market data through the backtest runner (the same kernel, simulated venue with the session's latency,
// risk limits and balances), then pairs the backtest's orders with the session's, order by order
// (session-divergence.ts). The replay clock is the session's engine clock: each market event is replayed at
// the engine time the node handled it, so a deterministic strategy on its own data reproduces every order.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
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
import { RiskConfigSchema } from '../risk/risk-config.ts';
import { resolveStrategy } from '../strategy/loader.ts';
import { parseParams } from '../strategy/params.ts';
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

/** Reads a session's manifest; errors name the session and what is wrong. */
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
  let m: SessionManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as SessionManifest;
  } catch (e) {
    throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: ${(e as Error).message}`, { file });
  }
  for (const key of ['strategies', 'instruments', 'balances'] as const) {
    if (!Array.isArray(m[key])) {
      throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: '${key}' is missing or not a list`, {
        file,
        key,
      });
    }
  }
  if (m.version !== 1) {
    throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: 'version' ${m.version} is not 1`, { file });
  }
  return m;
}

export async function replaySession(o: ReplayOptions): Promise<SessionReplay> {
  const manifest = readSessionManifest(o.catalogDir, o.sessionId);
  const dir = sessionDir(o.catalogDir, o.sessionId);
  const log = readSessionLog(join(dir, SESSION_LOG_FILE));
  // The session's instruments at the ids its log uses (the node's registry order).
  const registry: InstrumentRegistry = newInstrumentRegistry();
  for (const spec of manifest.instruments) registry.add(spec);
  const strategies = [];
  for (const [i, s] of manifest.strategies.entries()) {
    const cls = await resolveStrategy(s.name);
    const given = o.params?.[i] ?? s.params;
    const params = parseParams(
      cls.params,
      Object.entries(given).map(([k, v]) => `${k}=${String(v)}`),
      `strategy ${cls.name}`,
    );
    strategies.push({ strategy: new cls(params), parameters: params });
  }
  const riskConfig = RiskConfigSchema.parse(manifest.config.risk ?? {});
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
