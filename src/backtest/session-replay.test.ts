// Session recording and replay on loopback: a paper node trades the local exchange server and records its
// session into a temporary catalog; the replay reproduces its decisions order by order; a recording with a fill
// dropped, or with changed parameters, shows the divergence it should.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBot4Error } from '../core/errors.ts';
import { fuzzParams, mutatedBytes } from '../core/fuzz.test-util.ts';
import { waitFor } from '../core/poll.test-util.ts';
import { Catalog } from '../data/catalog.ts';
import {
  Col,
  ORDER_TAG,
  ROW,
  readSessionLog,
  SESSION_LOG_FILE,
  SESSION_LOG_HEADER_BYTES,
  SESSION_MANIFEST_FILE,
  type SessionManifest,
  sessionDir,
} from '../data/session-log.ts';
import { NodeMode, TradingNode } from '../live/node.ts';
import { NodeConfigSchema } from '../live/node-config.ts';
import { DeltaFlag, RecordKind } from '../model/market-data.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { BinanceRest } from '../venues/binance/rest.ts';
import { BinanceCredentials } from '../venues/binance/signing.ts';
import { startExchangeServer } from '../venues/server/server.ts';
import { orderTrails } from './session-divergence.ts';
import { loadSession, replaySession } from './session-replay.ts';

const catalogDir = mkdtempSync(join(tmpdir(), 'bot4-sessions-'));
let sessionId = '';
let summary: string[] = [];
let started: string[] = [];
let liveFills = 0;

beforeAll(async () => {
  const config = NodeConfigSchema.parse({
    instruments: ['BTCUSDT'],
    strategies: [
      {
        name: 'ema-cross',
        params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 3, slow: 8, qty: 0.001 },
      },
    ],
    paperLatencyMicros: 300,
    statusIntervalSec: 60,
  });
  const node = await TradingNode.start({
    mode: NodeMode.PAPER,
    config,
    print: (l) => started.push(l),
    record: { catalogDir, flushMs: 50, rowsPerBuffer: 64 },
  });
  try {
    await waitFor(() => node.counters.fills >= 6, 'six fills on the paper node', 30_000);
  } finally {
    summary = await node.stop();
  }
  liveFills = node.counters.fills;
  sessionId = node.recorder!.id;
}, 60_000);

afterAll(() => {
  started = [];
});

/** A copy of the recorded session under a new id, its log and manifest passed through `edit`. */
function perturbed(
  id: string,
  edit: { log?: (rows: Float64Array) => Float64Array; manifest?: (m: SessionManifest) => void },
): string {
  const from = sessionDir(catalogDir, sessionId);
  const to = sessionDir(catalogDir, id);
  cpSync(from, to, { recursive: true });
  if (edit.log !== undefined) {
    const file = join(to, SESSION_LOG_FILE);
    const bytes = readFileSync(file);
    const rows = edit.log(readSessionLog(file).rows);
    writeFileSync(
      file,
      Buffer.concat([
        bytes.subarray(0, SESSION_LOG_HEADER_BYTES),
        Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength),
      ]),
    );
  }
  if (edit.manifest !== undefined) {
    const file = join(to, SESSION_MANIFEST_FILE);
    const m = JSON.parse(readFileSync(file, 'utf8')) as SessionManifest;
    edit.manifest(m);
    writeFileSync(file, JSON.stringify(m));
  }
  return id;
}

