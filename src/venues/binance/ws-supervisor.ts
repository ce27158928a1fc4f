// Keeps one WebSocket connection to a venue alive: opens it, pings and expects a pong (a silent connection is
// dead even when TCP says otherwise), reconnects with capped exponential backoff and jitter, lets the owner
// resubscribe on every open, and replaces the connection before Binance's 24-hour limit closes it.
// Every state change, reconnect and rollover is an event (the seam for metrics and logs).
// Invariant: at most one socket is live; messages of a socket being replaced are not delivered after its
// successor opens. Units: milliseconds (timers), monotonic nanoseconds (message receive time).

import WebSocket from 'ws';
import { monoMillis, monoNanos } from '../../core/clock.ts';

/** ws.send's options for bytes that are UTF-8 text (the WebSocket API takes requests in text frames). */
const TEXT_FRAME = { binary: false } as const;

export const ConnState = {
  IDLE: 'idle',
  CONNECTING: 'connecting',
  OPEN: 'open',
  /** Waiting out the backoff before the next attempt. */
  BACKOFF: 'backoff',
  CLOSED: 'closed',
} as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

export interface ConnectionEvent {
  connection: string;
  kind: 'state' | 'reconnect' | 'rollover' | 'pong-timeout' | 'error';
  state: ConnState;
  /** Consecutive failed attempts so far (0 once open). */
  attempt: number;
  /** reconnect: the backoff before the next attempt, ms. */
  delayMs: number;
  /** Why (close code and reason, error message), '' when nothing to say. */
  reason: string;
}

export interface WsSupervisorOptions {
  /** For events and logs. */
  name: string;
  /** Read at each attempt, so the owner can change streams between connections. */
  url: () => string;
  /** Called on every open (first and after reconnects): (re)subscribe here. */
  onOpen?: (send: (text: string) => boolean) => void;
  /** A text frame, with its receive time on the monotonic clock. */
  onMessage: (text: string, recvNanos: number) => void;
  onEvent?: (e: ConnectionEvent) => void;
  /** Client ping interval, ms (default 15000; Binance pings every 20 s itself, `ws` answers those). */
  pingIntervalMs?: number;
  /** A pong later than this after our ping drops the connection, ms (default 10000). */
  pongTimeoutMs?: number;
  /** Backoff: first delay, cap, ms (default 250, 30000); doubled per failed attempt, ±20% jitter. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Replace the connection after this long, ms (default 23.5 h: Binance closes at 24 h). */
  rolloverMs?: number;
  /** Fail an attempt when the handshake takes longer, ms (default 10000). */
  connectTimeoutMs?: number;
}

export class WsSupervisor {
  readonly name: string;
  state: ConnState = ConnState.IDLE;
  /** Successful opens, reconnects (opens after the first), rollovers, pong timeouts, frames received. */
  opens = 0;
  reconnects = 0;
  rollovers = 0;
  pongTimeouts = 0;
  frames = 0;
  /** The last ping's round trip, ms (NaN before the first pong). */
  lastPingRttMs = Number.NaN;
  /** When the socket's last bytes reached JavaScript (before ws decoded frames from them), monotonic ns. */
  readNanos = 0;

  private readonly o: WsSupervisorOptions;
  private ws: WebSocket | undefined = undefined;
  private attempt = 0;
  private pingTimer: NodeJS.Timeout | undefined = undefined;
  private pongTimer: NodeJS.Timeout | undefined = undefined;
  private retryTimer: NodeJS.Timeout | undefined = undefined;
  private rolloverTimer: NodeJS.Timeout | undefined = undefined;
  private pingSentMs = 0;
  private openWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private stopping = false;
  private readonly sendBound = (text: string): boolean => this.send(text);

  constructor(options: WsSupervisorOptions) {
    this.o = options;
    this.name = options.name;
  }

  /** Starts connecting; resolves at the first open (rejects if stopped first). Reconnects never end. */
  start(): Promise<void> {
    this.stopping = false;
    return new Promise((resolve, reject) => {
      this.openWaiters.push({ resolve, reject });
      this.connect();
    });
  }

