// What a trading node needs of its market-data source, the narrowest face both the native Binance client
// (src/venues/binance/market-data.ts, on the engine thread or fed by a worker) and the ccxt one
// (src/venues/ccxt/ccxt-market-data.ts) show: start/stop, the counters of the status line, the connection
// state for readiness and metrics, book sync, and the socket timestamps of the tick-to-trade stages.
// Units: monotonic ns for the timestamps (0 where a source cannot see that stage).

import type { MarketDataStats } from '../venues/binance/market-data.ts';

/** A connection's state (ConnState's values) and how often it came back. */
export interface NodeConnection {
  readonly state: string;
  readonly reconnects: number;
}

export interface NodeMarketData {
  readonly stats: MarketDataStats;
  readonly supervisor: NodeConnection;
  /** The frame being handled: socket bytes read, message received, decoded (monotonic ns). */
  readonly readNanos: number;
  readonly recvNanos: number;
  readonly parsedNanos: number;
  /** Whether the instrument's book is in sync with the venue now. */
  inSync(instrumentId: number): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs the decoder on the last quote again, dropping the result (the node's keep-warm); optional. */
  warm?(): void;
}
