// Metrics the engine thread writes with plain stores into SharedArrayBuffer-backed Float64Arrays, and the
// metrics worker turns into prom-client series when scraped: no prom-client, no strings and no JSON on the
// engine thread. A family (name, HELP, type, label names) and each of its label sets get a slot once, at
// registration (a venue added, an engine attached), never per scrape. The engine's part in a scrape is
// publish(): hooks that copy what lives in engine objects (HDR totals, portfolio figures, V8 heap statistics)
// into their slots; counters the hot path bumps are already in shared memory.
// Invariants: slot values are read without locks; an aligned 8-byte store is not torn on the platforms Node
// runs on (x64, arm64), and a reader that sees a value one event old is still a correct scrape. NaN in a slot
// means "no series" (a position that is not open, a perf event not counted yet). Units: whatever the family's
// name says.

import { Counter, Gauge, Registry } from 'prom-client';
import { type SharedStageSpec, StageLatencies } from './hdr-metric.ts';

/** A Float64Array over a SharedArrayBuffer of `length` slots, zeroed. */
export function sharedArray(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

export type SharedMetricType = 'counter' | 'gauge';

/** One label set's slot: blocks[block][index]. `hideZero`: no series while the value is 0. */
export interface SharedSeries {
  labels: Record<string, string>;
  block: number;
  index: number;
  hideZero: boolean;
}

export interface SharedFamilySpec {
  name: string;
  help: string;
  type: SharedMetricType;
  labelNames: string[];
  series: SharedSeries[];
}

/** Everything a reader thread needs; posting it shares the buffers (structured clone keeps them shared). */
export interface SharedSchema {
  version: number;
  blocks: SharedArrayBuffer[];
  families: SharedFamilySpec[];
  stages: SharedStageSpec[];
}

/** A registered family: add label sets to it (registration time), clear them when the layout changes. */
export interface SharedFamily {
  /** Series `labels` reads array[index]; the array must come from sharedArray(). */
  add(labels: Record<string, string>, array: Float64Array, index: number, hideZero?: boolean): void;
  clear(): void;
}

export class SharedMetrics {
  /** Latency stages whose HDR counts live in shared memory (`stage(name)` as with StageLatencies). */
  readonly stages: StageLatencies;
  /**
   * Bumped by every registration: a reader rebuilds its collectors when it changes. In shared memory, so the
   * metrics worker sees a registration without asking this thread.
   */
  readonly versionCell = sharedArray(1);
  private readonly blocks: SharedArrayBuffer[] = [];
  private readonly blockIds = new Map<SharedArrayBuffer, number>();
  private readonly families: SharedFamilySpec[] = [];
  private readonly hooks: (() => void)[] = [];

  constructor() {
    this.stages = new StageLatencies({ onAdded: () => this.bump() });
  }

  get version(): number {
    return this.versionCell[0]!;
  }

  private bump(): void {
    this.versionCell[0] = this.versionCell[0]! + 1;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): SharedFamily {
    return this.family(name, help, 'counter', labelNames);
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): SharedFamily {
    return this.family(name, help, 'gauge', labelNames);
  }

  private family(
    name: string,
    help: string,
    type: SharedMetricType,
    labelNames: readonly string[],
  ): SharedFamily {
    if (this.families.some((f) => f.name === name)) {
      throw new Error(`shared metric ${name} is registered twice`);
    }
    const spec: SharedFamilySpec = { name, help, type, labelNames: [...labelNames], series: [] };
    this.families.push(spec);
    this.bump();
    return {
      add: (labels, array, index, hideZero = false) => {
        const buffer = array.buffer;
        if (!(buffer instanceof SharedArrayBuffer)) {
          throw new Error(
            `shared metric ${name}: its array is not on a SharedArrayBuffer (use sharedArray())`,
          );
        }
        let block = this.blockIds.get(buffer);
        if (block === undefined) {
          block = this.blocks.length;
          this.blocks.push(buffer);
          this.blockIds.set(buffer, block);
        }
        spec.series.push({ labels, block, index: index + array.byteOffset / 8, hideZero });
        this.bump();
      },
      clear: () => {
        spec.series.length = 0;
        this.bump();
      },
    };
  }

  /** Runs on the engine thread before each scrape: copy values that live in engine objects into slots. */
  onPublish(hook: () => void): void {
    this.hooks.push(hook);
  }

  /** Engine thread, once per scrape: the stages' totals and every hook (plain stores). */
  publish(): void {
    this.stages.publish();
    for (const h of this.hooks) h();
  }

  schema(): SharedSchema {
    return {
      version: this.version,
      blocks: [...this.blocks],
      families: this.families,
      stages: this.stages.specs(),
    };
  }

  /** The text a scrape would serve for these metrics alone, formatted on this thread (tests, tools). */
  text(): Promise<string> {
    this.publish();
    return sharedRegistry(this.schema()).metrics();
  }
}

/**
 * A prom-client registry whose collectors read a schema's slots when scraped (the reader side: the metrics
 * worker, or this thread when serving in-thread). Build it once per schema version.
 */
export function sharedRegistry(schema: SharedSchema): Registry {
  const registry = new Registry();
  const arrays = schema.blocks.map((b) => new Float64Array(b));
  for (const f of schema.families) {
    const rows = f.series.map((s) => ({
      labels: s.labels,
      array: arrays[s.block]!,
      index: s.index,
      hideZero: s.hideZero,
    }));
    const config = { name: f.name, help: f.help, labelNames: f.labelNames, registers: [registry] };
    if (f.type === 'counter') {
      new Counter({
        ...config,
        collect() {
          this.reset();
          // inc after reset, not set: two slots under one label set (two reject codes of one name) add up.
          for (const r of rows) {
            const v = r.array[r.index]!;
            if (!Number.isNaN(v) && !(r.hideZero && v === 0)) this.inc(r.labels, v);
          }
        },
      });
    } else {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const r of rows) {
            const v = r.array[r.index]!;
            if (!Number.isNaN(v) && !(r.hideZero && v === 0)) this.set(r.labels, v);
          }
        },
      });
    }
  }
  StageLatencies.reader(schema.stages).register(registry);
  return registry;
}
