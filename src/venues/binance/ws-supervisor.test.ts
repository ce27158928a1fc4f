import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { waitFor } from '../../core/poll.test-util.ts';
import { type ConnectionEvent, ConnState, WsSupervisor } from './ws-supervisor.ts';

interface Server {
  wss: WebSocketServer;
  url: string;
  sockets: WsSocket[];
  received: string[];
}

async function startServer(autoPong = true): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const s: Server = {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/stream`,
    sockets: [],
    received: [],
  };
  wss.on('connection', (ws) => {
    s.sockets.push(ws);
    ws.on('message', (d) => s.received.push(d.toString()));
  });
  return s;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function supervise(s: Server, extra: Partial<ConstructorParameters<typeof WsSupervisor>[0]> = {}) {
  const events: ConnectionEvent[] = [];
  const messages: string[] = [];
  const sup = new WsSupervisor({
    name: 'test',
    url: () => s.url,
    onOpen: (send) => send('{"method":"SUBSCRIBE"}'),
    onMessage: (t) => messages.push(t),
    onEvent: (e) => events.push(e),
    backoffInitialMs: 10,
    ...extra,
  });
  cleanups.push(async () => {
    await sup.stop();
    for (const ws of s.sockets) ws.terminate();
    await new Promise<void>((r) => s.wss.close(() => r()));
  });
  return { sup, events, messages };
}

describe('WsSupervisor', () => {
  it('delivers frames and resubscribes after the server drops the connection', async () => {
    const s = await startServer();
    const { sup, events, messages } = supervise(s);
    await sup.start();
    await waitFor(() => s.received.length === 1, 'the first subscription');
    s.sockets[0]!.send('hello');
    await waitFor(() => messages.length === 1, 'the first frame');
    s.sockets[0]!.terminate();
    await waitFor(() => sup.reconnects === 1 && sup.state === ConnState.OPEN, 'the reconnect');
    await waitFor(() => s.received.length === 2, 'the resubscription');
    s.sockets[1]!.send('again');
    await waitFor(() => messages.length === 2, 'a frame on the new connection');
    expect(messages).toEqual(['hello', 'again']);
    const kinds = events.map((e) => `${e.kind}:${e.state}`);
    expect(kinds).toContain('reconnect:backoff');
    expect(kinds.filter((k) => k === 'state:open')).toHaveLength(2);
  }, 10_000);

  it('sends bytes as masked text frames the server reads back exactly, of any length, in order', async () => {
    const s = await startServer();
    const { sup } = supervise(s);
    await sup.start();
    await waitFor(() => s.received.length === 1, 'the subscription');
    // Short (7-bit length), medium (16-bit length), a length not a multiple of 4, UTF-8, and one larger
    // than the frame buffer (sent through ws), interleaved with strings ws frames itself.
    const texts = ['{"id":"1"}', 'x'.repeat(126), `{"a":"${'é'.repeat(200)}"}`, 'y'.repeat(20_000), 'z'];
    const buf = Buffer.alloc(30_000);
    for (let round = 0; round < 50; round++) {
      for (const t of texts) {
        // The same buffer every time, overwritten at once: the frame must not depend on it after the call.
        const n = buf.write(`${t}${round}`);
        expect(sup.sendBytes(buf.subarray(0, n))).toBe(true);
        buf.fill(0);
      }
      sup.send(`s${round}`);
    }
    const want = ['{"method":"SUBSCRIBE"}'];
    for (let round = 0; round < 50; round++) want.push(...texts.map((t) => `${t}${round}`), `s${round}`);
    await waitFor(() => s.received.length === want.length, 'every frame');
    expect(s.received).toEqual(want);
  }, 10_000);

  it('backs off with growing delays while the server is down', async () => {
    const s = await startServer();
    const port = (s.wss.address() as AddressInfo).port;
    const { sup, events } = supervise(s, { backoffInitialMs: 20, backoffMaxMs: 80 });
    await sup.start();
    for (const ws of s.sockets) ws.terminate();
    await new Promise<void>((r) => s.wss.close(() => r()));
    await waitFor(() => events.filter((e) => e.kind === 'reconnect').length >= 4, 'four failed attempts');
    const delays = events.filter((e) => e.kind === 'reconnect').map((e) => e.delayMs);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(Math.max(...delays)).toBeLessThanOrEqual(96);
    // The server comes back on the same port: the supervisor reconnects on its own.
    const wss2 = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((r) => wss2.once('listening', () => r()));
    s.wss = wss2;
    wss2.on('connection', (ws) => s.sockets.push(ws));
    await waitFor(() => sup.state === ConnState.OPEN, 'the reconnect after the outage', 5_000);
  }, 10_000);

  it('drops a connection whose pongs stop and reconnects', async () => {
    const s = await startServer(false);
    const { sup, events } = supervise(s, { pingIntervalMs: 30, pongTimeoutMs: 50 });
    await sup.start();
    await waitFor(() => sup.pongTimeouts >= 1 && sup.reconnects >= 1, 'a pong timeout and reconnect');
    expect(events.some((e) => e.kind === 'pong-timeout')).toBe(true);
  }, 10_000);

  it('measures ping round trips when the server answers', async () => {
    const s = await startServer(true);
    const { sup } = supervise(s, { pingIntervalMs: 20, pongTimeoutMs: 1_000 });
    await sup.start();
    await waitFor(() => Number.isFinite(sup.lastPingRttMs), 'a pong');
    expect(sup.pongTimeouts).toBe(0);
  }, 10_000);

  it('replaces the connection at the rollover and resubscribes', async () => {
    const s = await startServer();
    const { sup, events } = supervise(s, { rolloverMs: 60 });
    await sup.start();
    await waitFor(() => sup.rollovers >= 1 && s.received.length >= 2, 'a rollover and resubscription');
    expect(events.some((e) => e.kind === 'rollover')).toBe(true);
    await waitFor(() => sup.state === ConnState.OPEN, 'open after the rollover');
  }, 10_000);

  it('stops cleanly and rejects a start that never opened', async () => {
    const sup = new WsSupervisor({ name: 'x', url: () => 'ws://127.0.0.1:1/none', onMessage: () => {} });
    const p = sup.start();
    await sup.stop();
    await expect(p).rejects.toThrow(/closed before it opened/);
  }, 5_000);
});
