// `bot4 data download`: candles (klines) and aggregate trades from Binance's public REST API (spot, USD-M)
// into CSV files the loaders read, page by page, resuming from the last complete line of a partial file, backing
// off on rate limits (429 Retry-After) and transient failures. Times: µs inside, ms on the wire. Prices: decimal text.

import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { BINANCE_VENUES, binanceSpotSpecs, binanceUsdmSpecs } from '../model/binance-instruments.ts';
import type { InstrumentSpec } from '../model/instrument.ts';

export type DownloadMarket = 'spot' | 'usdm';
export type DownloadType = 'klines' | 'trades';

export const BINANCE_REST: Readonly<Record<DownloadMarket, string>> = {
  spot: 'https://api.binance.com',
  usdm: 'https://fapi.binance.com',
};

const ENDPOINTS: Readonly<
  Record<DownloadMarket, { klines: string; aggTrades: string; exchangeInfo: string }>
> = {
  spot: { klines: '/api/v3/klines', aggTrades: '/api/v3/aggTrades', exchangeInfo: '/api/v3/exchangeInfo' },
  usdm: { klines: '/fapi/v1/klines', aggTrades: '/fapi/v1/aggTrades', exchangeInfo: '/fapi/v1/exchangeInfo' },
};

/** Rows per request (the venue's maximum) and the request-weight budget per minute. */
const PAGE: Readonly<Record<DownloadMarket, { klines: number; aggTrades: number; weightPerMinute: number }>> =
  {
    spot: { klines: 1000, aggTrades: 1000, weightPerMinute: 6000 },
    usdm: { klines: 1500, aggTrades: 1000, weightPerMinute: 2400 },
  };

/** Kline intervals and their length in ms (1M, a calendar month, is not supported: it has no fixed length). */
export const KLINE_INTERVALS: Readonly<Record<string, number>> = {
  '1s': 1000,
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
  '1w': 604_800_000,
};

const HOUR_MS = 3_600_000;

/** The fetch function (injected in tests; global fetch by default). */
export type FetchFn = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

