// The trading node's venue through ccxt (`venue.kind: "ccxt"`, src/live/node.ts calls this): builds the ccxt
// exchange from the config (exchange id checked against ccxt.exchanges, options, sandbox, endpoint
// overrides), maps loadMarkets() onto Bot4 instruments, reads the venue's balances, and hands the node its
// three parts: the order client (CcxtVenue, live only), the market data (CcxtMarketData) and the reads of
// start-up reconciliation (fetchOpenOrders, fetchBalance) for the shared logic in src/live/reconcile.ts.
// Two exchange instances: a public one for market data (paper needs no keys) and, live, one with the keys for
// orders, sharing the loaded markets. Keys come from BOT4_CCXT_API_KEY / BOT4_CCXT_SECRET or venue.keyFile
// and only ever reach the ccxt constructor: never printed, never in a report or a session file.

import { readFileSync } from 'node:fs';
import type { Exchange } from 'ccxt';
import ccxt from 'ccxt';
import type { L2Book } from '../../book/l2-book.ts';
import type { Clock } from '../../core/clock.ts';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { addDecimals } from '../../live/node.ts';
import type { NodeConfig } from '../../live/node-config.ts';
import type { ReconcileVenue, VenueBalance, VenueOrder } from '../../live/reconcile.ts';
import type { Instrument, InstrumentSpec } from '../../model/instrument.ts';
import type { MarketDataEvent, MarketDataSink } from '../binance/market-data.ts';
import type { ConnectionEvent } from '../binance/ws-supervisor.ts';
import { pointBinanceAt } from './binance-urls.ts';
import { CCXT_KEY_ENV } from './ccxt-config.ts';
import { CcxtMarketData, ccxtFeedPlan } from './ccxt-market-data.ts';
import { ccxtSpecs, findMarket } from './ccxt-specs.ts';
import { CcxtVenue } from './ccxt-venue.ts';

type VenueConfig = NodeConfig['venue'];

interface CcxtKeys {
  apiKey: string;
  secret: string;
  password?: string;
}

