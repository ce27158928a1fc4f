import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBot4Error } from '../core/errors.ts';
import { present } from '../core/test-resources.ts';
import { Catalog } from './catalog.ts';
import {
  type DownloadOptions,
  download,
  type FetchFn,
  parseAggTrades,
  parseKlines,
  parseTrades,
  trimDecimal,
} from './download.ts';
import { loaderByName } from './loaders/index.ts';

const FIXTURES = join(
  import.meta.dirname,
  '../../../shared/data/nautilus_trader/binance_fixtures/http_responses',
);
const hasFixtures = present(FIXTURES, 'nautilus_trader Binance fixtures');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bot4-download-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const MIN = 60_000;
const T0 = Date.UTC(2024, 7, 8); // ms

/** A fake Binance: exchangeInfo from the fixtures, klines and aggTrades generated for any requested range. */
function fakeBinance(o: { failFirst?: Response; trades?: number }): { fetch: FetchFn; urls: string[] } {
  const urls: string[] = [];
  let failed = o.failFirst === undefined;
  const fetch: FetchFn = async (url) => {
    urls.push(url);
    const u = new URL(url);
    const p = u.searchParams;
    if (u.pathname.endsWith('exchangeInfo')) {
      return json(
        fixture(
          u.host.startsWith('fapi') ? 'http_futures_market_exchange_info' : 'http_spot_market_exchange_info',
        ),
      );
    }
    if (!failed) {
      failed = true;
      return o.failFirst!;
    }
    const limit = Number(p.get('limit'));
    if (u.pathname.endsWith('klines')) {
      const start = Math.ceil(Number(p.get('startTime')) / MIN) * MIN;
      const end = Number(p.get('endTime'));
      const rows = [];
      for (let t = start; t <= end && rows.length < limit; t += MIN) {
        const px = (60000 + (t - T0) / MIN).toFixed(8);
        rows.push([
          t,
          px,
          px,
          px,
          px,
          '1.50000000',
          t + MIN - 1,
          '90000.00000000',
          10,
          '0.70000000',
          '42000.00000000',
          '0',
        ]);
      }
      return json(rows);
    }
    if (u.pathname.endsWith('aggTrades')) {
      // Trade i at T0 + i * 1 s, ids 1000 + i, o.trades of them in all.
      const total = o.trades ?? 0;
      let first: number;
      if (p.has('fromId')) first = Number(p.get('fromId')) - 1000;
      else first = Math.max(0, Math.ceil((Number(p.get('startTime')) - T0) / 1000));
      const last = p.has('endTime') ? Math.floor((Number(p.get('endTime')) - T0) / 1000) : total - 1;
      const rows = [];
      for (let i = first; i <= Math.min(last, total - 1) && rows.length < limit; i++) {
        rows.push({
          a: 1000 + i,
          p: '61800.30',
          q: '0.00600000',
          f: 5000 + i,
          l: 5000 + i,
          T: T0 + i * 1000,
          m: i % 3 === 0,
          M: true,
        });
      }
      return json(rows);
    }
    return json({ code: -1, msg: 'unknown' }, 404);
  };
  return { fetch, urls };
}

function options(o: Partial<DownloadOptions> & Pick<DownloadOptions, 'fetch'>): DownloadOptions {
  return {
    market: 'spot',
    symbol: 'BTCUSDT',
    type: 'klines',
    interval: '1m',
    from: T0 * 1000,
    to: (T0 + 2500 * MIN) * 1000,
    outDir: join(root, 'out'),
    sleep: async () => {},
    ...o,
  };
}

