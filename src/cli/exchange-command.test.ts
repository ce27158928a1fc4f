import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSpeed } from './exchange-command.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('bot4 exchange serve', () => {
  it('prints listening first, serves Binance REST, and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'exchange',
        'serve',
        '--demo',
        '--port',
        '0',
        '--api-key',
        'K',
        '--api-secret',
        'Sekrit9f3a',
        '--warmup',
        '1',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const end = Date.now() + 40_000;
      while (!out.includes('\n')) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`no listening line; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const first = out.split('\n')[0]!;
      expect(first).toMatch(/^listening http:\/\/127\.0\.0\.1:\d+$/);
      const url = first.slice('listening '.length);
      const info = (await (
        await fetch(`${url}/api/v3/exchangeInfo`, { signal: AbortSignal.timeout(5000) })
      ).json()) as {
        symbols: { symbol: string }[];
      };
      expect(info.symbols.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
      // The key is funded; the secret never appears in any output.
      const r = await fetch(`${url}/api/v3/userDataStream`, {
        method: 'POST',
        headers: { 'X-MBX-APIKEY': 'K' },
      });
      expect(r.status).toBe(200);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      expect(code).toBe(0);
      expect(`${out}${err}`).not.toContain('Sekrit9f3a');
      expect(err).toContain('exchange: stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('answers a port in use with exit code 2', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'exchange', 'serve', '--port', String(port), '--warmup', '0'],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (d) => {
        err += String(d);
      });
      const code = await Promise.race([
        new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c))),
        new Promise((r) => setTimeout(() => r('timeout'), 30_000)),
      ]);
      if (child.exitCode === null) child.kill('SIGKILL');
      expect(code).toBe(2);
      expect(err).toContain(`--port ${port} is in use`);
    } finally {
      busy.close();
    }
  }, 40_000);

  it('rejects a bad --speed with exit code 2 naming the value', async () => {
    expect(parseSpeed('10x')).toBe(10);
    expect(parseSpeed('max')).toBe('max');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'exchange', 'serve', '--speed', 'fast'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const code = await Promise.race([
      new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c))),
      new Promise((r) => setTimeout(() => r('timeout'), 30_000)),
    ]);
    expect(code).toBe(2);
    expect(err).toContain("--speed 'fast'");
  }, 40_000);
});
