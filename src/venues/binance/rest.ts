// Binance REST over fetch: public and signed requests, every one passed through the rate governor first and
// its usage headers fed back; a 429/418 stops the governor for Retry-After; a -1021 (timestamp outside
// recvWindow) re-measures the server-time offset and retries once. Errors are BinanceApiError values that
// say whether a retry can help. Units: ms (Binance's), weights as Binance documents them.

import { wallMicros } from '../../core/clock.ts';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { RateGovernor, type RateLimitSpec } from './rate-governor.ts';
import { type BinanceCredentials, type ParamValue, queryString, ServerTime, signedQuery } from './signing.ts';

/** Binance error codes Bot4 acts on. */
export const BinanceCode = {
  UNKNOWN: -1000,
  DISCONNECTED: -1001,
  TOO_MANY_REQUESTS: -1003,
  TIMESTAMP_OUTSIDE_RECV_WINDOW: -1021,
  INVALID_SIGNATURE: -1022,
  NEW_ORDER_REJECTED: -2010,
  CANCEL_REJECTED: -2011,
  NO_SUCH_ORDER: -2013,
  BAD_API_KEY_FMT: -2014,
  REJECTED_MBX_KEY: -2015,
} as const;

export class BinanceApiError extends Error {
  /** HTTP status (0 when the request never got an answer). */
  readonly status: number;
  /** Binance's code (e.g. -2010), 0 when the answer had none. */
  readonly code: number;
  /** Whether the same request may succeed later (network, rate limit, venue overload), not (bad order). */
  readonly retryable: boolean;

  constructor(status: number, code: number, message: string) {
    super(message);
    this.name = 'BinanceApiError';
    this.status = status;
    this.code = code;
    this.retryable =
      status === 0 ||
      status === 429 ||
      status === 418 ||
      status >= 500 ||
      code === BinanceCode.DISCONNECTED ||
      code === BinanceCode.TOO_MANY_REQUESTS ||
      code === BinanceCode.TIMESTAMP_OUTSIDE_RECV_WINDOW;
  }
}

/** Which Binance market a client speaks to: spot (/api/v3) or USD-M futures (/fapi). */
export type BinanceRestMarket = 'spot' | 'usdm';

/** The routes that differ between the markets, by market. */
export const BINANCE_PATHS = {
  spot: {
    time: '/api/v3/time',
    exchangeInfo: '/api/v3/exchangeInfo',
    depth: '/api/v3/depth',
    order: '/api/v3/order',
    myTrades: '/api/v3/myTrades',
    openOrders: '/api/v3/openOrders',
    listenKey: '/api/v3/userDataStream',
  },
  usdm: {
    time: '/fapi/v1/time',
    exchangeInfo: '/fapi/v1/exchangeInfo',
    depth: '/fapi/v1/depth',
    order: '/fapi/v1/order',
    myTrades: '/fapi/v1/userTrades',
    openOrders: '/fapi/v1/openOrders',
    listenKey: '/fapi/v1/listenKey',
  },
} as const satisfies Record<BinanceRestMarket, Record<string, string>>;
export type BinancePaths = (typeof BINANCE_PATHS)[BinanceRestMarket];

export interface BinanceRestOptions {
  /** e.g. https://api.binance.com, https://testnet.binance.vision, http://127.0.0.1:<port>. */
  baseUrl: string;
  credentials?: BinanceCredentials;
  governor?: RateGovernor;
  serverTime?: ServerTime;
  /** Default 5000 ms (Binance's default; at most 60000). */
  recvWindowMs?: number;
  /** Per request, ms (default 10000). */
  timeoutMs?: number;
  /** Local wall clock in ms (a seam for clock-skew tests). */
  localMs?: () => number;
  /** Spot (default) or USD-M futures: the paths of time, exchangeInfo, orders and trades. */
  market?: BinanceRestMarket;
}

/** Local wall-clock ms (Binance's unit), from the engine's one wall-clock reader. */
const wallMillis = (): number => Math.floor(wallMicros() / 1000);

export type Params = Readonly<Record<string, ParamValue | undefined>>;

/** One row of GET /api/v3/myTrades: the fields Bot4 reads. */
export interface BinanceMyTrade {
  id: number;
  price: string;
  qty: string;
  commission: string;
  commissionAsset: string;
  time: number;
  isMaker: boolean;
}

export class BinanceRest {
  readonly baseUrl: string;
  readonly governor: RateGovernor;
  readonly serverTime: ServerTime;
  readonly recvWindowMs: number;
  readonly market: BinanceRestMarket;
  readonly paths: BinancePaths;
  private readonly creds: BinanceCredentials | undefined;
  private readonly timeoutMs: number;
  private readonly localMs: () => number;
  /** Requests sent, answered with an error, time re-syncs after -1021. */
  requests = 0;
  errors = 0;
  timeResyncs = 0;
  readonly venueNow = (): number => this.serverTime.venueMs(this.localMs());