describe.skipIf(!hasFixtures)('Binance REST parsing (nautilus_trader fixtures)', () => {
  it('parses spot and futures klines, trimming trailing zeros', () => {
    const spot = parseKlines(fixture('http_spot_market_klines'), 'spot klines');
    expect(spot.length).toBeGreaterThan(1);
    expect(spot[0]).toEqual({
      openTime: 1634943780000,
      open: '60685.22',
      high: '60729.84',
      low: '60670.9',
      close: '60719.27',
      volume: '21.63272',
      closeTime: 1634943839999,
      quoteVolume: '1313200.0134041',
      trades: 617,
      takerBuyBase: '12.28492',
      takerBuyQuote: '745719.4102284',
    });
    for (const [a, b] of spot.slice(1).map((k, i) => [spot[i]!, k] as const))
      expect(b.openTime - a.openTime).toBe(60_000);
    const fut = parseKlines(fixture('http_futures_market_klines'), 'futures klines');
    expect(fut[0]).toMatchObject({
      openTime: 1499040000000,
      open: '0.0163479',
      closeTime: 1499644799999,
      trades: 308,
    });
  });

  it('parses aggregate trades and trades (taker side from the maker flag)', () => {
    const agg = parseAggTrades(fixture('http_spot_market_agg_trades'), 'agg');
    expect(agg[0]).toEqual({
      id: 966492862,
      price: '60759.6',
      qty: '0.00841',
      time: 1634944096633,
      buyerMaker: false,
    });
    expect(agg[2]!.buyerMaker).toBe(true);
    expect(parseAggTrades(fixture('http_futures_market_agg_trades'), 'fagg')[0]).toEqual({
      id: 26129,
      price: '0.01633102',
      qty: '4.70443515',
      time: 1498793709153,
      buyerMaker: true,
    });
    const trades = parseTrades(fixture('http_spot_market_trades'), 'trades');
    expect(trades[0]).toEqual({
      id: 1111468873,
      price: '60650',
      qty: '0.02924',
      time: 1634942949263,
      buyerMaker: true,
    });
    expect(parseTrades(fixture('http_spot_market_historical_trades'), 'h')[0]!.id).toBe(1111471896);
    expect(parseTrades(fixture('http_futures_market_trades'), 'f')[0]).toMatchObject({
      id: 28457,
      price: '4.000001',
    });
  });

  it('names the response and field that is malformed', () => {
    expect(() => parseKlines({ code: -1121 }, 'GET /api/v3/klines')).toThrow(
      /GET \/api\/v3\/klines: expected a JSON array/,
    );
    expect(() => parseKlines([[1, 'x']], 'k')).toThrow(/k\[0\]: expected a kline array/);
    expect(() => parseAggTrades([{ a: 1, p: '1.0', q: 'abc', T: 1, m: true }], 'agg')).toThrow(
      /agg\[0\]: q \(quantity\) "abc"/,
    );
    expect(trimDecimal('100.00000000')).toBe('100');
    expect(trimDecimal('0.00100000')).toBe('0.001');
    expect(trimDecimal('42')).toBe('42');
  });
});

