// Test support for the control API: a paper node on the in-process local exchange server (demo market) with
// the control API and console served on 127.0.0.1 port 0, its state directory in a fresh temp dir.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeMode, TradingNode } from '../live/node.ts';
import { NodeConfigSchema } from '../live/node-config.ts';
import type { ControlServer } from './server.ts';
import { type PreparedControl, prepareControl } from './start.ts';
import { Role } from './tokens.ts';

export interface ControlRig {
  node: TradingNode;
  control: PreparedControl;
  server: ControlServer;
  url: string;
  stateDir: string;
  journalPath: string;
  operator: string;
  read: string;
  /** What the CLI would print (URL, tokens, status lines). */
  lines: string[];
  close(): Promise<void>;
}

/** `journal`: the node also keeps its crash-safe journal at `<tmp>/node.journal` (rig.journalPath). */
export async function startRig(
  control: Record<string, unknown> = {},
  options: { journal?: boolean } = {},
): Promise<ControlRig> {
  const root = mkdtempSync(join(tmpdir(), 'bot4-control-'));
  const stateDir = join(root, 'state');
  const journalPath = join(root, 'node.journal');
  const config = NodeConfigSchema.parse({
    instruments: ['BTCUSDT'],
    strategies: [
      {
        name: 'ema-cross',
        params: {
          instrument: 'BTCUSDT.BINANCE',
          source: 'quote',
          fast: 3,
          slow: 8,
          qty: 0.001,
        },
      },
    ],
    statusIntervalSec: 1,
    control: { port: 0, stateDir, ...control },
    ...(options.journal === true ? { journal: { path: journalPath, fsync: 'os' } } : {}),
  });
  const lines: string[] = [];
  const prepared = prepareControl({ console: true }, config.control, (l) => lines.push(l), false)!;
  const node = await TradingNode.start({ mode: NodeMode.PAPER, config, print: prepared.print });
  let server: ControlServer;
  try {
    server = await prepared.start(node);
  } catch (e) {
    await node.stop();
    throw e;
  }
  return {
    node,
    control: prepared,
    server,
    url: server.url,
    stateDir,
    journalPath,
    operator: prepared.tokens.token(Role.OPERATOR),
    read: prepared.tokens.token(Role.READ),
    lines,
    close: async () => {
      await prepared.close();
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A fetch that fails with a message naming the request after `ms`. */
export async function call(
  url: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
  ms = 5_000,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const r = await fetch(url, {
    ...init,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(ms),
  }).catch((e: unknown) => {
    throw new Error(`${init.method ?? 'GET'} ${url} failed or timed out after ${ms} ms: ${String(e)}`);
  });
  const text = await r.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: r.status, body: parsed, headers: r.headers };
}