export interface DownloadOptions {
  market: DownloadMarket;
  symbol: string;
  type: DownloadType;
  /** Kline interval, e.g. '1m' (klines only). */
  interval?: string;
  /** Time range [from, to) in µs. */
  from: number;
  to: number;
  outDir: string;
  fetch?: FetchFn;
  sleep?: (ms: number) => Promise<void>;
  baseUrl?: string;
  /** Attempts per request on network errors and 5xx before giving up (default 6). */
  maxRetries?: number;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadProgress {
  file: string;
  rows: number;
  requests: number;
  /** Time of the last row written (µs). */
  lastTs: number;
}

export interface DownloadResult {
  file: string;
  /** Rows written by this run, and the bytes already in the file when it resumed (0: a fresh file). */
  rows: number;
  resumedBytes: number;
  requests: number;
  firstTs: number | null;
  lastTs: number | null;
  /** The instrument as exchangeInfo describes it (for importing with exact tick and lot sizes). */
  spec: InstrumentSpec;
  venue: string;
}

/** One kline: times in ms, values as the venue's decimal text (trailing zeros removed). */
export interface Kline {
  openTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  closeTime: number;
  quoteVolume: string;
  trades: number;
  takerBuyBase: string;
  takerBuyQuote: string;
}

/** One trade (aggregate or single): time in ms; `buyerMaker` true means the taker sold. */
export interface RestTrade {
  id: number;
  price: string;
  qty: string;
  time: number;
  buyerMaker: boolean;
}

/** "60685.22000000" -> "60685.22", "21.00000000" -> "21": loaders infer the tick from the decimals shown. */
export function trimDecimal(s: string): string {
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

function decimalField(v: unknown, what: string, where: string): string {
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return trimDecimal(v);
  throw malformed(where, `${what} ${JSON.stringify(v)} is not a decimal string`);
}

function intField(v: unknown, what: string, where: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw malformed(where, `${what} ${JSON.stringify(v)} is not an integer`);
}

function malformed(where: string, message: string): Bot4Error {
  return new Bot4Error(ErrorCode.DATA_MALFORMED, `${where}: ${message}`, { source: where });
}

/** GET /api/v3/klines or /fapi/v1/klines: an array of 12-element arrays. */
export function parseKlines(json: unknown, where: string): Kline[] {
  if (!Array.isArray(json)) throw malformed(where, 'expected a JSON array of klines');
  return json.map((k, i) => {
    const at = `${where}[${i}]`;
    if (!Array.isArray(k) || k.length < 11) throw malformed(at, 'expected a kline array of 12 fields');
    return {
      openTime: intField(k[0], 'open time', at),
      open: decimalField(k[1], 'open', at),
      high: decimalField(k[2], 'high', at),
      low: decimalField(k[3], 'low', at),
      close: decimalField(k[4], 'close', at),
      volume: decimalField(k[5], 'volume', at),
      closeTime: intField(k[6], 'close time', at),
      quoteVolume: decimalField(k[7], 'quote volume', at),
      trades: intField(k[8], 'trade count', at),
      takerBuyBase: decimalField(k[9], 'taker buy base volume', at),
      takerBuyQuote: decimalField(k[10], 'taker buy quote volume', at),
    };
  });
}

/** GET aggTrades: objects {a, p, q, f, l, T, m[, M]}. */
export function parseAggTrades(json: unknown, where: string): RestTrade[] {
  if (!Array.isArray(json)) throw malformed(where, 'expected a JSON array of aggregate trades');
  return json.map((t, i) => {
    const at = `${where}[${i}]`;
    if (typeof t !== 'object' || t === null) throw malformed(at, 'expected an aggregate trade object');
    const o = t as Record<string, unknown>;
    if (typeof o['m'] !== 'boolean') throw malformed(at, `m ${JSON.stringify(o['m'])} is not a boolean`);
    return {
      id: intField(o['a'], 'a (aggregate trade id)', at),
      price: decimalField(o['p'], 'p (price)', at),
      qty: decimalField(o['q'], 'q (quantity)', at),
      time: intField(o['T'], 'T (time)', at),
      buyerMaker: o['m'],
    };
  });
}

/** GET trades / historicalTrades: objects {id, price, qty, quoteQty, time, isBuyerMaker[, isBestMatch]}. */
export function parseTrades(json: unknown, where: string): RestTrade[] {
  if (!Array.isArray(json)) throw malformed(where, 'expected a JSON array of trades');
  return json.map((t, i) => {
    const at = `${where}[${i}]`;
    if (typeof t !== 'object' || t === null) throw malformed(at, 'expected a trade object');
    const o = t as Record<string, unknown>;
    if (typeof o['isBuyerMaker'] !== 'boolean') {
      throw malformed(at, `isBuyerMaker ${JSON.stringify(o['isBuyerMaker'])} is not a boolean`);
    }
    return {
      id: intField(o['id'], 'id', at),
      price: decimalField(o['price'], 'price', at),
      qty: decimalField(o['qty'], 'qty', at),
      time: intField(o['time'], 'time', at),
      buyerMaker: o['isBuyerMaker'],
    };
  });
}

/** data.binance.vision kline CSV line (no header), which the binance-klines-csv loader reads. */
export function klineCsv(k: Kline): string {
  return `${k.openTime},${k.open},${k.high},${k.low},${k.close},${k.volume},${k.closeTime},${k.quoteVolume},${k.trades},${k.takerBuyBase},${k.takerBuyQuote},0\n`;
}

/** Header of the trade CSV the trades-csv loader reads; side is the taker's. */
export const TRADES_CSV_HEADER = 'timestamp,id,side,price,amount\n';

export function tradeCsv(t: RestTrade): string {
  return `${t.time},${t.id},${t.buyerMaker ? 'sell' : 'buy'},${t.price},${t.qty}\n`;
}

/** "2024-08-08" at midnight, "2024-08-08T093000" otherwise: ranges that differ get different files. */
function dateText(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  const time = iso.slice(11, 19).replace(/:/g, '');
  return time === '000000' ? iso.slice(0, 10) : `${iso.slice(0, 10)}T${time}`;
}

/** Output file: the symbol and interval first, as the loaders' name guessing expects; the range makes it unique. */
export function downloadFile(o: DownloadOptions): string {
  const range = `${dateText(o.from)}_${dateText(o.to)}`;
  const name =
    o.type === 'klines'
      ? `${o.symbol}-${o.interval ?? '1m'}-${range}.csv`
      : `${o.symbol}-aggTrades-${range}.csv`;
  return join(o.outDir, `binance-${o.market}`, name);
}

/**
 * The last complete line of a file, from its tail; a partial last line (being written when the previous run
 * stopped) is cut off so the resumed run appends whole lines. Returns the file size after the repair.
 */
function lastLineAndRepair(file: string): { line: string | undefined; bytes: number } {
  const size = statSync(file).size;
  const n = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(n);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, n, size - n);
  } finally {
    closeSync(fd);
  }
  const end = buf.lastIndexOf(10);
  const keep = size - n + end + 1;
  if (keep < size) truncateSync(file, keep);
  if (end < 0) return { line: undefined, bytes: keep };
  const start = buf.lastIndexOf(10, end - 1);
  return { line: buf.subarray(start + 1, end).toString('utf8'), bytes: keep };
}

