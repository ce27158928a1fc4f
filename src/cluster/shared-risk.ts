// One risk view across live nodes: each node publishes its positions' and open orders' exposure to a JetStream
// key-value bucket (key `node.<id>`, a new revision per publication) and watches the others' entries; their sum
// goes into the risk engine's PeerExposure, which the engine adds to its own for the global limits (instrument
// net, total gross and net, venue gross). The kill switch is cluster-wide through the same bucket (key `kill`).
//
// Invariants: the hot path only reads the PeerExposure's fields; they change here, on the event loop, between
// market events. A peer not heard of for maxAgeMs (by this node's clock, since its last revision arrived) is
// unknown: counted at its own published limits ('limit': an unlimited scope then blocks new exposure), or the
// node goes HALTED until every peer is fresh again ('halt'). A node that stops cleanly deletes its entry.
// Units: exposure in money units (account currency for totals, settlement currency per instrument), times ms.

import { randomBytes } from 'node:crypto';
import type { KV, KvEntry } from '@nats-io/kv';
import { monoMillis, wallMillis } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import { type PeerExposure, type RiskEngine, TradingState } from '../risk/risk-engine.ts';
import { type Cluster, retry } from './nats.ts';

export const RISK_BUCKET = 'bot4_risk';
const KILL_KEY = 'kill';
const nodeKey = (node: string): string => `node.${node}`;

/** What a node publishes. Infinity (no limit) travels as null. */
export interface NodeExposure {
  readonly node: string;
  /** Random per process: two live processes under one node id are refused. */
  readonly instance: string;
  readonly currency: string;
  readonly seq: number;
  /** Wall clock at publication, ms (for people reading the bucket; staleness uses arrival times). */
  readonly ts: number;
  readonly gross: number;
  readonly netLong: number;
  readonly netShort: number;
  /** Instrument key -> [gross, worst long, worst short, net limit]. */
  readonly instruments: Record<string, [number, number, number, number | null]>;
  /** Venue -> gross. */
  readonly venues: Record<string, number>;
  /** This node's own limits: what a stale entry counts as. */
  readonly caps: {
    readonly gross: number | null;
    readonly net: number | null;
    readonly venue: number | null;
  };
}

export interface KillOrder {
  readonly by: string;
  readonly reason: string;
  readonly ts: number;
}

export interface SharedRiskOptions {
  readonly cluster: Cluster;
  /** This node's id (letters, digits, '-', '_'), unique in the cluster. */
  readonly node: string;
  readonly risk: RiskEngine;
  readonly instruments: InstrumentRegistry;
  /** A peer entry older than this is unknown. */
  readonly maxAgeMs: number;
  readonly onStale: 'limit' | 'halt';
  /** Publication period of this node's exposure, ms (publish() also sends at once). */
  readonly publishMs: number;
  /** The cluster kill switch fired (by any node, this one included): run the local kill switch. */
  readonly onKill: (order: KillOrder) => void;
  readonly log?: (line: string) => void;
  /** Copies of the bucket (3 on a cluster of three servers). */
  readonly replicas?: number;
}

interface Peer {
  entry: NodeExposure;
  revision: number;
  /** This node's clock when the revision arrived (or when it was created, if earlier), ms. */
  seenAt: number;
}

