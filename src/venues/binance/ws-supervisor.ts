// Keeps one WebSocket connection to a venue alive: opens it, pings and expects a pong (a silent connection is
// dead even when TCP says otherwise), reconnects with capped exponential backoff and jitter, lets the owner
// resubscribe on every open, and replaces the connection before Binance's 24-hour limit closes it.
// Every state change, reconnect and rollover is an event (the seam for metrics and logs).
// Invariant: at most one socket is live; messages of a socket being replaced are not delivered after its
// successor opens. Units: milliseconds (timers), monotonic nanoseconds (message receive time).

import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { monoMillis, monoNanos } from '../../core/clock.ts';

/** ws.send's options for bytes that are UTF-8 text (the WebSocket API takes requests in text frames). */
const TEXT_FRAME = { binary: false } as const;

/**
 * Client text frames built here and written straight to the socket (RFC 6455 §5.2: FIN + text opcode, the
 * masked length, a 4-byte mask from a pool of random bytes, the payload XORed with it), into one reused buffer:
 * ws's send would build two option objects and allocate the frame per message, on the order path. Only when
 * nothing is queued (ws.bufferedAmount 0, so the bytes cannot overtake a frame ws holds); a write the kernel did
 * not take at once keeps the buffer (Node holds it until written), so the next frame gets a new one.
 */
class FrameWriter {
  private out = Buffer.allocUnsafe(8192);
  /** Views of `out` by length, made once each. */
  private views: (Buffer | undefined)[] = [];
  private readonly pool = Buffer.allocUnsafe(4096);
  private at = 4096;

  /** Writes `bytes` as one masked text frame; false when they do not fit (the caller sends them through ws). */
  write(sock: Socket, bytes: Buffer): boolean {
    const v = this.frame(bytes);
    if (v === undefined) return false;
    sock.write(v);
    if (sock.writableLength !== 0) {
      // Queued in Node, not yet in the kernel: the frame's bytes must stay as they are until written.
      this.out = Buffer.allocUnsafe(this.out.length);
      this.views = [];
    }
    return true;
  }

  /** The frame of `bytes` in the reused buffer (a view), undefined when it does not fit. */
  frame(bytes: Buffer): Buffer | undefined {
    const n = bytes.length;
    const head = n > 125 ? 8 : 6;
    if (n > 65535 || n + head > this.out.length) return undefined;
    if (this.at === this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const out = this.out;
    const pool = this.pool;
    out[0] = 0x81;
    let o = 2;
    if (n > 125) {
      out[1] = 0x80 | 126;
      out[2] = n >>> 8;
      out[3] = n & 0xff;
      o = 4;
    } else out[1] = 0x80 | n;
    const m0 = pool[this.at]!;
    const m1 = pool[this.at + 1]!;
    const m2 = pool[this.at + 2]!;
    const m3 = pool[this.at + 3]!;
    this.at += 4;
    out[o] = m0;
    out[o + 1] = m1;
    out[o + 2] = m2;
    out[o + 3] = m3;
    o += 4;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      out[o + i] = bytes[i]! ^ m0;
      out[o + i + 1] = bytes[i + 1]! ^ m1;
      out[o + i + 2] = bytes[i + 2]! ^ m2;
      out[o + i + 3] = bytes[i + 3]! ^ m3;
    }
    for (; i < n; i++) out[o + i] = bytes[i]! ^ pool[this.at - 4 + (i & 3)]!;
    const len = o + n;
    let v = this.views[len];
    if (v === undefined) {
      v = out.subarray(0, len);
      this.views[len] = v;
    }
    return v;
  }
}

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
  /** The current connection's TCP socket (from the upgrade), for frames written without ws. */
  private sock: Socket | undefined = undefined;
  private readonly frameWriter = new FrameWriter();
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
   * they are masked into a frame of the supervisor's own (FrameWriter), or, while ws has something queued, into
   * one of ws's (a Buffer is "read-only" to it). One socket write per frame where a string costs a conversion
   * and two writes.
   */
  sendBytes(bytes: Buffer): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    const sock = this.sock;
    if (sock === undefined || ws.bufferedAmount !== 0 || !this.frameWriter.write(sock, bytes)) {
      ws.send(bytes, TEXT_FRAME);
    }
    return true;
  }

  /** Masks `bytes` into a frame as `sendBytes` would, and writes nothing (the order client's keep-warm). */
  warmFrame(bytes: Buffer): void {
    this.frameWriter.frame(bytes);
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
    this.sock = undefined;
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
    this.sock = undefined;
    // Stamped ahead of ws's own 'data' listener (added after 'upgrade'): the start of tick-to-trade.
    ws.once('upgrade', (res) => {
      if (this.ws === ws) this.sock = res.socket;
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
    this.sock = undefined;
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
        this.sock = undefined;
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