describe('session recording', () => {
  it('prints the session id at start and in the summary, and records every order event and market event', () => {
    expect(
      started.some((l) => l === `session ${sessionId} recording to ${sessionDir(catalogDir, sessionId)}`),
    ).toBe(true);
    expect(summary.join('\n')).toContain(`session ${sessionId}: `);
    expect(summary.join('\n')).toContain(
      `replay it: bot4 backtest --replay-session ${sessionId} --catalog ${catalogDir}`,
    );
    const log = readSessionLog(join(sessionDir(catalogDir, sessionId), SESSION_LOG_FILE));
    expect(log.malformed + log.truncatedBytes).toBe(0);
    let fills = 0;
    let quotes = 0;
    for (let i = 0; i < log.count; i++) {
      const tag = log.rows[i * ROW + Col.TAG]!;
      if (tag === ORDER_TAG + OrderEventKind.FILLED) fills++;
      if (tag === 1) quotes++;
    }
    expect(fills).toBe(liveFills);
    const m = JSON.parse(
      readFileSync(join(sessionDir(catalogDir, sessionId), SESSION_MANIFEST_FILE), 'utf8'),
    ) as SessionManifest;
    expect(m.counts?.quote).toBe(quotes);
    expect(m.counts?.FILLED).toBe(liveFills);
    expect(m.stoppedAt).toBeDefined();
    expect(m.strategies[0]).toMatchObject({ name: 'ema-cross', params: { fast: 3, slow: 8 } });
  });

  it("imports the session's market data into the session directory's catalog", async () => {
    const catalog = Catalog.open(sessionDir(catalogDir, sessionId), { mustExist: true });
    try {
      const m = JSON.parse(
        readFileSync(join(sessionDir(catalogDir, sessionId), SESSION_MANIFEST_FILE), 'utf8'),
      ) as SessionManifest;
      const quotes = catalog.list().find((r) => r.kind === 'quote');
      expect(quotes?.rows).toBe(m.counts?.quote);
      expect(quotes?.instrument).toBe('BTCUSDT.BINANCE');
    } finally {
      catalog.close();
    }
  });
});

