// A paper or live trading node: Binance market data over a combined stream feeds the same kernel the backtester
// builds (strategies, risk engine, emulator, portfolio); paper orders fill in a SimulatedExchange driven by the
// wall clock (advanceTo(now) on every market event and on a timer), live orders go to the venue through the
// native order client after reconciliation. With no venue URL in the config the node starts the local exchange
// server in-process (demo market, a generated key) and trades there.
// Units: engine micros (the kernel's TestClock follows the wall clock), ticks/lots; latency in ns.

import { randomBytes } from 'node:crypto';
import { PortfolioEquitySource } from '../backtest/recorder.ts';
import type { L2Book } from '../book/l2-book.ts';
import type { NodeCluster } from '../cluster/node-cluster.ts';
import { monoMillis, monoNanos, TestClock, wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import type { VenueClient } from '../execution/venue.ts';
import { buildKernel, type Kernel } from '../kernel/kernel.ts';
import { binanceSpotSpecs } from '../model/binance-instruments.ts';
import { currencies } from '../model/currency.ts';
import { stepsToDecimal } from '../model/decimal.ts';
import { type Instrument, newInstrumentRegistry } from '../model/instrument.ts';
import { type QuoteTick, RecordKind, type TradeTick } from '../model/market-data.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { HdrHistogram } from '../monitoring/latency.ts';
import type { NodeMetrics } from '../monitoring/node-metrics.ts';
import { NodeNotify } from '../notify/node-notify.ts';
import { checkNotifySecrets } from '../notify/notify-config.ts';
import { NodeJournal } from '../persistence/node-journal.ts';
import { BookUpdate } from '../strategy/context.ts';
import { resolveStrategy } from '../strategy/loader.ts';
import { parseParams } from '../strategy/params.ts';
import type { MarketDataEvent, MarketDataSink } from '../venues/binance/market-data.ts';
import { BinanceOrderClient } from '../venues/binance/order-client.ts';
import { RateGovernor } from '../venues/binance/rate-governor.ts';
import { BinanceRest } from '../venues/binance/rest.ts';
import {
  type BinanceCredentials,
  BinanceCredentials as Creds,
  loadCredentials,
} from '../venues/binance/signing.ts';
import type { ConnectionEvent } from '../venues/binance/ws-supervisor.ts';
import type { CcxtNode } from '../venues/ccxt/ccxt-node.ts';
import type { CcxtVenue } from '../venues/ccxt/ccxt-venue.ts';
import type { ExchangeServer } from '../venues/server/server.ts';
import { SimulatedExchange } from '../venues/sim/exchange.ts';
import { pinNode } from './affinity.ts';
import { BusyPoll } from './busy-poll.ts';
import { createMarketData } from './feed-worker.ts';
import type { NodeConfig } from './node-config.ts';
import type { NodeMarketData } from './node-market-data.ts';
import { NodeProbe } from './node-probe.ts';
import { binanceReconcileVenue, type ReconcileReport, reconcile } from './reconcile.ts';
import { SessionRecorder, type SessionRecordOptions } from './session-recorder.ts';
import { applyShutdownPolicy, nodeReadiness, type ShutdownConfig } from './shutdown.ts';
import { TickToTradeStages } from './tick-to-trade.ts';
import { usdmSpecs, usdmVenueBalances } from './usdm.ts';

export const NodeMode = { PAPER: 'paper', LIVE: 'live' } as const;
export type NodeMode = (typeof NodeMode)[keyof typeof NodeMode];

export interface NodeOptions {
  mode: NodeMode;
  config: NodeConfig;
  env?: NodeJS.ProcessEnv;
  /** Status lines and notes (default stdout). */
  print?: (line: string) => void;
  /** A started metrics endpoint (`--metrics-port`) the node feeds; the caller closes it. */
  metrics?: NodeMetrics;
  /** Records the session (market and order events, config) into a catalog (src/live/session-recorder.ts). */
  record?: SessionRecordOptions;
}

/** Counts for the status line and the summary. */
class NodeCounters {
  submitted = 0;
  fills = 0;
  rejected = 0;
  denied = 0;
  canceled = 0;
}

export class TradingNode implements MarketDataSink {
  readonly mode: NodeMode;
  readonly kernel: Kernel;
  readonly md: NodeMarketData;
  readonly orders: BinanceOrderClient | undefined;
  /** The live order client with venue.kind 'ccxt' (then `orders` is undefined). */
  readonly ccxtOrders: CcxtVenue | undefined;
  readonly server: ExchangeServer | undefined;
  readonly reconciliation: ReconcileReport | undefined;
  /** The crash-safe journal, when the config names one. */
  readonly journal: NodeJournal | undefined;
  /** The session recording, when asked for. */
  readonly recorder: SessionRecorder | undefined;
  readonly counters = new NodeCounters();
  /** Webhook and Telegram notifications, when the config has a `notify` section. */
  readonly notify: NodeNotify | undefined;
  private readonly shutdown: ShutdownConfig;
  /** Market event in -> handled (book, risk, strategies, orders out), ns. */
  readonly handler = new HdrHistogram();
  /** Socket read -> parsed -> ... -> order signed and written, for events that sent one, ns. */
  readonly tickToTrade: HdrHistogram;
  /** The same span split into stages (src/live/tick-to-trade.ts). */
  readonly t2tStages: TickToTradeStages;
  private readonly probe: NodeProbe | undefined;
  private readonly clock: TestClock;
  private readonly sims: SimulatedExchange[];
  private readonly equity: PortfolioEquitySource;
  private readonly eq = new Float64Array(3);
  /** Equity at start (account currency units): the PnL baseline of the status line and the control API. */
  readonly startEquity: number;
  private readonly print: (line: string) => void;
  private readonly bookUpdate = new BookUpdate();
  private readonly wall0 = monoMillis();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Shared risk with other nodes (config `cluster`). */
  cluster: NodeCluster | undefined;
  /** The engine thread's busy-poll loop (config `engine.busyPoll`). */
  private busyPoll: BusyPoll | undefined;

  private constructor(parts: {
    mode: NodeMode;
    kernel: Kernel;
    md: NodeMarketData;
    orders: BinanceOrderClient | undefined;
    ccxtOrders: CcxtVenue | undefined;
    server: ExchangeServer | undefined;
    clock: TestClock;
    sims: SimulatedExchange[];
    reconciliation: ReconcileReport | undefined;
    journal: NodeJournal | undefined;
    recorder: SessionRecorder | undefined;
    print: (line: string) => void;
    probe: NodeProbe | undefined;
    config: NodeConfig;
    env: NodeJS.ProcessEnv;
  }) {
    this.mode = parts.mode;
    this.kernel = parts.kernel;
    this.md = parts.md;
    this.orders = parts.orders;
    this.ccxtOrders = parts.ccxtOrders;
    this.server = parts.server;
    this.clock = parts.clock;
    this.sims = parts.sims;
    this.reconciliation = parts.reconciliation;
    this.journal = parts.journal;
    this.recorder = parts.recorder;
    this.print = parts.print;
    this.probe = parts.probe;
    // With metrics, tick-to-trade is the venue slot's histogram (one record serves the status line and /metrics).
    this.tickToTrade = parts.probe?.slot.tickToTrade ?? new HdrHistogram();
    this.t2tStages = new TickToTradeStages(this.tickToTrade);
    parts.probe?.attach(parts.kernel, this.handler);
    const ccy = currencies.getOrCreate(parts.kernel.risk.config.accountCurrency);
    this.equity = new PortfolioEquitySource(parts.kernel.portfolio, ccy);
    this.equity.read(this.eq);
    this.startEquity = this.eq[0]!;
    this.shutdown = parts.config.shutdown;
    const nc = parts.config.notify;
    this.notify =
      nc === undefined
        ? undefined
        : new NodeNotify({
            config: nc,
            kernel: parts.kernel,
            mode: parts.mode,
            env: parts.env,
            print: parts.print,
            equity: () => {
              this.equity.read(this.eq);
              return this.eq[0]!;
            },
          });
  }

  /** Connects, reconciles (live), starts strategies and market data. */
  static async start(o: NodeOptions): Promise<TradingNode> {
    const cfg = o.config;
    const print = o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
    const pins = pinNode(cfg.engine.cpus);
    for (const l of pins.lines) print(l);
    if (cfg.notify !== undefined) checkNotifySecrets(cfg.notify, o.env ?? process.env);
    // venue.kind 'ccxt': the exchange through ccxt (src/venues/ccxt/ccxt-node.ts) in place of the native
    // adapter's exchangeInfo, balances, order client, reconciliation reads and market data below.
    const cx: CcxtNode | undefined =
      cfg.venue.kind === 'ccxt'
        ? await (await import('../venues/ccxt/ccxt-node.ts')).CcxtNode.open({
            venue: cfg.venue,
            live: o.mode === NodeMode.LIVE,
            journal: cfg.journal !== undefined,
            env: o.env ?? process.env,
          })
        : undefined;
    let server: ExchangeServer | undefined;
    let creds: BinanceCredentials | undefined;
    // With ccxt no local server starts here and the Binance REST client below is built but never called.
    let restUrl = cfg.venue.restUrl ?? (cx === undefined ? undefined : '');
    if (restUrl === undefined) {
      // No venue named: the local exchange server, in-process, with a key made for this session.
      const { startExchangeServer } = await import('../venues/server/server.ts');
      const apiKey = `bot4${randomBytes(12).toString('hex')}`;
      const apiSecret = randomBytes(24).toString('hex');
      server = await startExchangeServer({
        accounts: [{ apiKey, apiSecret }],
        seed: cfg.venue.seed,
        usdm: cfg.venue.market === 'usdm',
        log: () => {},
      });
      restUrl = server.url;
      creds = Creds.hmac(apiKey, apiSecret);
      print(`local exchange server ${server.url} (demo market, seed ${cfg.venue.seed})`);
    } else if (cx === undefined) {
      creds = loadCredentials({
        env: o.env ?? process.env,
        ...(cfg.venue.keyFile === undefined ? {} : { keyFile: cfg.venue.keyFile }),
      });
    }
    if (o.mode === NodeMode.LIVE && creds === undefined && cx === undefined) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        'live trading needs API keys: set venue.keyFile in the config or BINANCE_API_KEY with BINANCE_API_SECRET',
      );
    }
    // USD-M futures (venue.market 'usdm'): /fapi REST, streams under the local server's /fstream (src/live/usdm.ts).
    const usdm = cfg.venue.market === 'usdm';
    const wsBase = cfg.venue.wsUrl ?? `${restUrl.replace(/^http/, 'ws')}${usdm ? '/fstream' : ''}`;
    if (usdm && cfg.journal !== undefined) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        "config 'journal': not supported with venue.market 'usdm' yet",
      );
    }
    const rest = new BinanceRest({
      market: cfg.venue.market,
      baseUrl: restUrl,
      ...(creds === undefined ? {} : { credentials: creds }),
      governor: new RateGovernor([], {
        onLimit: (e) => print(`rate limit: ${e.limit} ${e.used}/${e.max}, wait ${e.waitMs} ms`),
      }),
      recvWindowMs: cfg.venue.recvWindowMs,
    });
    let journal: NodeJournal | undefined;
    let recorder: SessionRecorder | undefined;
    try {
      if (cx === undefined) await rest.syncTime();
      const registry = newInstrumentRegistry();
      const specs =
        cx?.specs(cfg.instruments) ??
        (usdm
          ? usdmSpecs(await rest.exchangeInfo(cfg.instruments))
          : binanceSpotSpecs(await rest.exchangeInfo(cfg.instruments), { venue: 'BINANCE' }).specs);
      for (const sym of cfg.instruments) {
        const spec = specs.find((s) => s.symbol === sym);
        if (spec === undefined) {
          throw new Bot4Error(
            ErrorCode.CONFIG_INVALID,
            `config 'instruments': ${sym} is not listed by ${restUrl}`,
          );
        }
        registry.add(spec);
      }
      // Live balances are the venue's; paper starts from the config's.
      journal = cfg.journal === undefined ? undefined : NodeJournal.open(cfg.journal, print);
      // A journal restates the first run's balances (its fills are replayed onto them); else live balances
      // are the venue's, paper starts from the config's.
      const balances =
        journal?.startBalances ??
        (o.mode !== NodeMode.LIVE
          ? cfg.balances
          : ((await cx?.balances(registry.all())) ??
            (usdm ? await usdmVenueBalances(rest) : await venueBalances(rest, registry.all()))));
      const strategies = [];
      for (const s of cfg.strategies) {
        const cls = await resolveStrategy(s.name);
        const params = parseParams(
          cls.params,
          Object.entries(s.params).map(([k, v]) => `${k}=${String(v)}`),
          `strategy ${cls.name}`,
        );
        strategies.push({ strategy: new cls(params), parameters: params });
      }
      const clock = new TestClock(wallMicros());
      const sims: SimulatedExchange[] = [];
      let orders: BinanceOrderClient | undefined;
      let ccxtOrders: CcxtVenue | undefined;
      const lat = cfg.paperLatencyMicros;
      // Set once constructed: the callbacks below (connection events, market data) reach it through this.
      let node: TradingNode | undefined;
      const kernel = buildKernel({
        clock,
        instruments: registry,
        strategies,
        balances,
        riskConfig: cfg.risk,
        makeVenue: (name, insts, k): VenueClient => {
          if (o.mode === NodeMode.PAPER) {
            const sim = new SimulatedExchange({
              name,
              clock,
              instruments: insts,
              sink: k.engine,
              latency: { orderEntry: lat, response: lat },
            });
            sims.push(sim);
            return sim;
          }
          if (cx !== undefined) {
            ccxtOrders = cx.orderClient({ name, instruments: insts, clock, onNote: print });
            ccxtOrders.sink = k.engine;
            return ccxtOrders;
          }
          orders = new BinanceOrderClient({
            name,
            wsApiUrl: cfg.venue.wsApiUrl ?? `${wsBase}/ws-api/v3`,
            userStreamUrl: wsBase,
            rest,
            credentials: creds!,
            instruments: insts,
            clock,
            onNote: print,
            onConnection: (e) => node?.notify?.onConnection(e),
          });
          orders.sink = journal?.wrapSink(k.engine) ?? k.engine;
          return journal?.wrapVenue(orders) ?? orders;
        },
      });
      const client = orders as BinanceOrderClient | undefined;
      if (o.record !== undefined) {
        recorder = SessionRecorder.start({
          ...o.record,
          mode: o.mode,
          config: cfg,
          kernel,
          instruments: registry.all(),
          balances,
          paperLatencyMicros: lat,
        });
        print(`session ${recorder.id} recording to ${recorder.dir}`);
      }
      const session = { mode: o.mode, instruments: cfg.instruments, balances };
      for (const l of (await journal?.recover(kernel, session, client && rest)) ?? []) print(l);
      let report: ReconcileReport | undefined;
      const ccxtClient = ccxtOrders as CcxtVenue | undefined;
      if (client !== undefined || ccxtClient !== undefined) {
        await (client ?? ccxtClient)!.start();
        report = await reconcile({
          venue:
            ccxtClient === undefined ? binanceReconcileVenue(rest, client!) : cx!.reconcileVenue(ccxtClient),
          kernel,
          instruments: registry.all(),
          policy: cfg.unknownOrders,
          ...(journal === undefined ? {} : { known: journal.knownClientIds() }),
        });
        for (const line of report.lines) print(line);
      }
      const probe = o.metrics === undefined ? undefined : new NodeProbe(o.metrics, registry);
      const mdCommon = {
        instruments: registry.all(),
        sink: {
          onQuote: (q) => node?.onQuote(q),
          onTrade: (t) => node?.onTrade(t),
          onBook: (id, b, ts) => node?.onBook(id, b, ts),
        } satisfies MarketDataSink,
        clock,
        bookFor: (inst: Instrument) => kernel.books.book(inst.id),
        onEvent: (e: MarketDataEvent) => {
          probe?.onMarketEvent(e);
          print(`market data: ${e.kind} ${e.symbol} (${e.reason})`);
        },
        onConnection: (e: ConnectionEvent) => {
          probe?.onConnection(e);
          node?.notify?.onConnection(e);
        },
      };
      const md: NodeMarketData =
        cx?.marketData(mdCommon) ??
        createMarketData(
          {
            ...mdCommon,
            wsBaseUrl: wsBase,
            rest,
            market: usdm ? 'futures' : 'spot',
            // USD-M publishes no raw trade stream: aggTrade.
            ...(usdm ? { trades: 'aggTrade' as const } : {}),
          },
          cfg.engine.feed,
          { cpu: pins.feedCpu, onPinned: (t) => print(`feed worker: ${t}`) },
        );
      if (cx !== undefined) print(cx.describe());
      node = new TradingNode({
        mode: o.mode,
        kernel,
        md,
        orders: client,
        ccxtOrders: ccxtClient,
        server,
        clock,
        sims,
        reconciliation: report,
        journal,
        recorder,
        print,
        probe,
        config: cfg,
        env: o.env ?? process.env,
      });
      node.wire();
      if (cfg.cluster !== undefined) {
        node.cluster = await (await import('../cluster/node-cluster.ts')).joinCluster(
          kernel,
          registry,
          cfg.cluster,
          print,
        );
      }
      for (const h of kernel.hosts) h.start();
      await md.start();
      node.startTimers(cfg.statusIntervalSec);
      if (cfg.engine.keepWarmMs > 0 && client !== undefined) node.keepWarm(client, cfg.engine.keepWarmMs);
      if (cfg.engine.busyPoll) {
        node.busyPoll = new BusyPoll();
        print(node.busyPoll.start());
      }
      if (probe !== undefined) {
        probe.watch(client === undefined ? [md.supervisor] : [md.supervisor, client.supervisor]);
        const refresh = (): void => probe.refreshRateLimit(rest.governor, rest.venueNow());
        refresh();
        node.timers.push(setInterval(refresh, 1000));
      }
      return node;
    } catch (e) {
      await recorder?.close();
      journal?.close();
      await server?.close();
      await cx?.close();
      throw e;
    }
  }

  private wire(): void {
    const c = this.counters;
    const st = this.t2tStages;
    this.kernel.bus.subscribe(this.kernel.engine.orderEvents, (ev) => {
      if (ev.kind === OrderEventKind.INITIALIZED) st.onDecision();
      else if (ev.kind === OrderEventKind.SUBMITTED) {
        st.onRiskPassed();
        c.submitted++;
      } else if (ev.kind === OrderEventKind.FILLED) c.fills++;
      else if (ev.kind === OrderEventKind.REJECTED) c.rejected++;
      else if (ev.kind === OrderEventKind.DENIED) c.denied++;
      else if (ev.kind === OrderEventKind.CANCELED) c.canceled++;
    });
  }

  private startTimers(statusSec: number): void {
    // The simulated venue delivers latency-delayed acks and fills when due, also between market events.
    if (this.sims.length > 0) this.timers.push(setInterval(() => this.tick(), 5));
    this.timers.push(
      setInterval(() => {
        this.kernel.engine.purgeClosed();
        this.kernel.risk.updateEquity();
        this.print(this.status());
      }, statusSec * 1000),
    );
  }

  /**
   * Between market bursts the thread sleeps and other processes take the CPU's caches and branch predictors:
   * the first order after a pause ran several times slower than one in a burst (bench/live-cold.probe.ts). Every
   * `ms` without a market message, the parts of the path that can run without effect run on made-up input:
   * the decoder on the last quote, the order request written, signed and framed, never sent. The strategy, the
   * risk engine and the order state machine cannot run without effect, so they stay cold.
   */
  private keepWarm(client: BinanceOrderClient, ms: number): void {
    const md = this.md;
    let seen = -1;
    this.timers.push(
      setInterval(() => {
        const n = md.stats.messages;
        if (n !== seen) {
          seen = n;
          return;
        }
        md.warm?.();
        client.warm();
      }, ms),
    );
  }

  /** Engine time follows the wall clock; the simulated venues catch up to it. */
  private tick(): void {
    const now = wallMicros();
    if (now > this.clock.now()) this.clock.advanceTo(now);
    const t = this.clock.now();
    for (let i = 0; i < this.sims.length; i++) this.sims[i]!.advanceTo(t);
  }

  // ---- market data: the same order of delivery as the backtest's runner (venue first, then the rest) ----

  onQuote(q: QuoteTick): void {
    const t0 = monoNanos();
    this.t2tStages.begin();
    this.tick();
    const k = this.kernel;
    const id = q.instrumentId;
    const sim = k.venueByInstrument[id];
    this.recorder?.quote(q);
    if (sim instanceof SimulatedExchange) sim.onQuote(q);
    const mid = Math.round((q.bidPx + q.askPx) / 2);
    k.risk.onPrice(id as InstrumentId, mid, q.tsEvent);
    k.engine.onQuote(q);
    if (k.isTraded[id] === 1) k.portfolio.mark(id as InstrumentId, mid);
    const aggs = k.barAggs[id];
    if (aggs !== undefined) for (const a of aggs) a.updateQuote(q.tsEvent, q.bidPx, q.askPx);
    const sent = this.counters.submitted;
    this.probe?.onMarket(RecordKind.QUOTE, q.tsEvent, q.tsEvent !== q.tsInit);
    k.bus.publish(k.quoteTopic, q);
    const t1 = monoNanos();
    this.handler.record(t1 - t0);
    if (this.counters.submitted !== sent) this.recordTickToTrade(t1);
  }

  onTrade(t: TradeTick): void {
    const t0 = monoNanos();
    this.t2tStages.begin();
    this.tick();
    const k = this.kernel;
    const id = t.instrumentId;
    const sim = k.venueByInstrument[id];
    this.recorder?.trade(t);
    if (sim instanceof SimulatedExchange) sim.onTrade(t);
    k.risk.onPrice(id as InstrumentId, t.px, t.tsEvent);
    k.engine.onTrade(t);
    if (k.isTraded[id] === 1) k.portfolio.mark(id as InstrumentId, t.px);
    const sent = this.counters.submitted;
    this.probe?.onMarket(RecordKind.TRADE, t.tsEvent, true);
    k.bus.publish(k.tradeTopic, t);
    const t1 = monoNanos();
    this.handler.record(t1 - t0);
    if (this.counters.submitted !== sent) this.recordTickToTrade(t1);
  }

  private recordTickToTrade(endNs: number): void {
    const md = this.md;
    const o = this.orders;
    this.t2tStages.record(
      md.readNanos,
      md.recvNanos,
      md.parsedNanos,
      o?.signedNanos ?? 0,
      o?.sentNanos ?? 0,
      endNs,
    );
  }

  onBook(id: InstrumentId, book: L2Book, tsEvent: Micros): void {
    this.probe?.onMarket(RecordKind.DELTA, tsEvent, true);
    if (this.kernel.books.book(id) !== book) return;
    this.tick();
    this.recorder?.book(id, book);
    const u = this.bookUpdate;
    u.instrumentId = id;
    u.tsEvent = tsEvent;
    u.book = book;
    this.kernel.bus.publish(this.kernel.bookTopic, u);
  }

  // ---- reporting ------------------------------------------------------------------------------------------

  /** One line: positions, equity and PnL, orders, market data, latency. */
  status(): string {
    const k = this.kernel;
    this.equity.read(this.eq);
    const ccy = currencies.getOrCreate(k.risk.config.accountCurrency);
    const money = (v: number) => (v / 10 ** ccy.precision).toFixed(2);
    const pos = k.traded
      .map((i) => `${i.symbol} ${stepsToDecimal(k.portfolio.netQty(i.id), i.lotSize)}`)
      .join(' ');
    const up = Math.round((monoMillis() - this.wall0) / 1000);
    const c = this.counters;
    const st = this.md.stats;
    const h = this.handler;
    const lat =
      h.totalCount === 0
        ? 'n/a'
        : `p50 ${(h.valueAtPercentile(50) / 1000).toFixed(1)} us p99 ${(h.valueAtPercentile(99) / 1000).toFixed(1)} us`;
    const t2t = this.tickToTrade;
    const ack =
      (t2t.totalCount === 0
        ? ''
        : ` | tick-to-trade p50 ${(t2t.valueAtPercentile(50) / 1000).toFixed(1)} us`) +
      (this.orders === undefined && this.ccxtOrders === undefined
        ? ''
        : ` | ack ${(this.orders ?? this.ccxtOrders)!.lastAckMs.toFixed(1)} ms`);
    return (
      `[${this.mode} ${up}s] pos ${pos === '' ? '-' : pos} | equity ${money(this.eq[0]!)} ${ccy.code} ` +
      `(PnL ${money(this.eq[0]! - this.startEquity)}) | orders ${c.submitted} sent ${k.cache.openCount()} open ` +
      `${c.fills} fills ${c.rejected + c.denied} rejected | md ${st.messages} msgs ${st.gaps} gaps ` +
      `${this.md.supervisor.reconnects} reconnects | handler ${lat}${ack}`
    );
  }

  /** For /readyz: reconciled (the node exists), market data connected and in sync, not halted, not stopping. */
  readiness(): { ready: boolean; reasons: string[] } {
    return nodeReadiness({
      kernel: this.kernel,
      stopping: this.stopped,
      md: this.md,
    });
  }

  /**
   * Applies the shutdown policy (config `shutdown`) while the venue still answers, stops market data and
   * orders, closes the in-process server; returns the summary lines.
   */
  async stop(): Promise<string[]> {
    if (this.stopped) return [];
    this.stopped = true;
    const policy = await applyShutdownPolicy(this.kernel, this.shutdown);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.busyPoll?.stop();
    await this.md.stop();
    for (const h of this.kernel.hosts) h.stop();
    this.tick();
    const st = this.md.stats;
    const lines = [
      `summary: ${this.status()}`,
      `market data: ${st.messages} messages (${st.quotes} quotes, ${st.trades} trades, ${st.depthEvents} depth), ` +
        `${st.snapshots} snapshots, ${st.gaps} gaps, ${st.resyncs} resyncs, ${st.malformed} malformed, ` +
        `${st.badValue} bad values, ${st.unknown} other` +
        (st.feedDropped === 0 ? '' : `, ${st.feedDropped} dropped by the feed worker (ring full)`),
      `orders: ${this.counters.submitted} submitted, ${this.counters.fills} fills, ${this.counters.canceled} canceled, ` +
        `${this.counters.rejected} rejected, ${this.counters.denied} denied by risk, ${this.kernel.cache.openCount()} still open`,
      ...policy,
      ...((await this.notify?.close()) ?? []),
    ];
    await this.orders?.stop();
    await this.ccxtOrders?.stop();
    if (this.recorder !== undefined) lines.push(...(await this.recorder.close(this.clock.now())));
    await this.cluster?.close();
    this.journal?.close();
    await this.server?.close();
    return lines;
  }
}

