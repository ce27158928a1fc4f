// Seams for what only a node connected to venues has: connection state, reconnects, book resyncs, rate-limit
// weight, feed staleness, feed latency (venue time to receive) and tick-to-trade. A venue's series appear when
// the node registers the venue (none in a backtest: no placeholder series). The adapter writes plain fields and
// records into HDR histograms; collectors read them when scraped. Units: counts, weight units, ns recorded.

import { Counter, Gauge, type Registry } from 'prom-client';
import { wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { StageLatencies } from './hdr-metric.ts';
import type { HdrHistogram } from './latency.ts';

/** One venue connection's figures; the adapter owns the writes (engine thread), scrapes only read. */
export class VenueSlot {
  readonly venue: string;
  /** 1 while the market-data and order sessions are up. */
  connected = 0;
  reconnects = 0;
  /** Order-book resynchronisations (gap in update ids, checksum mismatch: snapshot fetched again). */
  bookResyncs = 0;
  /** Request weight used in the venue's current rate-limit window, and the window's limit. */
  rateLimitWeightUsed = 0;
  rateLimitWeightLimit = 0;
  /** Wall micros of the last market-data message (0 = none yet). */
  lastMessageMicros = 0;
  /** Venue event time to local receive time, ns: record per message (or per batch of them). */
  readonly feedLatency: HdrHistogram;
  /** Receive of the market-data event to the order leaving for the venue (risk passed), ns. */
  readonly tickToTrade: HdrHistogram;

  constructor(venue: string, feedLatency: HdrHistogram, tickToTrade: HdrHistogram) {
    this.venue = venue;
    this.feedLatency = feedLatency;
    this.tickToTrade = tickToTrade;
  }
}

export class VenueMetrics {
  private readonly slots: VenueSlot[] = [];
  private readonly registry: Registry;
  private readonly stages: StageLatencies;
  private registered = false;

  constructor(registry: Registry, stages: StageLatencies) {
    this.registry = registry;
    this.stages = stages;
  }

  /** The slot of a venue (created, and the metrics registered, on first call). Venue: letters, digits, '_'. */
  venue(name: string): VenueSlot {
    const found = this.slots.find((s) => s.venue === name);
    if (found !== undefined) return found;
    const stage = name.toLowerCase();
    if (!/^[a-z0-9_]+$/.test(stage)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `venue name '${name}' must be letters, digits and '_'`,
        {
          name,
        },
      );
    }
    const slot = new VenueSlot(
      name,
      this.stages.stage(`feed.${stage}`),
      this.stages.stage(`tick_to_trade.${stage}`),
    );
    this.slots.push(slot);
    if (!this.registered) this.register();
    return slot;
  }

  get venues(): readonly VenueSlot[] {
    return this.slots;
  }

  private register(): void {
    this.registered = true;
    const slots = this.slots;
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: (s: VenueSlot) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['venue'],
        registers,
        collect() {
          for (const s of slots) this.set({ venue: s.venue }, read(s));
        },
      });
    const counter = (name: string, help: string, read: (s: VenueSlot) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['venue'],
        registers,
        collect() {
          this.reset();
          for (const s of slots) this.inc({ venue: s.venue }, read(s));
        },
      });
    gauge(
      'bot4_venue_connected',
      'Whether the venue sessions are up: 1 connected, 0 not (venue adapter).',
      (s) => s.connected,
    );
    counter(
      'bot4_venue_reconnects_total',
      'Reconnections to the venue since start (venue adapter).',
      (s) => s.reconnects,
    );
    counter(
      'bot4_book_resyncs_total',
      'Order-book resynchronisations from a fresh snapshot after a gap or mismatch (venue adapter).',
      (s) => s.bookResyncs,
    );
    gauge(
      'bot4_rate_limit_weight_used',
      "Request weight used in the venue's current rate-limit window (venue response headers).",
      (s) => s.rateLimitWeightUsed,
    );
    gauge(
      'bot4_rate_limit_weight_limit',
      "The venue's request-weight limit per window (exchange info).",
      (s) => s.rateLimitWeightLimit,
    );
    gauge(
      'bot4_feed_last_message_age_seconds',
      'Seconds since the last market-data message from the venue (wall clock; +Inf before the first).',
      (s) =>
        s.lastMessageMicros === 0 ? Number.POSITIVE_INFINITY : (wallMicros() - s.lastMessageMicros) / 1e6,
    );
  }
}