/** A minimal HTTP client for Binance's public endpoints: retries, rate-limit backoff, typed errors. */
class RestClient {
  requests = 0;
  private readonly base: string;
  private readonly fetch: FetchFn;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly weightLimit: number;
  private readonly signal: AbortSignal | undefined;

  constructor(o: DownloadOptions) {
    this.base = o.baseUrl ?? BINANCE_REST[o.market];
    this.fetch = o.fetch ?? ((url, init) => fetch(url, init));
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.maxRetries = o.maxRetries ?? 6;
    this.weightLimit = PAGE[o.market].weightPerMinute;
    this.signal = o.signal;
  }

  async get(path: string, params: Record<string, string | number>): Promise<unknown> {
    const query = new URLSearchParams(
      Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const url = `${this.base}${path}?${query}`;
    let delay = 500;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        this.requests++;
        res = await this.fetch(url, this.signal === undefined ? {} : { signal: this.signal });
      } catch (e) {
        if (this.signal?.aborted === true) throw e;
        if (attempt >= this.maxRetries) throw unreachable(this.base, url, e, attempt);
        await this.sleep(delay);
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      if (res.status === 429 || res.status === 418) {
        const wait = retryAfterMs(res);
        if (res.status === 418 || attempt >= this.maxRetries + 4) {
          throw new Bot4Error(
            ErrorCode.INVALID_ARGUMENT,
            `Binance ${res.status === 418 ? 'banned this IP for' : 'kept rate-limiting'} GET ${url}` +
              ` (retry after ${Math.round(wait / 1000)} s); wait, then run the same command to resume`,
            { url, status: res.status, retryAfterMs: wait, retryable: true },
          );
        }
        await this.sleep(wait);
        continue;
      }
      if (res.status >= 500) {
        if (attempt >= this.maxRetries) {
          throw new Bot4Error(
            ErrorCode.DATA_MISSING,
            `Binance answered HTTP ${res.status} ${attempt} times to GET ${url}; try again later (the download resumes)`,
            { url, status: res.status, retryable: true },
          );
        }
        await this.sleep(delay);
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw malformed(
          `GET ${url}`,
          `HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 120)}`,
        );
      }
      if (!res.ok) {
        const b = body as { code?: unknown; msg?: unknown };
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `Binance rejected GET ${url}: HTTP ${res.status} ${String(b.code ?? '')} ${String(b.msg ?? text.slice(0, 120))}`.trim(),
          { url, status: res.status, code: b.code, retryable: false },
        );
      }
      // Stay under the request-weight budget: past 80% of it, pause before the next request.
      const used = Number(res.headers.get('x-mbx-used-weight-1m') ?? 0);
      if (used > 0.8 * this.weightLimit) await this.sleep(10_000);
      return body;
    }
  }
}

function retryAfterMs(res: Response): number {
  const s = Number(res.headers.get('retry-after'));
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

function unreachable(base: string, url: string, e: unknown, attempts: number): Bot4Error {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
  return new Bot4Error(
    ErrorCode.DATA_MISSING,
    `cannot reach ${base} (${why}) after ${attempts} attempt${attempts === 1 ? '' : 's'} at GET ${url}: check the network connection ` +
      `(this machine may be offline or behind a proxy); run the same command again to resume`,
    { url, cause: why, retryable: true },
    { cause: e },
  );
}

/** The instrument spec from exchangeInfo (also checks that the symbol exists before downloading). */
async function fetchSpec(client: RestClient, o: DownloadOptions): Promise<InstrumentSpec> {
  const info = await client.get(ENDPOINTS[o.market].exchangeInfo, { symbol: o.symbol });
  const build = o.market === 'spot' ? binanceSpotSpecs : binanceUsdmSpecs;
  // USD-M ignores the symbol parameter and returns every symbol: pick ours.
  const spec = build(info).specs.find((s) => s.symbol === o.symbol);
  if (spec === undefined) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `Binance ${o.market} exchangeInfo does not list ${o.symbol} (or lists it as an unsupported contract)`,
      { symbol: o.symbol },
    );
  }
  return spec;
}

function checkOptions(o: DownloadOptions): void {
  if (!/^[A-Z0-9]{2,20}$/.test(o.symbol)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `symbol ${JSON.stringify(o.symbol)} must be a Binance symbol such as BTCUSDT (upper case, no separator)`,
      { symbol: o.symbol },
    );
  }
  if (!(o.from < o.to) || !Number.isFinite(o.from) || !Number.isFinite(o.to)) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `time range --from ${o.from} --to ${o.to} is empty`, {
      from: o.from,
      to: o.to,
    });
  }
  if (o.type === 'klines' && KLINE_INTERVALS[o.interval ?? '1m'] === undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `kline interval ${JSON.stringify(o.interval)} is not one of ${Object.keys(KLINE_INTERVALS).join(', ')}`,
      { interval: o.interval },
    );
  }
  if (o.type === 'klines' && o.market === 'usdm' && o.interval === '1s') {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, 'USD-M futures have no 1s klines; use 1m or longer');
  }
}