describe.skipIf(!hasFixtures)('download', () => {
  it('pages through klines, resumes after a cut-off line, and the file imports with exchangeInfo steps', async () => {
    const outDir = join(root, 'k1');
    const { fetch, urls } = fakeBinance({});
    const first = await download(options({ fetch, outDir, to: (T0 + 1200 * MIN) * 1000 }));
    expect(first.rows).toBe(1200);
    expect(urls.filter((u) => u.includes('/klines')).length).toBe(2);
    expect(first.spec).toMatchObject({ symbol: 'BTCUSDT', tickSize: '0.01000000', lotSize: '0.00001000' });
    // A crash mid-line: the resumed run cuts the partial line and goes on from the last whole one.
    const text = readFileSync(first.file, 'utf8');
    truncateSync(first.file, text.length - 30);
    const resumed = await download(options({ fetch, outDir, to: (T0 + 1200 * MIN) * 1000 }));
    expect(resumed.rows).toBe(1);
    expect(resumed.resumedBytes).toBeGreaterThan(0);
    expect(readFileSync(first.file, 'utf8')).toBe(text);
    const lines = text.trim().split('\n');
    expect(lines.length).toBe(1200);
    expect(lines[0]).toBe(`${T0},60000,60000,60000,60000,1.5,${T0 + MIN - 1},90000,10,0.7,42000,0`);
    const cat = Catalog.open(join(root, 'kcat'));
    try {
      const r = await cat.importFile(first.file, {
        loader: loaderByName('binance-klines-csv'),
        instruments: [first.spec],
        venue: first.venue,
      });
      expect(r.record.records).toEqual({ bar: 1200 });
      expect(r.record.problems.malformed_row).toBe(0);
      const inst = cat.newRegistry().find('BTCUSDT', 'BINANCE')!;
      expect(inst.tickSize.text).toBe('0.01');
      let bars = 0;
      for await (const b of cat.query()) {
        if (bars === 0)
          expect([b.a[0], b.f[0], b.tsEvent[0]]).toEqual([6_000_000, 60_000_000, (T0 + MIN) * 1000]);
        bars += b.length;
      }
      expect(bars).toBe(1200);
    } finally {
      cat.close();
    }
  });

  it('waits out a 429 for its Retry-After, and retries server errors with backoff', async () => {
    const sleeps: number[] = [];
    const { fetch } = fakeBinance({
      failFirst: json({ code: -1003, msg: 'Too many requests' }, 429, { 'retry-after': '7' }),
    });
    const r = await download(
      options({
        fetch,
        outDir: join(root, 'k2'),
        to: (T0 + 10 * MIN) * 1000,
        sleep: async (ms) => void sleeps.push(ms),
      }),
    );
    expect(r.rows).toBe(10);
    expect(sleeps).toEqual([7000]);
    const s2: number[] = [];
    const five = fakeBinance({ failFirst: new Response('bad gateway', { status: 502 }) });
    await download(
      options({
        fetch: five.fetch,
        outDir: join(root, 'k3'),
        to: (T0 + 10 * MIN) * 1000,
        sleep: async (ms) => void s2.push(ms),
      }),
    );
    expect(s2).toEqual([500]);
  });

  it('says clearly when the network is unreachable', async () => {
    const sleeps: number[] = [];
    const fetch: FetchFn = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('getaddrinfo ENOTFOUND api.binance.com'), { code: 'ENOTFOUND' }),
      });
    };
    const err = await download(
      options({ fetch, maxRetries: 3, sleep: async (ms) => void sleeps.push(ms) }),
    ).catch((e: unknown) => e);
    expect(isBot4Error(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(
      /cannot reach https:\/\/api\.binance\.com \(ENOTFOUND\) after 3 attempts.*check the network/,
    );
    expect(sleeps).toEqual([500, 1000]);
  });

  it('reports the venue’s own rejection without retrying', async () => {
    const fetch: FetchFn = async () => json({ code: -1121, msg: 'Invalid symbol.' }, 400);
    await expect(download(options({ fetch, symbol: 'NOPE' }))).rejects.toThrow(
      /Binance rejected GET .*exchangeInfo\?symbol=NOPE: HTTP 400 -1121 Invalid symbol\./,
    );
    await expect(download(options({ fetch, symbol: 'btc-usdt' }))).rejects.toThrow(
      /must be a Binance symbol/,
    );
    await expect(download(options({ fetch, interval: '7m' }))).rejects.toThrow(/kline interval "7m"/);
  });

  it('pages aggregate trades by id, resumes from the last id, and imports them on USD-M', async () => {
    const outDir = join(root, 't1');
    const { fetch, urls } = fakeBinance({ trades: 2500 });
    const o = options({ fetch, outDir, market: 'usdm', type: 'trades', to: (T0 + 1800 * 1000) * 1000 });
    const first = await download(o);
    expect(first.rows).toBe(1800);
    expect(
      urls.some((u) => u.startsWith('https://fapi.binance.com/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=')),
    ).toBe(true);
    expect(urls.some((u) => u.includes('fromId=2000'))).toBe(true);
    const lines = readFileSync(first.file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('timestamp,id,side,price,amount');
    expect(lines[1]).toBe(`${T0},1000,sell,61800.3,0.006`);
    expect(lines.length).toBe(1801);
    expect(first.file).toMatch(/binance-usdm\/BTCUSDT-aggTrades-2024-08-08_2024-08-08T003000\.csv$/);
    // Stopped mid-line after 1000 trades: the next run cuts the partial line and asks from the next id.
    const text = readFileSync(first.file, 'utf8');
    truncateSync(first.file, lines.slice(0, 1001).join('\n').length + 12);
    const before = urls.length;
    const resumed = await download(o);
    expect(resumed.rows).toBe(800);
    expect(urls.slice(before).filter((u) => u.includes('aggTrades'))[0]).toMatch(/fromId=2000&limit=1000$/);
    expect(readFileSync(first.file, 'utf8')).toBe(text);
    const cat = Catalog.open(join(root, 'tcat'));
    try {
      const r = await cat.importFile(resumed.file, {
        loader: loaderByName('trades-csv'),
        instruments: [resumed.spec],
        venue: resumed.venue,
        symbol: 'BTCUSDT',
      });
      expect(r.record.records).toEqual({ trade: 1800 });
      expect(r.record.instruments).toEqual(['BTCUSDT.BINANCE_USDM']);
      expect(cat.instrumentSpecs()[0]).toMatchObject({ kind: 1, tickSize: '0.10', lotSize: '0.001' });
    } finally {
      cat.close();
    }
  });
});
