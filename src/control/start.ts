// `--console` and `--rotate-tokens` of `bot4 paper|live`: the control API and web console of a running node.
// prepareControl runs before the node starts (tokens readable and owner-only, or the start fails with exit 2
// before any order), gives the node a print function that also feeds the console's log tail, and start()
// serves the API once the node runs. The console URL is always printed; the tokens when they were just
// created or rotated, or when standard output is a terminal (so a service's log holds them at most once,
// at creation: rotate after deployment).

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { TradingNode } from '../live/node.ts';
import type { NodeConfig } from '../live/node-config.ts';
import { ControlAudit } from './audit.ts';
import { consoleAssets } from './bundle.ts';
import type { ControlCliOptions } from './cli-options.ts';
import { LogTail, NodeControl } from './node-control.ts';
import { type ControlServer, startControlServer } from './server.ts';
import { ControlTokens, Role } from './tokens.ts';

export interface PreparedControl {
  readonly tokens: ControlTokens;
  readonly log: LogTail;
  /** The node's print: stdout (or the given sink) and the log tail. */
  readonly print: (line: string) => void;
  /** Serves the API and console for the started node; prints the URL (and tokens, see the header). */
  start(node: TradingNode): Promise<ControlServer>;
  close(): Promise<void>;
}

/** Undefined without --console (--rotate-tokens alone rotates and returns undefined). */
export function prepareControl(
  opts: ControlCliOptions,
  cfg: NodeConfig['control'],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  showTokens: boolean = process.stdout.isTTY === true,
): PreparedControl | undefined {
  if (opts.console !== true) {
    if (opts.rotateTokens === true) {
      const t = ControlTokens.open(cfg.stateDir, { rotate: true });
      out(`control tokens rotated in ${t.file}`);
    }
    return undefined;
  }
  const tokens = ControlTokens.open(cfg.stateDir, { rotate: opts.rotateTokens === true });
  const log = new LogTail();
  const print = (line: string): void => {
    out(line);
    log.push(line);
  };
  let server: ControlServer | undefined;
  let control: NodeControl | undefined;
  let audit: ControlAudit | undefined;
  return {
    tokens,
    log,
    print,
    async start(node: TradingNode): Promise<ControlServer> {
      audit = ControlAudit.open(cfg.stateDir, node.journal, print);
      control = new NodeControl(node, log);
      try {
        server = await startControlServer({
          control,
          tokens,
          audit,
          assets: await consoleAssets(),
          host: cfg.host,
          port: cfg.port,
          bodyLimit: cfg.bodyLimitBytes,
          rate: { perSec: cfg.requestsPerSec, burst: cfg.requestsPerSec * 2 },
          writeRate: { perSec: cfg.writesPerSec, burst: Math.max(10, cfg.writesPerSec * 2) },
          authFailRate: { perSec: 0.5, burst: 10 },
        });
      } catch (e) {
        control.close();
        audit.close();
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES') {
          throw new Bot4Error(
            ErrorCode.CONFIG_INVALID,
            `config 'control': cannot listen on ${cfg.host}:${cfg.port} (${err.code})`,
          );
        }
        throw e;
      }
      print(`console ${server.url} (control API ${server.url}api/, state ${cfg.stateDir})`);
      if (tokens.fresh || showTokens) {
        out(`console operator token: ${tokens.token(Role.OPERATOR)}`);
        out(`console read-only token: ${tokens.token(Role.READ)}`);
      } else {
        out(`console tokens: in ${tokens.file} (--rotate-tokens makes new ones)`);
      }
      if (!['127.0.0.1', 'localhost', '::1'].includes(cfg.host)) {
        print(
          `control API bound to ${cfg.host}: reachable beyond this machine (plain HTTP: put TLS in front)`,
        );
      }
      return server;
    },
    async close(): Promise<void> {
      await server?.close();
      control?.close();
      audit?.close();
    },
  };
}
