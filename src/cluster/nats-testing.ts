// Test and benchmark support: real nats-server processes (Debian's package) on loopback, one alone or three in a
// JetStream cluster, client ports picked by the server (`-1`) and route ports picked by the OS (a JetStream
// cluster must be given its routes at start: they are free ports found by binding port 0; never a fixed port,
// other tests run beside these), each with its storage in a temp folder. A server can be stopped and started again on the same storage (a cluster test
// restarts one mid-run). Every wait has a deadline that fails with a message naming the server.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCi } from '../core/test-resources.ts';

export const NATS_SERVER = process.env.BOT4_NATS_SERVER ?? '/usr/sbin/nats-server';

/** True when nats-server is installed; false on a developer machine without it; in CI a missing one throws. */
export function natsServerPresent(): boolean {
  if (existsSync(NATS_SERVER)) return true;
  if (isCi()) {
    throw new Error(`nats-server is missing in CI (${NATS_SERVER}): .ci/run installs Debian's nats-server`);
  }
  return false;
}

const START_TIMEOUT_MS = 15_000;

export class NatsServer {
  readonly name: string;
  readonly storeDir: string;
  /** Client URL (nats://127.0.0.1:port) of the running process; the port changes on restart. */
  url = '';
  /** Route port (cluster members only; kept across restarts). */
  routePort = 0;
  private proc: ChildProcess | null = null;
  private readonly confFile: string;
  private readonly routes: () => readonly number[];
  private readonly clustered: boolean;

  constructor(name: string, dir: string, clustered: boolean, routes: () => readonly number[]) {
    this.name = name;
    this.storeDir = join(dir, name);
    mkdirSync(this.storeDir, { recursive: true });
    this.confFile = join(dir, `${name}.conf`);
    this.clustered = clustered;
    this.routes = routes;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  async start(): Promise<void> {
    const routes = this.routes().filter((p) => p !== this.routePort);
    const cluster = this.clustered
      ? `cluster {\n  name: bot4test\n  listen: 127.0.0.1:${this.routePort}\n  routes: [${routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}]\n}\n`
      : '';
    writeFileSync(
      this.confFile,
      `server_name: ${this.name}\nlisten: 127.0.0.1:-1\njetstream {\n  store_dir: "${this.storeDir}"\n}\n${cluster}`,
    );
    const proc = spawn(NATS_SERVER, ['-c', this.confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(`nats-server ${this.name} did not listen within ${START_TIMEOUT_MS} ms; log:\n${log}`),
        START_TIMEOUT_MS,
      );
      const fail = (why: string): void => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        this.proc = null;
        reject(new Error(why));
      };
      proc.on('error', (e) => fail(`nats-server ${this.name} failed to start: ${e.message}`));
      proc.on('exit', (code) => {
        if (this.proc === proc) this.proc = null;
        if (!this.url)
          fail(`nats-server ${this.name} exited with code ${code} before listening; log:\n${log}`);
      });
      proc.stderr!.setEncoding('utf8');
      proc.stderr!.on('data', (chunk: string) => {
        if (log.length < 100_000) log += chunk;
        const client = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
        const route = /Listening for route connections on 127\.0\.0\.1:(\d+)/.exec(log);
        if (client !== null && (!this.clustered || route !== null) && /Server is ready/.test(log)) {
          this.url = `nats://127.0.0.1:${client[1]}`;
          if (route !== null) this.routePort = Number(route[1]);
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    this.proc = null;
    this.url = '';
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }
}

export class NatsCluster {
  readonly servers: NatsServer[];
  readonly dir: string;

  private constructor(dir: string, servers: NatsServer[]) {
    this.dir = dir;
    this.servers = servers;
  }

  /** n = 1: a lone JetStream server; n = 3: a cluster of three whose streams can be R3. */
  static async start(n: number): Promise<NatsCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-nats-'));
    const servers: NatsServer[] = [];
    const routes = (): number[] => servers.map((s) => s.routePort);
    for (let i = 0; i < n; i++) {
      const s = new NatsServer(`s${i + 1}`, dir, n > 1, routes);
      if (n > 1) s.routePort = await freePort();
      servers.push(s);
    }
    const c = new NatsCluster(dir, servers);
    try {
      await Promise.all(servers.map((s) => s.start()));
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  /** Every running server's URL, comma-separated (what --cluster takes). */
  get urls(): string {
    return this.servers
      .filter((s) => s.running)
      .map((s) => s.url)
      .join(',');
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A loopback port free now (bound to port 0 and released): for route ports a cluster needs before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