/** Downloads klines or aggregate trades for [from, to) into `downloadFile(options)`, resuming a partial file. */
export async function download(o: DownloadOptions): Promise<DownloadResult> {
  checkOptions(o);
  const client = new RestClient(o);
  const spec = await fetchSpec(client, o);
  const file = downloadFile(o);
  mkdirSync(join(o.outDir, `binance-${o.market}`), { recursive: true });
  const result: DownloadResult = {
    file,
    rows: 0,
    resumedBytes: 0,
    requests: 0,
    firstTs: null,
    lastTs: null,
    spec,
    venue: BINANCE_VENUES[o.market],
  };
  const wrote = (tsMs: number, n: number) => {
    const us = tsMs * 1000;
    if (result.firstTs === null) result.firstTs = us;
    result.lastTs = us;
    result.rows += n;
    o.onProgress?.({ file, rows: result.rows, requests: client.requests, lastTs: us });
  };
  if (o.type === 'klines') await downloadKlines(o, client, file, result, wrote);
  else await downloadTrades(o, client, file, result, wrote);
  result.requests = client.requests;
  return result;
}

async function downloadKlines(
  o: DownloadOptions,
  client: RestClient,
  file: string,
  result: DownloadResult,
  wrote: (tsMs: number, n: number) => void,
): Promise<void> {
  const interval = o.interval ?? '1m';
  const toMs = Math.ceil(o.to / 1000);
  let start = Math.floor(o.from / 1000);
  if (existsSync(file)) {
    const { line, bytes } = lastLineAndRepair(file);
    result.resumedBytes = bytes;
    if (line !== undefined && /^\d+,/.test(line)) start = Number(line.split(',', 1)[0]) + 1;
  }
  const limit = PAGE[o.market].klines;
  while (start < toMs) {
    const where = `GET ${ENDPOINTS[o.market].klines} ${o.symbol} ${interval} from ${start}`;
    const page = parseKlines(
      await client.get(ENDPOINTS[o.market].klines, {
        symbol: o.symbol,
        interval,
        startTime: start,
        endTime: toMs - 1,
        limit,
      }),
      where,
    );
    const rows = page.filter((k) => k.openTime >= start && k.openTime < toMs);
    if (rows.length > 0) {
      appendFileSync(file, rows.map(klineCsv).join(''));
      wrote(rows[rows.length - 1]!.openTime, rows.length);
    }
    if (page.length < limit || rows.length === 0) break;
    start = rows[rows.length - 1]!.openTime + 1;
  }
}

async function downloadTrades(
  o: DownloadOptions,
  client: RestClient,
  file: string,
  result: DownloadResult,
  wrote: (tsMs: number, n: number) => void,
): Promise<void> {
  const path = ENDPOINTS[o.market].aggTrades;
  const toMs = Math.ceil(o.to / 1000);
  const limit = PAGE[o.market].aggTrades;
  let fromId: number | undefined;
  if (existsSync(file)) {
    const { line, bytes } = lastLineAndRepair(file);
    result.resumedBytes = bytes;
    const cells = line?.split(',');
    if (cells !== undefined && /^\d+$/.test(cells[1] ?? '')) {
      if (Number(cells[0]) >= toMs - 1) return;
      fromId = Number(cells[1]) + 1;
    }
  }
  if (!existsSync(file) || statSync(file).size === 0) appendFileSync(file, TRADES_CSV_HEADER);
  // Find the first trade: hour-long windows by time (the API refuses longer ones), then pages by id.
  let t = Math.floor(o.from / 1000);
  while (fromId === undefined && t < toMs) {
    const end = Math.min(t + HOUR_MS, toMs) - 1;
    const page = parseAggTrades(
      await client.get(path, { symbol: o.symbol, startTime: t, endTime: end, limit }),
      `GET ${path} ${o.symbol} from ${t}`,
    );
    if (page.length > 0) {
      fromId = page[0]!.id;
      break;
    }
    t = end + 1;
  }
  while (fromId !== undefined) {
    const page = parseAggTrades(
      await client.get(path, { symbol: o.symbol, fromId, limit }),
      `GET ${path} ${o.symbol} fromId ${fromId}`,
    );
    const rows = page.filter((x) => x.time < toMs && x.id >= fromId!);
    if (rows.length > 0) {
      appendFileSync(file, rows.map(tradeCsv).join(''));
      wrote(rows[rows.length - 1]!.time, rows.length);
    }
    if (page.length < limit || rows.length < page.length || rows.length === 0) break;
    fromId = rows[rows.length - 1]!.id + 1;
  }
}
