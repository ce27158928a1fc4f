// What a paper/live node feeds into its metrics endpoint (NodeMetrics, `--metrics-port`): market events by
// venue and kind, the venue slot (connection state, reconnects, book resyncs, rate-limit weight, last message,
// feed latency) and the node's own histograms as latency stages. The per-message call is one typed-array
// increment, one clock read and, when the venue stamped the event, one HDR record: nothing allocated.
// Connection and resync events come from the WebSocket supervisor's and the market-data client's seams; the
// rate-limit weight is copied from the governor once a second (it allocates, so never per message).
// Units: wall micros (venue event times, last message), ns recorded.

import { wallMicros } from '../core/clock.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import type { HdrHistogram } from '../monitoring/latency.ts';
import type { NodeMetrics } from '../monitoring/node-metrics.ts';
import type { TradingMetrics } from '../monitoring/trading-metrics.ts';
import type { VenueSlot } from '../monitoring/venue-metrics.ts';
import type { MarketDataEvent } from '../venues/binance/market-data.ts';
import type { RateGovernor } from '../venues/binance/rate-governor.ts';
import { type ConnectionEvent, ConnState } from '../venues/binance/ws-supervisor.ts';
import type { NodeConnection } from './node-market-data.ts';

export class NodeProbe {
  readonly slot: VenueSlot;
  private readonly trading: TradingMetrics;
  private readonly metrics: NodeMetrics;
  private readonly venueId: number;
  private readonly instruments: InstrumentRegistry;
  /** Sessions that must be open for the venue to count as connected (market data; orders when live). */
  private sessions: readonly NodeConnection[] = [];

  /** The node trades one venue: its instruments' (BINANCE). */
  constructor(metrics: NodeMetrics, instruments: InstrumentRegistry) {
    const first = instruments.all()[0]!;
    this.metrics = metrics;
    this.trading = metrics.trading;
    this.instruments = instruments;
    this.venueId = first.venueId;
    this.slot = metrics.venues.venue(first.venue);
  }

  /** Once the kernel exists: order, fill, reject, position and PnL series from the engine's own objects. */
  attach(kernel: Kernel, handler: HdrHistogram): void {
    this.trading.attach({
      engine: kernel.engine,
      portfolio: kernel.portfolio,
      instruments: this.instruments,
      bus: kernel.bus,
      clock: kernel.clock,
      risk: kernel.risk,
      strategyIds: kernel.hosts.map((h) => h.strategyId),
    });
    this.metrics.stages.stage('node.handler', handler);
  }

  /** The WebSocket sessions whose state is the venue's `connected` (all must be open). */
  watch(sessions: readonly NodeConnection[]): void {
    this.sessions = sessions;
    this.onConnection();
  }

  /** One market-data message. `venueTime`: whether tsEvent is the venue's stamp (spot bookTicker has none). */
  onMarket(kind: number, tsEvent: number, venueTime: boolean): void {
    this.trading.countEvent(this.venueId, kind);
    const now = wallMicros();
    const s = this.slot;
    s.lastMessageMicros = now;
    if (venueTime) s.feedLatency.record((now - tsEvent) * 1000);
  }

  /** Supervisor seam: any state change or reconnect re-reads the sessions' state and reconnect counts. */
  readonly onConnection = (_e?: ConnectionEvent): void => {
    let up = this.sessions.length > 0 ? 1 : 0;
    let reconnects = 0;
    for (const s of this.sessions) {
      if (s.state !== ConnState.OPEN) up = 0;
      reconnects += s.reconnects;
    }
    this.slot.connected = up;
    this.slot.reconnects = reconnects;
  };

  /** Market-data seam: every resync (sequence gap, reconnect) is one book resync. */
  readonly onMarketEvent = (e: MarketDataEvent): void => {
    if (e.kind === 'resync') this.slot.bookResyncs++;
  };

  /** Copies the governor's request-weight window (the first weight limit Binance published). */
  refreshRateLimit(governor: RateGovernor, venueNowMs: number): void {
    for (const u of governor.usage(venueNowMs)) {
      if (!u.limit.startsWith('weight ')) continue;
      this.slot.rateLimitWeightUsed = u.used;
      this.slot.rateLimitWeightLimit = u.max;
      return;
    }
  }
}