const INF = Number.POSITIVE_INFINITY;
/** Longest a flagged change waits to be published, ms. */
const EAGER_MS = 20;
const cap = (x: number | null): number => x ?? INF;
const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export class SharedRisk {
  /** What the risk engine reads: the sum of the peers' exposure. */
  readonly peers: PeerExposure;
  private readonly o: SharedRiskOptions;
  private readonly kv: KV;
  private readonly instance = randomBytes(8).toString('hex');
  private readonly others = new Map<string, Peer>();
  private readonly scratch = new Float64Array(4);
  /** This node's instrument and venue ids by the names peers publish. */
  private readonly instIds = new Map<string, number>();
  private readonly venueIds = new Map<string, number>();
  private seq = 0;
  private timers: NodeJS.Timeout[] = [];
  private watching: Promise<void> = Promise.resolve();
  private stopWatch: () => void = () => {};
  private lastKill = 0;
  private dirty = false;
  private closed = false;
  /** Peers counted as unknown at the last evaluation. */
  stale: string[] = [];

  private constructor(o: SharedRiskOptions, kv: KV) {
    this.o = o;
    this.kv = kv;
    const n = o.instruments.size + 1;
    let venues = 1;
    for (const inst of o.instruments.all()) {
      this.instIds.set(inst.key, inst.id);
      this.venueIds.set(inst.venue, inst.venueId);
      venues = Math.max(venues, inst.venueId + 1);
    }
    this.peers = {
      gross: 0,
      netLong: 0,
      netShort: 0,
      instLong: new Float64Array(n),
      instShort: new Float64Array(n),
      venueGross: new Float64Array(venues),
    };
  }

  static async start(o: SharedRiskOptions): Promise<SharedRisk> {
    if (!/^[\w-]+$/.test(o.node)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `cluster node id '${o.node}' may hold only letters, digits, - and _`,
      );
    }
    const kv = await retry(`opening bucket ${RISK_BUCKET}`, monoMillis() + 30_000, () =>
      o.cluster.kvm.create(RISK_BUCKET, { replicas: o.replicas ?? 1, history: 5 }),
    );
    const s = new SharedRisk(o, kv);
    const mine = await kv.get(nodeKey(o.node));
    if (mine !== null && mine.operation === 'PUT' && wallMillis() - mine.created.getTime() < o.maxAgeMs) {
      const other = mine.json<NodeExposure>();
      if (other.instance !== s.instance) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `cluster node id '${o.node}' is in use by a live node (published ${wallMillis() - mine.created.getTime()} ms ago); give each node its own id`,
        );
      }
    }
    await s.watch();
    o.risk.setPeerExposure(s.peers);
    await s.publish();
    s.timers.push(
      setInterval(
        () => void s.publish().catch((e: unknown) => s.note(`publishing: ${(e as Error).message}`)),
        o.publishMs,
      ),
      setInterval(() => s.evaluate(), Math.max(50, Math.min(1000, o.maxAgeMs / 4))),
      // Changes flagged by markDirty go out within EAGER_MS, off the event's own path.
      setInterval(() => {
        if (!s.dirty) return;
        s.dirty = false;
        void s.publish().catch((e: unknown) => s.note(`publishing: ${(e as Error).message}`));
      }, EAGER_MS),
    );
    for (const t of s.timers) t.unref();
    return s;
  }

  /** The exposure changed (a fill, an order opened or closed): publish soon. Allocation-free (hot path). */
  markDirty(): void {
    this.dirty = true;
  }

  /** Publishes this node's exposure now; resolves with the new revision. */
  async publish(): Promise<number> {
    return this.kv.put(nodeKey(this.o.node), JSON.stringify(this.snapshot()));
  }

  /** Fires the kill switch on every node of the cluster (this one too, through its own watch). */
  async killCluster(reason: string): Promise<void> {
    const order: KillOrder = { by: this.o.node, reason, ts: wallMillis() };
    await this.kv.put(KILL_KEY, JSON.stringify(order));
  }

  /** This node's entry as it would be published. Edge: allocates. */
  snapshot(): NodeExposure {
    const r = this.o.risk;
    const out = this.scratch;
    const instruments: Record<string, [number, number, number, number | null]> = {};
    const venues: Record<string, number> = {};
    for (const inst of this.o.instruments.all()) {
      r.instrumentExposure(inst.id, out);
      instruments[inst.key] = [out[0]!, out[1]!, out[2]!, orNull(out[3]!)];
      venues[inst.venue] = (venues[inst.venue] ?? 0) + out[0]!;
    }
    const t = r.totals();
    r.totalLimits(out);
    return {
      node: this.o.node,
      instance: this.instance,
      currency: r.accountCurrency.code,
      seq: ++this.seq,
      ts: wallMillis(),
      gross: t.gross,
      netLong: t.netLong,
      netShort: t.netShort,
      instruments,
      venues,
      caps: { gross: orNull(out[0]!), net: orNull(out[1]!), venue: orNull(out[2]!) },
    };
  }

  /** The peers this node knows, with the age of their last revision (ms). */
  peerAges(now = wallMillis()): { node: string; revision: number; ageMs: number }[] {
    return [...this.others.values()].map((p) => ({
      node: p.entry.node,
      revision: p.revision,
      ageMs: now - p.seenAt,
    }));
  }

  private async watch(): Promise<void> {
    const it = await this.kv.watch({ key: '>' });
    this.stopWatch = () => it.stop();
    let ready!: () => void;
    const initial = new Promise<void>((resolve) => {
      ready = resolve;
    });
    // The watcher delivers the current values first; an empty bucket says so with no entry at all.
    const status = await this.kv.status();
    if (status.values === 0) ready();
    this.watching = (async () => {
      for await (const e of it) {
        this.onEntry(e);
        if (e.delta === 0) ready();
      }
    })().catch((e: unknown) => this.note(`watching ${RISK_BUCKET}: ${(e as Error).message}`));
    await initial;
  }

  private onEntry(e: KvEntry): void {
    if (e.key === KILL_KEY) {
      if (e.operation !== 'PUT' || e.revision <= this.lastKill) return;
      this.lastKill = e.revision;
      const order = e.json<KillOrder>();
      this.note(`cluster kill switch by ${order.by}: ${order.reason}`);
      this.o.onKill(order);
      return;
    }
    const node = e.key.slice('node.'.length);
    if (node === this.o.node) return;
    if (e.operation !== 'PUT') this.others.delete(node);
    else {
      const entry = e.json<NodeExposure>();
      if (entry.currency !== this.o.risk.accountCurrency.code) {
        this.note(
          `peer ${node} counts in ${entry.currency}, this node in ${this.o.risk.accountCurrency.code}: its totals are taken as unknown`,
        );
      }
      this.others.set(node, {
        entry,
        revision: e.revision,
        seenAt: Math.min(wallMillis(), e.created.getTime()),
      });
    }
    this.evaluate();
  }

  /** Sums the peers into the engine's view, fresh ones as published, stale ones at their limits. */
  evaluate(now = wallMillis()): void {
    if (this.closed) return;
    const p = this.peers;
    let gross = 0;
    let netLong = 0;
    let netShort = 0;
    p.instLong.fill(0);
    p.instShort.fill(0);
    p.venueGross.fill(0);
    const stale: string[] = [];
    const ccy = this.o.risk.accountCurrency.code;
    for (const [node, peer] of this.others) {
      const e = peer.entry;
      const unknown = now - peer.seenAt > this.o.maxAgeMs || e.currency !== ccy;
      if (unknown) stale.push(node);
      gross += unknown ? cap(e.caps.gross) : e.gross;
      netLong += unknown ? cap(e.caps.net) : e.netLong;
      netShort += unknown ? -cap(e.caps.net) : e.netShort;
      for (const [key, [, long, short, limit]] of Object.entries(e.instruments)) {
        const i = this.instIds.get(key);
        if (i === undefined) continue;
        p.instLong[i] = p.instLong[i]! + (unknown ? cap(limit) : long);
        p.instShort[i] = p.instShort[i]! + (unknown ? -cap(limit) : short);
      }
      for (const [venue, g] of Object.entries(e.venues)) {
        const v = this.venueIds.get(venue);
        if (v !== undefined) p.venueGross[v] = p.venueGross[v]! + (unknown ? cap(e.caps.venue) : g);
      }
    }
    if (this.o.onStale === 'halt') {
      // Unknown peers block through the state, not the sums.
      if (stale.length > 0) {
        gross = 0;
        netLong = 0;
        netShort = 0;
      }
      const want = stale.length > 0 ? TradingState.HALTED : TradingState.ACTIVE;
      this.o.risk.setClusterState(want);
    }
    p.gross = gross;
    p.netLong = netLong;
    p.netShort = netShort;
    if (stale.join() !== this.stale.join()) {
      this.note(
        stale.length === 0
          ? 'every peer is fresh again'
          : `peer(s) ${stale.join(', ')} unheard of for over ${this.o.maxAgeMs} ms: ${this.o.onStale === 'halt' ? 'trading HALTED' : 'counted at their limits'}`,
      );
    }
    this.stale = stale;
  }

  private note(line: string): void {
    this.o.log?.(`shared risk (${this.o.node}): ${line}`);
  }

  /** Stops publishing, deletes this node's entry (peers stop counting it) and stops watching. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.o.risk.setPeerExposure(null);
    await this.kv.delete(nodeKey(this.o.node)).catch(() => undefined);
    this.stopWatch();
    await this.watching;
  }
}