  /** Sends a text frame when open; false otherwise (the caller decides whether to queue or fail). */
  send(text: string): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    return true;
  }

  /**
   * Sends bytes as a text frame when open; false otherwise. The bytes may be reused as soon as this returns:
   * ws masks a client's Buffer into a frame of its own (a Buffer is "read-only" to it; nothing is queued, as no
   * extension is negotiated), one socket write per frame where a string costs a conversion and two writes.
   */
  sendBytes(bytes: Buffer): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(bytes, TEXT_FRAME);
    return true;
  }

  /** Drops the current connection as if the network had (a test and fault seam); the supervisor reconnects. */
  drop(reason = 'dropped by owner'): void {
    this.ws?.terminate();
    if (this.ws !== undefined) this.onClosed(this.ws, 1006, reason);
  }

  /** Closes for good. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (ws !== undefined && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'client stop');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000).unref();
      });
    }
    this.setState(ConnState.CLOSED, '');
  }

  private connect(): void {
    if (this.stopping) return;
    this.setState(ConnState.CONNECTING, '');
    const ws = new WebSocket(this.o.url(), {
      perMessageDeflate: false,
      handshakeTimeout: this.o.connectTimeoutMs ?? 10_000,
    });
    this.ws = ws;
    // Stamped ahead of ws's own 'data' listener (added after 'upgrade'): the start of tick-to-trade.
    ws.once('upgrade', (res) => {
      res.socket.prependListener('data', () => {
        this.readNanos = monoNanos();
      });
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.opens++;
      if (this.opens > 1) this.reconnects++;
      this.attempt = 0;
      this.setState(ConnState.OPEN, '');
      this.startTimers(ws);
      this.o.onOpen?.(this.sendBound);
      const waiters = this.openWaiters;
      this.openWaiters = [];
      for (const w of waiters) w.resolve();
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (this.ws !== ws || isBinary) return;
      this.frames++;
      this.o.onMessage(data.toString(), monoNanos());
    });
    ws.on('pong', () => {
      if (this.ws !== ws) return;
      this.lastPingRttMs = monoMillis() - this.pingSentMs;
      if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    });
    ws.on('error', (e: Error) => {
      if (this.ws !== ws) return;
      this.emit('error', e.message, 0);
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClosed(ws, code, reason.toString()));
  }

  private onClosed(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.clearTimers();
    ws.removeAllListeners('message');
    if (this.stopping) return;
    this.attempt++;
    const base = this.o.backoffInitialMs ?? 250;
    const cap = this.o.backoffMaxMs ?? 30_000;
    const raw = Math.min(cap, base * 2 ** Math.min(this.attempt - 1, 20));
    const delay = Math.round(raw * (0.8 + 0.4 * Math.random()));
    this.setState(ConnState.BACKOFF, `close ${code}${reason === '' ? '' : ` ${reason}`}`);
    this.emit('reconnect', `close ${code}${reason === '' ? '' : ` ${reason}`}`, delay);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private startTimers(ws: WebSocket): void {
    const every = this.o.pingIntervalMs ?? 15_000;
    const timeout = this.o.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws || this.pongTimer !== undefined) return;
      this.pingSentMs = monoMillis();
      ws.ping();
      this.pongTimer = setTimeout(() => {
        this.pongTimeouts++;
        this.emit('pong-timeout', `no pong within ${timeout} ms`, 0);
        this.pongTimer = undefined;
        ws.terminate();
        this.onClosed(ws, 1006, 'pong timeout');
      }, timeout);
    }, every);
    this.rolloverTimer = setTimeout(
      () => {
        this.rollovers++;
        this.emit('rollover', 'planned reconnect before the 24 h limit', 0);
        // A planned close: reconnect at once, without counting a failure.
        this.attempt = 0;
        ws.close(1000, 'rollover');
        this.ws = undefined;
        this.clearTimers();
        ws.removeAllListeners('message');
        this.connect();
      },
      this.o.rolloverMs ?? 23.5 * 3600_000,
    );
  }

  private clearTimers(): void {
    for (const t of [this.pingTimer, this.pongTimer, this.retryTimer, this.rolloverTimer]) {
      if (t !== undefined) clearTimeout(t);
    }
    this.pingTimer = this.pongTimer = this.retryTimer = this.rolloverTimer = undefined;
  }

  private setState(state: ConnState, reason: string): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', reason, 0);
    if (state === ConnState.CLOSED) {
      const waiters = this.openWaiters;
      this.openWaiters = [];
      for (const w of waiters) w.reject(new Error(`connection ${this.name} closed before it opened`));
    }
  }

  private emit(kind: ConnectionEvent['kind'], reason: string, delayMs: number): void {
    this.o.onEvent?.({
      connection: this.name,
      kind,
      state: this.state,
      attempt: this.attempt,
      delayMs,
      reason,
    });
  }
}