/** The venue's balances of the instruments' assets (free + locked) as the portfolio's starting balances. */
async function venueBalances(
  rest: BinanceRest,
  insts: readonly Instrument[],
): Promise<{ currency: string; amount: string }[]> {
  const acct = (await rest.signed('GET', '/api/v3/account', {}, 20)) as {
    balances: { asset: string; free: string; locked: string }[];
  };
  const wanted = new Set(insts.flatMap((i) => [i.base.code, i.quote.code]));
  const out: { currency: string; amount: string }[] = [];
  for (const b of acct.balances) {
    if (!wanted.has(b.asset)) continue;
    const total = addDecimals(b.free, b.locked);
    out.push({ currency: b.asset, amount: total });
  }
  return out;
}

/** Exact sum of two non-negative decimal strings (venue balances carry 8 decimals). */
export function addDecimals(a: string, b: string): string {
  const scale = Math.max(a.split('.')[1]?.length ?? 0, b.split('.')[1]?.length ?? 0);
  const big = (s: string) => {
    const [i, f = ''] = s.split('.');
    return BigInt(i! + f.padEnd(scale, '0'));
  };
  const s = (big(a) + big(b)).toString().padStart(scale + 1, '0');
  if (scale === 0) return s;
  return `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`.replace(/0+$/, '').replace(/\.$/, '');
}
