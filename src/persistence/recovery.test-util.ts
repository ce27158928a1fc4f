// Shared by the recovery and chaos tests: a local exchange server with a funded key, a live node config that
// trades often and journals, the node as a child process (so it can be kill -9-ed), and the venue's truth
// (orders, trades, balances) with the invariants a recovered node must meet.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TradingNode } from '../live/node.ts';
import { currencies, moneyFromDecimal } from '../model/currency.ts';
import { BinanceRest } from '../venues/binance/rest.ts';
import { BinanceCredentials } from '../venues/binance/signing.ts';
import { type ExchangeServer, startExchangeServer } from '../venues/server/server.ts';
import { readJournal } from './journal.ts';
import { RecordKind } from './node-journal.ts';

const KEY = 'bot4Journal';
const SECRET = 'journalSecret';

export interface Venue {
  srv: ExchangeServer;
  rest: BinanceRest;
  dir: string;
  keyFile: string;
  journal: string;
}

export async function startVenue(): Promise<Venue> {
  const srv = await startExchangeServer({ accounts: [{ apiKey: KEY, apiSecret: SECRET }], log: () => {} });
  const dir = mkdtempSync(join(tmpdir(), 'bot4-recovery-'));
  const keyFile = join(dir, 'keys.json');
  writeFileSync(keyFile, JSON.stringify({ apiKey: KEY, apiSecret: SECRET }));
  const rest = new BinanceRest({ baseUrl: srv.url, credentials: BinanceCredentials.hmac(KEY, SECRET) });
  return { srv, rest, dir, keyFile, journal: join(dir, 'node.journal') };
}

/** A live node config on the venue: an EMA cross that trades every few seconds (trading: false, never). */
export function nodeConfig(v: Venue, trading: boolean): Record<string, unknown> {
  return {
    venue: { restUrl: v.srv.url, keyFile: v.keyFile },
    instruments: ['BTCUSDT'],
    strategies: [
      {
        name: 'ema-cross',
        params: trading
          ? { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 2, slow: 4, qty: 0.001 }
          : { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 400, slow: 1000, qty: 0.001 },
      },
    ],
    journal: { path: v.journal, fsync: 'group' },
    unknownOrders: 'halt',
    statusIntervalSec: 60,
  };
}

/** `bot4 live --config` as a child process; its output collected. */
export function spawnNode(v: Venue, name: string): { child: ChildProcess; out: () => string } {
  const cfg = join(v.dir, `${name}.json`);
  writeFileSync(cfg, JSON.stringify(nodeConfig(v, true)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'live', '--config', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  return { child, out: () => out };
}

export function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  return exited;
}

/** Fills the journal holds so far (read-only; a torn tail is tolerated, as the node's own open would). */
export function journalFills(path: string): number {
  try {
    return readJournal(path).records.filter((r) => r.kind === RecordKind.FILL).length;
  } catch {
    return 0;
  }
}

interface VenueOrder {
  clientOrderId: string;
  status: string;
}
interface VenueTrade {
  id: number;
  qty: string;
  isBuyer: boolean;
}

export interface Truth {
  orders: VenueOrder[];
  trades: VenueTrade[];
}

export async function venueTruth(v: Venue): Promise<Truth> {
  const orders = (await v.rest.signed(
    'GET',
    '/api/v3/allOrders',
    { symbol: 'BTCUSDT', limit: 1000 },
    20,
  )) as VenueOrder[];
  const trades = (await v.rest.signed(
    'GET',
    '/api/v3/myTrades',
    { symbol: 'BTCUSDT', limit: 1000 },
    20,
  )) as VenueTrade[];
  return { orders, trades };
}

/**
 * The recovered node knows every order the venue acknowledged, holds every venue fill exactly once (in the
 * journal and in its position), and its balances are the venue's to the last unit.
 */
export async function checkInvariants(
  node: TradingNode,
  v: Venue,
  t: Truth,
): Promise<{ orders: number; fills: number; lost: number }> {
  const j = node.journal!;
  const unknown = t.orders.filter((o) => !j.state.orders.has(o.clientOrderId));
  const perTrade = new Map<string, number>();
  for (const r of readJournal(v.journal).records) {
    if (r.kind !== RecordKind.FILL) continue;
    const id = (JSON.parse(r.payload.toString()) as { tradeId: string }).tradeId;
    perTrade.set(id, (perTrade.get(id) ?? 0) + 1);
  }
  const missing = t.trades.filter((tr) => perTrade.get(`BTCUSDT:${tr.id}`) !== 1);
  expect(
    unknown.map((o) => o.clientOrderId),
    'venue orders the node does not know',
  ).toEqual([]);
  expect(
    missing.map((tr) => [tr.id, perTrade.get(`BTCUSDT:${tr.id}`) ?? 0]),
    'venue fills not journalled exactly once',
  ).toEqual([]);
  expect(perTrade.size, 'journalled fills the venue does not list').toBe(t.trades.length);
  const btc = node.kernel.cache.instruments.all().find((i) => i.symbol === 'BTCUSDT')!;
  let net = 0;
  for (const tr of t.trades) net += (tr.isBuyer ? 1 : -1) * btc.qtyToLots(tr.qty);
  expect(node.kernel.portfolio.netQty(btc.id), 'position = the venue fills, each once').toBe(net);
  const acct = (await v.rest.signed('GET', '/api/v3/account', {}, 20)) as {
    balances: { asset: string; free: string; locked: string }[];
  };
  for (const b of acct.balances.filter((x) => x.asset === 'BTC' || x.asset === 'USDT')) {
    const c = currencies.getOrCreate(b.asset);
    expect(node.kernel.portfolio.balance(c.id), `${b.asset} balance`).toBe(
      moneyFromDecimal(b.free, c) + moneyFromDecimal(b.locked, c),
    );
  }
  return { orders: t.orders.length, fills: t.trades.length, lost: unknown.length + missing.length };
}
