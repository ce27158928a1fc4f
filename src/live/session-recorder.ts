// Session recording of a paper or live node: every market event and every order event it handles, with the
// engine time of each, into `<catalog>/sessions/<id>/` (events.b4s, see data/session-log.ts), beside a
// session.json holding the config, strategies, instruments and balances needed to re-run it. When the session
// stops, its market data is imported into the session directory as a catalog (Parquet, like any import), so
// `bot4 data ls --catalog <catalog>/sessions/<id>` and `catalog:` queries read it.
// On the event path a record is ~11 stores into a preallocated buffer; the file writes are async and batched.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { L2Book } from '../book/l2-book.ts';
import { wallMicros } from '../core/clock.ts';
import { Catalog } from '../data/catalog.ts';
import {
  DEFAULT_CATALOG_DIR,
  ORDER_TAG,
  SESSION_LOG_FILE,
  SESSION_MANIFEST_FILE,
  SessionLogWriter,
  type SessionManifest,
  sessionDir,
  sessionLogLoader,
} from '../data/session-log.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Instrument } from '../model/instrument.ts';
import { type QuoteTick, RECORD_KIND_NAMES, RecordKind, type TradeTick } from '../model/market-data.ts';
import { orderEventName } from '../model/order-state.ts';

export interface SessionRecordOptions {
  /** The catalog the session is recorded into (sessions/<id>/ below it). */
  catalogDir: string;
  /** Rows per write buffer (default 4096). */
  rowsPerBuffer?: number;
  /** Milliseconds between hand-overs of a partly filled buffer (default 200). */
  flushMs?: number;
  /** Import the market rows into the session's catalog at stop (default true; benchmarks skip it). */
  importCatalog?: boolean;
}