/** Keys from venue.keyFile ({"apiKey","apiSecret"[,"password"]}) or the environment; undefined when none. */
export function loadCcxtKeys(env: NodeJS.ProcessEnv, keyFile: string | undefined): CcxtKeys | undefined {
  let apiKey: unknown;
  let secret: unknown;
  let password: unknown;
  let from: string;
  if (keyFile !== undefined) {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Bot4Error(
        ErrorCode.CONFIG_FILE,
        `key file ${keyFile} is not readable JSON: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    ({ apiKey, apiSecret: secret, password } = obj);
    from = `key file ${keyFile}`;
  } else {
    apiKey = env[CCXT_KEY_ENV.apiKey];
    secret = env[CCXT_KEY_ENV.secret];
    password = env[CCXT_KEY_ENV.password];
    if (apiKey === undefined || apiKey === '') return undefined;
    from = CCXT_KEY_ENV.apiKey;
  }
  if (typeof apiKey !== 'string' || apiKey === '' || typeof secret !== 'string' || secret === '') {
    throw new Bot4Error(
      ErrorCode.CONFIG_INVALID,
      keyFile !== undefined
        ? `${from} needs "apiKey" and "apiSecret" (and "password" where the exchange has a passphrase)`
        : `${from} is set but ${CCXT_KEY_ENV.secret} is not`,
    );
  }
  return typeof password === 'string' && password !== '' ? { apiKey, secret, password } : { apiKey, secret };
}

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null) {
      deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else into[k] = v;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message.split('\n')[0]}` : String(e);
}

export class CcxtNode {
  /** Bot4's venue name of the exchange's instruments (the id in capitals, e.g. BINANCE). */
  readonly venueName: string;
  /** The public instance (markets, market data). */
  readonly mdExchange: Exchange;
  /** The keyed instance (orders, balances, reconciliation); undefined without keys. */
  readonly tradeExchange: Exchange | undefined;
  private readonly cfg: VenueConfig;
  /** The order client made by orderClient(), stopped by close(). */
  private venue: CcxtVenue | undefined;

  private constructor(cfg: VenueConfig, md: Exchange, trade: Exchange | undefined) {
    this.cfg = cfg;
    this.mdExchange = md;
    this.tradeExchange = trade;
    this.venueName = md.id.toUpperCase();
  }

  /** Builds the exchange(s) and loads the markets; live needs keys. */
  static async open(o: {
    venue: VenueConfig;
    live: boolean;
    /** Whether the config has a journal: its recovery reads Binance's REST API, not yet ccxt. */
    journal: boolean;
    env: NodeJS.ProcessEnv;
  }): Promise<CcxtNode> {
    const v = o.venue;
    if (o.journal) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        "config 'journal': not supported with venue.kind 'ccxt' yet (planned); remove it or use kind 'binance'",
      );
    }
    const id = v.exchange ?? '';
    if (!ccxt.exchanges.includes(id)) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `config 'venue.exchange': '${id}' is not a ccxt exchange id (ccxt ${ccxt.version} has ${ccxt.exchanges.length}: ${ccxt.exchanges.slice(0, 6).join(', ')}...)`,
      );
    }
    if (v.restUrl !== undefined && id !== 'binance') {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `config 'venue.restUrl': with venue.kind 'ccxt' it names a Binance-compatible server, so venue.exchange must be binance (not '${id}'); use venue.urls for other exchanges`,
      );
    }
    const keys = loadCcxtKeys(o.env, v.keyFile);
    if (o.live && keys === undefined) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `live trading through ccxt needs API keys: set ${CCXT_KEY_ENV.apiKey} and ${CCXT_KEY_ENV.secret}, or venue.keyFile`,
      );
    }
    const classes = { ...(ccxt as unknown as Record<string, unknown>), ...ccxt.pro } as Record<
      string,
      new (
        c: Record<string, unknown>,
      ) => Exchange
    >;
    const Cls = classes[id]!;
    const make = async (k: CcxtKeys | undefined): Promise<Exchange> => {
      const ex = new Cls({
        ...(k ?? {}),
        enableRateLimit: true,
        timeout: 10_000,
        ...(v.options === undefined ? {} : { options: v.options }),
      });
      if (v.sandbox) ex.setSandboxMode(true);
      if (v.restUrl !== undefined) {
        pointBinanceAt(ex, v.restUrl, v.wsUrl ?? v.restUrl.replace(/^http/, 'ws'));
      }
      if (v.urls !== undefined) deepMerge(ex.urls as Record<string, unknown>, v.urls);
      // ccxt's switch for plain ws:// endpoints (a local server): node's http agent instead of a TLS one.
      if (v.restUrl !== undefined || v.urls !== undefined) await ex.loadHttpProxyAgent();
      return ex;
    };
    const md = await make(undefined);
    try {
      await md.loadMarkets();
    } catch (e) {
      await md.close().catch(() => {});
      throw new Bot4Error(ErrorCode.CONFIG_INVALID, `ccxt ${id}: loadMarkets failed: ${errText(e)}`);
    }
    let trade: Exchange | undefined;
    if (o.live) {
      trade = await make(keys);
      trade.setMarkets(md.markets);
      // CcxtVenue takes fills from watchMyTrades only (watchOrders gives it cancels and expiries).
      if (trade.has.watchMyTrades !== true) {
        await md.close().catch(() => {});
        throw new Bot4Error(
          ErrorCode.CONFIG_INVALID,
          `live trading through ccxt ${id} needs watchMyTrades for its fills (polling own trades is planned)`,
        );
      }
    }
    return new CcxtNode(v, md, trade);
  }

  /** What the node prints at start: where data comes from (streamed or polled). */
  describe(): string {
    const p = ccxtFeedPlan(this.mdExchange);
    const poll =
      p.book.startsWith('fetch') || p.trades.startsWith('fetch') ? `, polls every ${this.cfg.pollMs} ms` : '';
    return `ccxt ${this.mdExchange.id} ${ccxt.version}${this.cfg.sandbox ? ' (sandbox)' : ''}: book ${p.book}, quotes ${p.quotes}, trades ${p.trades}${poll}; orders ${this.tradeExchange === undefined ? 'simulated' : 'createOrder/cancelOrder, fills by watchMyTrades'}`;
  }

  specs(names: readonly string[]): InstrumentSpec[] {
    return ccxtSpecs(this.mdExchange, names, this.venueName);
  }

  /** ccxt's unified symbol of an instrument. */
  readonly symbolOf = (inst: Instrument): string =>
    findMarket(this.mdExchange, inst.symbol)?.symbol ?? inst.symbol;

  /** The venue's balances (total) of the instruments' assets, as the portfolio's starting balances. */
  async balances(insts: readonly Instrument[]): Promise<{ currency: string; amount: string }[]> {
    const wanted = new Set(insts.flatMap((i) => [i.base.code, i.quote.code]));
    return (await this.venueBalances())
      .filter((b) => wanted.has(b.asset))
      .map((b) => ({
        currency: b.asset,
        amount: addDecimals(b.free, b.locked),
      }));
  }

  private async venueBalances(): Promise<VenueBalance[]> {
    const b = await this.trader().fetchBalance();
    const out: VenueBalance[] = [];
    for (const [asset, free] of Object.entries(b.free as unknown as Record<string, number | undefined>)) {
      const used = (b.used as unknown as Record<string, number | undefined>)[asset] ?? 0;
      out.push({ asset, free: ccxt.numberToString(free ?? 0), locked: ccxt.numberToString(used) });
    }
    return out;
  }

  private trader(): Exchange {
    if (this.tradeExchange === undefined) throw new Error('ccxt node: no keyed exchange (paper mode)');
    return this.tradeExchange;
  }

  /** The live order client over the keyed instance. */
  orderClient(o: {
    name: string;
    instruments: readonly Instrument[];
    clock: Clock;
    onNote: (t: string) => void;
  }): CcxtVenue {
    this.venue = new CcxtVenue({
      name: o.name,
      exchange: this.trader(),
      instruments: o.instruments,
      clock: o.clock,
      symbolOf: this.symbolOf,
      onNote: o.onNote,
    });
    return this.venue;
  }

  /** Reconciliation's reads: fetchOpenOrders per instrument and fetchBalance, in Binance's shapes. */
  reconcileVenue(client: CcxtVenue): ReconcileVenue {
    const ex = this.trader();
    return {
      openOrders: async (inst): Promise<VenueOrder[]> =>
        (await ex.fetchOpenOrders(this.symbolOf(inst))).map((x) => ({
          symbol: inst.symbol,
          orderId: x.id ?? '',
          clientOrderId: x.clientOrderId ?? '',
          side: x.side === 'buy' ? 'BUY' : 'SELL',
          type: x.type ?? '',
          price: ccxt.numberToString(x.price ?? 0),
          origQty: ccxt.numberToString(x.amount ?? 0),
          executedQty: ccxt.numberToString(x.filled ?? 0),
        })),
      balances: () => this.venueBalances(),
      expectAdoption: (coid, venueId) => client.expectAdoption(coid, venueId),
    };
  }

  marketData(o: {
    instruments: readonly Instrument[];
    sink: MarketDataSink;
    clock: Clock;
    bookFor: (inst: Instrument) => L2Book | undefined;
    onEvent: (e: MarketDataEvent) => void;
    onConnection: (e: ConnectionEvent) => void;
  }): CcxtMarketData {
    return new CcxtMarketData({
      ...o,
      exchange: this.mdExchange,
      symbolOf: this.symbolOf,
      pollMs: this.cfg.pollMs,
    });
  }

  /**
   * Stops the order client's watchers and closes both instances, for a start that failed part way (a node
   * that started stops its market data and order client itself). Idempotent.
   */
  async close(): Promise<void> {
    await this.venue?.stop();
    await this.mdExchange.close().catch(() => {});
    await this.tradeExchange?.close().catch(() => {});
  }
}