  constructor(o: BinanceRestOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.creds = o.credentials;
    this.governor = o.governor ?? new RateGovernor([]);
    this.serverTime = o.serverTime ?? new ServerTime();
    this.recvWindowMs = o.recvWindowMs ?? 5_000;
    if (!(this.recvWindowMs > 0 && this.recvWindowMs <= 60_000)) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `recvWindow ${this.recvWindowMs} ms must be in (0, 60000]`,
      );
    }
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.localMs = o.localMs ?? wallMillis;
    this.market = o.market ?? 'spot';
    this.paths = BINANCE_PATHS[this.market];
  }

  get hasCredentials(): boolean {
    return this.creds !== undefined;
  }

  /** Measures the server-time offset (GET /api/v3/time or /fapi/v1/time, weight 1). */
  async syncTime(): Promise<number> {
    const sent = this.localMs();
    const r = (await this.request('GET', this.paths.time, {}, 1, false, false)) as { serverTime: number };
    this.serverTime.update(r.serverTime, sent, this.localMs());
    return this.serverTime.offsetMs;
  }

  /** exchangeInfo, and its rateLimits installed in the governor. */
  async exchangeInfo(
    symbols?: readonly string[],
  ): Promise<{ rateLimits?: RateLimitSpec[]; symbols: unknown[] }> {
    // USD-M's exchangeInfo takes no symbol filter: it always lists every symbol (weight 1).
    const usdm = this.market === 'usdm';
    const params = symbols === undefined || usdm ? {} : { symbols: JSON.stringify(symbols) };
    const info = (await this.request(
      'GET',
      this.paths.exchangeInfo,
      params,
      usdm ? 1 : 20,
      false,
      false,
    )) as {
      rateLimits?: RateLimitSpec[];
      symbols: unknown[];
    };
    if (info.rateLimits !== undefined) this.governor.setLimits(info.rateLimits);
    return info;
  }

  /** The depth snapshot as text (the market-data parser reads it without JSON.parse). */
  async depthText(symbol: string, limit = 1000, path = '/api/v3/depth'): Promise<string> {
    const weight = limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    return (await this.request('GET', path, { symbol, limit }, weight, false, false, true)) as string;
  }

  /** A public request; the answer parsed. */
  get(path: string, params: Params, weight: number): Promise<unknown> {
    return this.request('GET', path, params, weight, false, false);
  }

  /** An API-key request, not signed (USER_STREAM: the listen-key routes). */
  keyed(method: 'POST' | 'PUT' | 'DELETE', path: string, weight: number): Promise<unknown> {
    if (this.creds === undefined) {
      return Promise.reject(new BinanceApiError(0, BinanceCode.REJECTED_MBX_KEY, `${path} needs an API key`));
    }
    return this.request(method, path, {}, weight, false, false);
  }

  /** A signed request (USER_DATA / TRADE); `order` counts it against the order limits. */
  signed(
    method: 'GET' | 'POST' | 'DELETE' | 'PUT',
    path: string,
    params: Params,
    weight: number,
    order = false,
  ) {
    return this.request(method, path, params, weight, order, true);
  }

  /** The account's trades of one order (GET /api/v3/myTrades, weight 20; USD-M /fapi/v1/userTrades, 5). */
  async orderTrades(symbol: string, orderId: ParamValue): Promise<BinanceMyTrade[]> {
    const rows = (await this.signed(
      'GET',
      this.paths.myTrades,
      { symbol, orderId },
      20,
    )) as (BinanceMyTrade & {
      maker?: boolean;
    })[];
    // USD-M names the maker flag "maker" where spot has "isMaker".
    for (const r of rows) if (r.isMaker === undefined && r.maker !== undefined) r.isMaker = r.maker;
    return rows;
  }

  private async request(
    method: string,
    path: string,
    params: Params,
    weight: number,
    order: boolean,
    sign: boolean,
    text = false,
  ): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, path, params, weight, order, sign, text);
      } catch (e) {
        // The venue says our clock is off: measure again and retry once with a corrected timestamp.
        if (
          attempt === 0 &&
          sign &&
          e instanceof BinanceApiError &&
          e.code === BinanceCode.TIMESTAMP_OUTSIDE_RECV_WINDOW
        ) {
          this.timeResyncs++;
          await this.syncTime();
          continue;
        }
        throw e;
      }
    }
  }

  private async once(
    method: string,
    path: string,
    params: Params,
    weight: number,
    order: boolean,
    sign: boolean,
    text: boolean,
  ): Promise<unknown> {
    await this.governor.acquire(weight, order, this.venueNow);
    let qs: string;
    const headers: Record<string, string> = {};
    if (sign) {
      if (this.creds === undefined) {
        throw new BinanceApiError(0, BinanceCode.REJECTED_MBX_KEY, `${path} needs API keys and none are set`);
      }
      qs = signedQuery(this.creds, params, this.venueNow(), this.recvWindowMs);
      headers['X-MBX-APIKEY'] = this.creds.apiKey;
    } else {
      qs = queryString(params);
      if (this.creds !== undefined) headers['X-MBX-APIKEY'] = this.creds.apiKey;
    }
    // Binance reads signed POST/DELETE parameters from the query string as well as the body: one form for all.
    const url = `${this.baseUrl}${path}${qs === '' ? '' : `?${qs}`}`;
    this.requests++;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      this.errors++;
      throw new BinanceApiError(0, 0, `${method} ${path}: no answer (${(e as Error).message})`);
    }
    const now = this.venueNow();
    this.governor.onHeaders((n) => res.headers.get(n), now);
    const body = await res.text();
    if (res.status === 429 || res.status === 418) {
      this.governor.onRateLimited(res.status, Number(res.headers.get('retry-after')), now);
    }
    if (!res.ok) {
      this.errors++;
      let code = 0;
      let msg = body.slice(0, 200);
      try {
        const j = JSON.parse(body) as { code?: number; msg?: string };
        code = j.code ?? 0;
        msg = j.msg ?? msg;
      } catch {
        // Not JSON (a proxy's page): keep the text.
      }
      throw new BinanceApiError(res.status, code, `${method} ${path}: HTTP ${res.status} ${code} ${msg}`);
    }
    if (text) return body;
    try {
      return JSON.parse(body);
    } catch {
      this.errors++;
      throw new BinanceApiError(
        res.status,
        0,
        `${method} ${path}: answer is not JSON (${body.slice(0, 80)})`,
      );
    }
  }
}