describe('bot4 backtest --replay-session', () => {
  it('reproduces every order of the session on its own data (zero divergence)', async () => {
    const r = await replaySession({ catalogDir, sessionId });
    const c = r.divergence.counts;
    expect(c.liveOrders).toBeGreaterThanOrEqual(6);
    expect(r.divergence.items.map((i) => i.text)).toEqual([]);
    expect(c).toMatchObject({
      matched: c.liveOrders,
      backtestOrders: c.liveOrders,
      missingInBacktest: 0,
      extraInBacktest: 0,
    });
    expect(r.lines[1]).toBe('no divergence: the backtest reproduced every order of the session');
    expect(r.result.report.notes).toContain(r.lines[0]);
  }, 30_000);

  it('a dropped fill in the recording shows as that order differing in quantity and outcome', async () => {
    let dropped = -1;
    const id = perturbed('dropped-fill', {
      log: (rows) => {
        const n = rows.length / ROW;
        for (let i = 0; i < n; i++) {
          if (rows[i * ROW + Col.TAG] === ORDER_TAG + OrderEventKind.FILLED) {
            dropped = rows[i * ROW + Col.A]!;
            const out = new Float64Array(rows.length - ROW);
            out.set(rows.subarray(0, i * ROW));
            out.set(rows.subarray((i + 1) * ROW), i * ROW);
            return out;
          }
        }
        throw new Error('no fill to drop');
      },
    });
    const r = await replaySession({ catalogDir, sessionId: id });
    const c = r.divergence.counts;
    expect(c).toMatchObject({
      matched: c.liveOrders - 1,
      quantityDiffers: 1,
      missingInBacktest: 0,
      extraInBacktest: 0,
    });
    expect(r.divergence.items).toHaveLength(1);
    const item = r.divergence.items[0]!;
    expect(item.live?.orderId).toBe(dropped);
    expect(item.fields).toContain('quantity');
    expect(item.fields).toContain('outcome');
    expect(item.text).toMatch(/^#\d+ (BUY|SELL) MARKET 0\.001 BTCUSDT created .*: .*quantity.*differ/);
  }, 30_000);

  it('a changed fill price in the recording shows as that order differing in price only', async () => {
    let changed = -1;
    const id = perturbed('changed-fill-price', {
      log: (rows) => {
        const n = rows.length / ROW;
        for (let i = n - 1; i >= 0; i--) {
          if (rows[i * ROW + Col.TAG] === ORDER_TAG + OrderEventKind.FILLED) {
            changed = rows[i * ROW + Col.A]!;
            rows[i * ROW + Col.D] = rows[i * ROW + Col.D]! + 7;
            return rows;
          }
        }
        throw new Error('no fill to change');
      },
    });
    const r = await replaySession({ catalogDir, sessionId: id });
    expect(r.divergence.counts).toMatchObject({
      priceDiffers: 1,
      quantityDiffers: 0,
      timeDiffers: 0,
      outcomeDiffers: 0,
    });
    expect(r.divergence.items.map((i) => [i.live?.orderId, i.fields])).toEqual([[changed, ['price']]]);
  }, 30_000);

  it('changed parameters show orders missing in backtest and extra in backtest', async () => {
    const id = perturbed('changed-params', {
      manifest: (m) => {
        m.strategies[0]!.params = { ...m.strategies[0]!.params, fast: 2, slow: 5 };
      },
    });
    const r = await replaySession({ catalogDir, sessionId: id });
    const c = r.divergence.counts;
    expect(c.matched).toBeLessThan(c.liveOrders);
    expect(c.missingInBacktest + c.extraInBacktest + c.timeDiffers).toBeGreaterThan(0);
    expect(r.lines[1]).toMatch(/^first \d+ of \d+ divergence\(s\):$/);
  }, 30_000);

  it('a session that crashed (no stop time, last row cut short) replays up to its last whole row, saying so', async () => {
    const id = perturbed('crashed', {
      manifest: (m) => {
        delete m.stoppedAt;
      },
    });
    const file = join(sessionDir(catalogDir, id), SESSION_LOG_FILE);
    writeFileSync(file, readFileSync(file).subarray(0, -(ROW * 8 + 13)));
    const r = await replaySession({ catalogDir, sessionId: id });
    expect(r.log.truncatedBytes).toBe(ROW * 8 - 13);
    expect(r.lines).toContain(
      'the session did not stop cleanly (no stop time): compared up to the last whole row of its log',
    );
    expect(r.lines.some((l) => /^session log: the last row was cut short \(75 bytes/.test(l))).toBe(true);
    expect(r.result.report.notes).toEqual(expect.arrayContaining(r.lines));
  }, 30_000);

  it('fuzz: a damaged session.json loads or is refused with a Bot4Error naming the file, never a crash', async () => {
    const id = perturbed('fuzzed-manifest', {});
    const file = join(sessionDir(catalogDir, id), SESSION_MANIFEST_FILE);
    const seed = readFileSync(file);
    let refused = 0;
    let loaded = 0;
    await fc.assert(
      fc.asyncProperty(mutatedBytes([seed]), async (bytes) => {
        writeFileSync(file, bytes);
        try {
          const s = await loadSession(catalogDir, id);
          expect(s.registry.size).toBe(s.manifest.instruments.length);
          loaded++;
        } catch (e) {
          expect(isBot4Error(e), String(e)).toBe(true);
          expect((e as Error).message).toContain('session.json');
          refused++;
        }
      }),
      fuzzParams(150),
    );
    expect(refused).toBeGreaterThan(0);
    expect(loaded).toBeGreaterThan(0);
  }, 60_000);

  it('an unknown session id is an error naming it', async () => {
    await expect(replaySession({ catalogDir, sessionId: 'paper-nope' })).rejects.toThrow(
      /--replay-session 'paper-nope': no session paper-nope in .*sessions \(latest: /,
    );
  });
});

describe('a book-reading strategy (market-maker)', () => {
  it("records its book updates as top-of-book snapshots, imports them, and its replay's first decision is the session's", async () => {
    const config = NodeConfigSchema.parse({
      instruments: ['BTCUSDT'],
      strategies: [{ name: 'market-maker', params: { instrument: 'BTCUSDT.BINANCE' } }],
      paperLatencyMicros: 300,
      statusIntervalSec: 60,
    });
    const node = await TradingNode.start({
      mode: NodeMode.PAPER,
      config,
      print: () => {},
      record: { catalogDir },
    });
    try {
      await waitFor(() => node.counters.submitted >= 3, 'three market-maker orders', 30_000);
    } finally {
      await node.stop();
    }
    const id = node.recorder!.id;
    const log = readSessionLog(join(sessionDir(catalogDir, id), SESSION_LOG_FILE));
    // Each book update: rows flagged SNAPSHOT, CLEAR on its first row, LAST on its last, at most 20 a side.
    let updates = 0;
    let inUpdate = 0;
    for (let i = 0; i < log.count; i++) {
      const o = i * ROW;
      if (log.rows[o + Col.TAG] !== RecordKind.DELTA) {
        expect(inUpdate).toBe(0);
        continue;
      }
      const flags = log.rows[o + Col.D]!;
      expect(flags & DeltaFlag.SNAPSHOT).toBe(DeltaFlag.SNAPSHOT);
      expect((flags & DeltaFlag.CLEAR) !== 0).toBe(inUpdate === 0);
      inUpdate++;
      expect(inUpdate).toBeLessThanOrEqual(40);
      if ((flags & DeltaFlag.LAST) !== 0) {
        updates++;
        inUpdate = 0;
      }
    }
    expect(updates).toBeGreaterThan(0);
    const catalog = Catalog.open(sessionDir(catalogDir, id), { mustExist: true });
    try {
      expect(catalog.list().find((r) => r.kind === 'delta')?.rows).toBeGreaterThan(0);
    } finally {
      catalog.close();
    }
    const r = await replaySession({ catalogDir, sessionId: id });
    const c = r.divergence.counts;
    const differs = r.divergence.items.filter((i) => i.kind === 'differs').length;
    expect(c.matched + differs + c.missingInBacktest).toBe(c.liveOrders);
    expect(c.matched + differs + c.extraInBacktest).toBe(c.backtestOrders);
    // The first book the strategy sees is the session's, so its first quote is too (later ones may differ: the
    // paper venue fills on quotes, the replay's on the recorded book, and see README on times).
    const first = (rows: Float64Array, n: number) => orderTrails(rows, n).trails[0]!;
    const bt = first(r.backtest.rows, r.backtest.count);
    const live = first(log.rows, log.count);
    expect([bt.created, bt.side, bt.type, bt.qty, bt.price]).toEqual([
      live.created,
      live.side,
      live.type,
      live.qty,
      live.price,
    ]);
  }, 60_000);
});

describe('a live session (on the local exchange server)', () => {
  it('records the venue fills and the orders adopted at start; the replay leaves those out and says it is live', async () => {
    const srv = await startExchangeServer({
      accounts: [{ apiKey: 'bot4Rec', apiSecret: 'recSecret' }],
      log: () => {},
    });
    try {
      const keyFile = join(mkdtempSync(join(tmpdir(), 'bot4-live-rec-')), 'keys.json');
      writeFileSync(keyFile, JSON.stringify({ apiKey: 'bot4Rec', apiSecret: 'recSecret' }));
      const rest = new BinanceRest({
        baseUrl: srv.url,
        credentials: BinanceCredentials.hmac('bot4Rec', 'recSecret'),
      });
      // An order a previous run left resting: adopted at start, not the strategy's.
      const prev = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01000' };
      await rest.signed(
        'POST',
        '/api/v3/order',
        { ...prev, price: '1000.00', newClientOrderId: 'prev-1' },
        1,
        true,
      );
      const config = NodeConfigSchema.parse({
        venue: { restUrl: srv.url, keyFile },
        instruments: ['BTCUSDT'],
        strategies: [
          {
            name: 'ema-cross',
            params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 2, slow: 5, qty: 0.001 },
          },
        ],
        unknownOrders: 'adopt',
        statusIntervalSec: 60,
      });
      const node = await TradingNode.start({
        mode: NodeMode.LIVE,
        config,
        print: () => {},
        env: {},
        record: { catalogDir },
      });
      try {
        await waitFor(() => node.counters.fills >= 3, 'three fills from the venue', 30_000);
      } finally {
        await node.stop();
      }
      const r = await replaySession({ catalogDir, sessionId: node.recorder!.id });
      expect(r.manifest.mode).toBe('live');
      expect(r.divergence.notByStrategy).toBe(1);
      expect(r.lines).toContain(
        'a live session: its fills came from the venue, the backtest fills in the simulated exchange',
      );
      const c = r.divergence.counts;
      expect(c.liveOrders).toBeGreaterThanOrEqual(3);
      // The decisions are the strategy's on the same quotes: every live order has its backtest twin.
      expect(c.missingInBacktest).toBe(0);
      const differs = r.divergence.items.filter((i) => i.kind === 'differs').length;
      expect(c.matched + differs).toBe(c.liveOrders);
    } finally {
      await srv.close();
    }
  }, 60_000);
});
