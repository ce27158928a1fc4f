// A loopback venue for market-data tests that need no order entry: it plays the frames of a real Binance
// capture (hftbacktest, spot) over /stream and answers /api/v3/depth with a snapshot of the book those frames
// built so far (a diffs-only book: complete for the levels the capture touched), so a client's snapshot +
// diff sync, gap recovery and reconnect can be checked against the book the venue itself holds.

import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { BinanceDepthSync, DepthEvent, SyncStart } from '../../book/binance-sync.ts';
import { L2Book, Side } from '../../book/l2-book.ts';
import type { Micros } from '../../core/units.ts';
import { stepsToDecimal } from '../../model/decimal.ts';
import type { Instrument } from '../../model/instrument.ts';
import { BookDelta, EventBatch, Side as MdSide } from '../../model/market-data.ts';
import { BinanceParser, ParseResult } from './messages.ts';

export const DATA_DIR = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
export const HAVE_DATA = existsSync(`${DATA_DIR}hftbacktest/spot/btcusdt_20240808.gz`);
/** In CI a missing data file fails the test; on a developer machine without it the test is skipped. */
export const SKIP_NO_DATA = !HAVE_DATA && process.env.CI === undefined;

/**
 * The websocket JSON of the first `n` stream frames of a capture (the receive-time prefix cut off). The
 * REST snapshots the collector interleaved are left out: a venue never sends them over the stream.
 */
export function captureFrames(rel: string, n: number): string[] {
  const text = gunzipSync(readFileSync(`${DATA_DIR}hftbacktest/${rel}`)).toString('utf8');
  const out: string[] = [];
  let p = 0;
  while (out.length < n && p < text.length) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = text.length;
    const sp = text.indexOf(' ', p);
    if (sp > p && sp < e && text.startsWith('{"stream"', sp + 1)) out.push(text.slice(sp + 1, e));
    p = e + 1;
  }
  return out;
}

export class CaptureVenue {
  readonly http: Server;
  readonly wss: WebSocketServer;
  readonly sockets: WsSocket[] = [];
  /** The venue's own book: every depth frame sent so far, applied in order. */
  readonly book = new L2Book();
  private readonly sync = new BinanceDepthSync(this.book, { market: 'spot', start: SyncStart.DIFFS });
  private readonly parser: BinanceParser;
  private readonly batch = new EventBatch(8192);
  private readonly ev = new DepthEvent();
  private readonly d = new BookDelta();
  private readonly frames: string[];
  private readonly inst: Instrument;
  next = 0;
  snapshotsServed = 0;
  /** Depth frames withheld (gap injection). */
  skipped = 0;
  private skipNextDepth = false;

  constructor(frames: string[], inst: Instrument) {
    this.frames = frames;
    this.inst = inst;
    this.parser = new BinanceParser((s) => (s === inst.symbol ? inst : undefined));
    this.parser.roundSizes = true;
    this.http = createServer((req, res) => {
      if (req.url?.startsWith('/api/v3/depth') === true) {
        this.snapshotsServed++;
        res.writeHead(200, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '50' });
        res.end(this.snapshotText());
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"code":-1000,"msg":"not here"}');
    });
    this.wss = new WebSocketServer({ server: this.http });
    this.wss.on('connection', (ws) => this.sockets.push(ws));
  }

  async listen(): Promise<{ http: string; ws: string }> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', () => r()));
    const port = (this.http.address() as AddressInfo).port;
    return { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
  }

  /** Sends the next `n` frames to every open socket (depth frames also update the venue's book); returns
   *  how many were sent (a withheld depth frame is not). */
  send(n: number): number {
    let sent = 0;
    const end = Math.min(this.frames.length, this.next + n);
    for (; this.next < end; this.next++) {
      const f = this.frames[this.next]!;
      const depth = this.applyIfDepth(f);
      if (depth && this.skipNextDepth) {
        this.skipNextDepth = false;
        this.skipped++;
        continue;
      }
      for (const ws of this.sockets) if (ws.readyState === ws.OPEN) ws.send(f);
      sent++;
    }
    return sent;
  }

  /** The next depth frame updates the venue's book but is not sent: the client sees a sequence gap. */
  gapNextDepth(): void {
    this.skipNextDepth = true;
  }

  sendRaw(text: string): void {
    for (const ws of this.sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  }

  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.length = 0;
  }

  get openSockets(): number {
    return this.sockets.filter((s) => s.readyState === s.OPEN).length;
  }

  get remaining(): number {
    return this.frames.length - this.next;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private applyIfDepth(f: string): boolean {
    const p = this.parser;
    this.batch.clear();
    if (p.parse(f, 0, 0, this.batch) !== ParseResult.DEPTH) return false;
    const ev = this.ev;
    ev.reset();
    for (let i = p.rowStart; i < p.rowEnd; i++) {
      this.batch.readDelta(i, this.d);
      (this.d.side === MdSide.BUY ? ev.bids : ev.asks).push(this.d.px, this.d.qty);
    }
    ev.firstId = p.firstId;
    ev.finalId = p.lastId;
    ev.tsEvent = p.tsEvent as Micros;
    this.sync.onDepth(ev);
    return true;
  }

  private snapshotText(): string {
    const levels = (side: Side): string => {
      const n = this.book.levelCount(side);
      const px = new Float64Array(n);
      const qty = new Float64Array(n);
      const k = this.book.depth(side, n, px, qty);
      const parts: string[] = [];
      for (let i = 0; i < k; i++) {
        parts.push(
          `["${stepsToDecimal(px[i]!, this.inst.tickSize)}","${stepsToDecimal(qty[i]!, this.inst.lotSize)}"]`,
        );
      }
      return parts.join(',');
    };
    return `{"lastUpdateId":${this.sync.lastUpdateId},"bids":[${levels(Side.BID)}],"asks":[${levels(Side.ASK)}]}`;
  }
}

/** The top `n` levels of both sides, for comparing two books. */
export function topLevels(book: L2Book, n: number): number[][] {
  const out: number[][] = [];
  for (const side of [Side.BID, Side.ASK]) {
    const px = new Float64Array(n);
    const qty = new Float64Array(n);
    const k = book.depth(side, n, px, qty);
    for (let i = 0; i < k; i++) out.push([side, px[i]!, qty[i]!]);
  }
  return out;
}
