// Seams for what only a node connected to venues has: connection state, reconnects, book resyncs, rate-limit
// weight, feed staleness, feed latency (venue time to receive) and tick-to-trade. A venue's series appear when
// the node registers the venue (none in a backtest: no placeholder series). The adapter writes plain fields and
// records into HDR histograms (shared stages); per scrape the engine thread copies the six fields of each venue
// into shared slots (publish), which the metrics worker reads. Units: counts, weight units, ns recorded.

import { wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { HdrHistogram } from './latency.ts';
import { type SharedFamily, type SharedMetrics, sharedArray } from './shared-metrics.ts';

/** The families, in slot order of each venue's values array. */
const FAMILIES = [
  ['gauge', 'bot4_venue_connected', 'Whether the venue sessions are up: 1 connected, 0 not (venue adapter).'],
  ['counter', 'bot4_venue_reconnects_total', 'Reconnections to the venue since start (venue adapter).'],
  [
    'counter',
    'bot4_book_resyncs_total',
    'Order-book resynchronisations from a fresh snapshot after a gap or mismatch (venue adapter).',
  ],
  [
    'gauge',
    'bot4_rate_limit_weight_used',
    "Request weight used in the venue's current rate-limit window (venue response headers).",
  ],
  ['gauge', 'bot4_rate_limit_weight_limit', "The venue's request-weight limit per window (exchange info)."],
  [
    'gauge',
    'bot4_feed_last_message_age_seconds',
    'Seconds since the last market-data message from the venue (wall clock; +Inf before the first).',
  ],
] as const;

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
  /** Per venue (same order as slots), its FAMILIES values. */
  private readonly values: Float64Array[] = [];
  private readonly shared: SharedMetrics;
  private families: SharedFamily[] | undefined;

  constructor(shared: SharedMetrics) {
    this.shared = shared;
    shared.onPublish(() => this.publish());
  }

  /** The slot of a venue (created, and its series registered, on first call). Venue: letters, digits, '_'. */
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
    const stages = this.shared.stages;
    const slot = new VenueSlot(name, stages.stage(`feed.${stage}`), stages.stage(`tick_to_trade.${stage}`));
    // The families appear with the first venue: a backtest shows none of them.
    this.families ??= FAMILIES.map(([type, n, help]) =>
      type === 'gauge' ? this.shared.gauge(n, help, ['venue']) : this.shared.counter(n, help, ['venue']),
    );
    const values = sharedArray(FAMILIES.length);
    for (const [i, f] of this.families.entries()) f.add({ venue: name }, values, i);
    this.slots.push(slot);
    this.values.push(values);
    this.publish();
    return slot;
  }

  get venues(): readonly VenueSlot[] {
    return this.slots;
  }

  /** Engine thread, per scrape: each venue's fields into its slots (the age against one clock read). */
  private publish(): void {
    if (this.slots.length === 0) return;
    const now = wallMicros();
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      const v = this.values[i]!;
      v[0] = s.connected;
      v[1] = s.reconnects;
      v[2] = s.bookResyncs;
      v[3] = s.rateLimitWeightUsed;
      v[4] = s.rateLimitWeightLimit;
      v[5] = s.lastMessageMicros === 0 ? Number.POSITIVE_INFINITY : (now - s.lastMessageMicros) / 1e6;
    }
  }
}