/** A session id: mode, UTC start time to the second, 4 random hex digits (two nodes started the same second). */
export function newSessionId(mode: string, nowMicros: number = wallMicros()): string {
  const t = new Date(Math.floor(nowMicros / 1000))
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${mode}-${t}-${randomBytes(2).toString('hex')}`;
}

export class SessionRecorder {
  readonly id: string;
  readonly dir: string;
  readonly log: SessionLogWriter;
  /** Rows recorded by tag (RecordKind, ORDER_TAG + OrderEventKind). */
  readonly counts = new Float64Array(ORDER_TAG + 16);
  private readonly manifest: SessionManifest;
  private readonly catalogDir: string;
  private readonly importCatalog: boolean;
  private readonly kernel: Kernel;
  private readonly subscription: number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    id: string,
    dir: string,
    manifest: SessionManifest,
    kernel: Kernel,
    o: SessionRecordOptions,
  ) {
    this.id = id;
    this.dir = dir;
    this.manifest = manifest;
    this.catalogDir = o.catalogDir;
    this.importCatalog = o.importCatalog !== false;
    this.kernel = kernel;
    this.log = new SessionLogWriter(join(dir, SESSION_LOG_FILE), o.rowsPerBuffer ?? 4096, kernel.clock);
    const log = this.log;
    const counts = this.counts;
    // Every order event the engine publishes, strategies' and reconciliation's alike, as it is published.
    this.subscription = kernel.bus.subscribe(kernel.engine.orderEvents, (ev) => {
      counts[ORDER_TAG + ev.kind]!++;
      log.orderEvent(ev);
    });
    this.timer = setInterval(() => log.flush(), o.flushMs ?? 200);
  }

  /** Creates the session directory and its manifest, and starts recording the kernel's order events. */
  static start(
    o: SessionRecordOptions & {
      mode: 'paper' | 'live';
      config: Record<string, unknown> & { strategies: { name: string; params: Record<string, unknown> }[] };
      kernel: Kernel;
      instruments: readonly Instrument[];
      balances: readonly { currency: string; amount: string }[];
      paperLatencyMicros: number;
    },
  ): SessionRecorder {
    const id = newSessionId(o.mode);
    const dir = sessionDir(o.catalogDir, id);
    mkdirSync(dir, { recursive: true });
    const manifest: SessionManifest = {
      version: 1,
      id,
      mode: o.mode,
      startedAt: new Date(wallMicros() / 1000).toISOString(),
      config: o.config,
      // A strategy file is kept by its absolute path: the replay may run from another directory.
      strategies: o.config.strategies.map((s) => {
        const file = s.name.replace(/:[A-Za-z_$][\w$]*$/, '');
        return {
          name: file !== s.name || existsSync(s.name) ? resolve(file) + s.name.slice(file.length) : s.name,
          params: s.params,
        };
      }),
      instruments: o.instruments.map((i) => i.spec),
      balances: o.balances.map((b) => ({ currency: b.currency, amount: b.amount })),
      paperLatencyMicros: o.paperLatencyMicros,
    };
    writeManifest(dir, manifest);
    return new SessionRecorder(id, dir, manifest, o.kernel, o);
  }

  // The event path: the writer reads the engine clock itself (a double argument would be boxed per call).
  quote(q: QuoteTick): void {
    this.counts[RecordKind.QUOTE]!++;
    this.log.quote(q);
  }

  trade(t: TradeTick): void {
    this.counts[RecordKind.TRADE]!++;
    this.log.trade(t);
  }

  /** A strategy's book after a depth update (see SessionLogWriter.book). */
  book(instrumentId: number, book: L2Book): void {
    this.counts[RecordKind.DELTA]!++;
    this.log.book(instrumentId, book);
  }

  /** Rows recorded, by kind name. */
  countsByName(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let tag = 0; tag < this.counts.length; tag++) {
      const n = this.counts[tag]!;
      if (n === 0) continue;
      out[tag >= ORDER_TAG ? orderEventName(tag - ORDER_TAG) : RECORD_KIND_NAMES[tag as RecordKind]] = n;
    }
    return out;
  }

  /**
   * Stops recording (at engine time `engineTs`, when the node's clock stopped), completes the log and the
   * manifest, imports the market rows into the session's catalog; returns the summary lines (a failed import
   * is reported, the log stays the record).
   */
  async close(engineTs?: number): Promise<string[]> {
    if (this.closed) return [];
    this.closed = true;
    clearInterval(this.timer);
    this.kernel.bus.unsubscribe(this.kernel.engine.orderEvents, this.subscription);
    if (engineTs !== undefined) this.log.clock(engineTs);
    await this.log.close();
    const counts = this.countsByName();
    this.manifest.stoppedAt = new Date(wallMicros() / 1000).toISOString();
    this.manifest.counts = counts;
    writeManifest(this.dir, this.manifest);
    const market = (counts.quote ?? 0) + (counts.trade ?? 0) + (counts.delta ?? 0);
    const orders = Object.entries(counts)
      .filter(([k]) => k !== 'quote' && k !== 'trade' && k !== 'delta')
      .reduce((s, [, n]) => s + n, 0);
    const lines = [
      `session ${this.id}: ${market} market events${counts.delta === undefined ? '' : ` (${counts.delta} book updates)`}, ` +
        `${orders} order events recorded in ${this.dir}` +
        (this.log.writeErrors > 0 ? ` (${this.log.writeErrors} writes FAILED: ${this.log.firstError})` : ''),
    ];
    if (market > 0 && this.importCatalog) {
      const catalog = Catalog.open(this.dir, { replayCache: false });
      try {
        const r = await catalog.importFile(join(this.dir, SESSION_LOG_FILE), {
          loader: sessionLogLoader(this.manifest.instruments),
          instruments: this.manifest.instruments,
        });
        lines.push(
          `session market data: ${r.record.rows} rows in the catalog ${this.dir} (${r.record.parts.length} Parquet files)`,
        );
      } catch (e) {
        lines.push(
          `session market data NOT imported into a catalog (${(e as Error).message}); the log ${SESSION_LOG_FILE} has it`,
        );
      } finally {
        catalog.close();
      }
    }
    const where = this.catalogDir === DEFAULT_CATALOG_DIR ? '' : ` --catalog ${this.catalogDir}`;
    lines.push(`replay it: bot4 backtest --replay-session ${this.id}${where}`);
    return lines;
  }
}

function writeManifest(dir: string, m: SessionManifest): void {
  // Written whole then renamed: a crash leaves the previous manifest, never half of one.
  const tmp = join(dir, `${SESSION_MANIFEST_FILE}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(m, null, 2)}\n`);
  renameSync(tmp, join(dir, SESSION_MANIFEST_FILE));
}
