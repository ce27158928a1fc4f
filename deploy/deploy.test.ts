// Deployment files checked without a container engine or an init system to run them:
// - Dockerfile: parsed; every COPY source exists and is not hidden by .dockerignore, every `npm run` script
//   exists, the runtime stage installs production dependencies only, runs as a non-root user, has a
//   HEALTHCHECK, and the CLI accepts the options its CMD passes.
// - deploy/compose.yaml: rendered by `docker-compose config` (Debian's docker-compose; `docker compose` when
//   present); services, bind-mounted files, and the refusal to start Grafana without an admin password.
// - deploy/systemd/bot4-paper.service: `systemd-analyze verify` must print nothing about the unit (it exits 0
//   even for unknown keys, so its warnings are the verdict); the sandboxing directives are required.
// Not checked here: that the image builds and the containers run (no engine on these machines).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { present } from '../src/core/test-resources.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const UNIT = `${ROOT}deploy/systemd/bot4-paper.service`;

interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    pending += `${line.endsWith('\\') ? line.slice(0, -1) : line} `;
    if (line.endsWith('\\')) return;
    const m = /^(\S+)\s+(.*)$/.exec(pending.trim())!;
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    pending = '';
  });
  return out;
}

const helps = new Map<string, string>();
/** The CLI's own --help for a command: the options deployment files pass must be listed there. */
function cliHelp(command: string): string {
  const known = helps.get(command);
  if (known !== undefined) return known;
  const text = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', command, '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  helps.set(command, text);
  return text;
}

function optionsIn(args: readonly string[]): string[] {
  return args.filter((a) => a.startsWith('--'));
}

describe('Dockerfile', () => {
  const instructions = parseDockerfile(readFileSync(`${ROOT}Dockerfile`, 'utf8'));
  const stages = instructions.filter((i) => i.op === 'FROM');
  const runtimeStart = instructions.indexOf(stages.at(-1)!);
  const runtime = instructions.slice(runtimeStart);
  const ignored = readFileSync(`${ROOT}.dockerignore`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('is multi-stage: a build stage with dev dependencies, a runtime stage with production ones', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const buildRuns = instructions.slice(0, runtimeStart).filter((i) => i.op === 'RUN');
    expect(buildRuns.some((i) => /npm ci\b(?!.*--omit=dev)/.test(i.args))).toBe(true);
    expect(buildRuns.some((i) => /npm run build\b/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    // The runtime stage takes the compiled output from the build stage, not a fresh compile.
    expect(runtime.some((i) => i.op === 'COPY' && /--from=build\s+\S*dist/.test(i.args))).toBe(true);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const copies = instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(3);
    for (const c of copies) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(`${ROOT}${src}`), `Dockerfile line ${c.line}: COPY source ${src}`).toBe(true);
        expect(ignored, `Dockerfile line ${c.line}: ${src} is excluded by .dockerignore`).not.toContain(src);
      }
    }
  });

  it('runs only npm scripts that package.json defines, and the .npmrc it copies skips the CUDA download', () => {
    const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: object }).scripts;
    const used = instructions
      .filter((i) => i.op === 'RUN')
      .flatMap((i) => [...i.args.matchAll(/npm run (\S+)/g)].map((m) => m[1]!));
    expect(used.length).toBeGreaterThan(0);
    for (const s of used) expect(Object.keys(scripts), `npm run ${s}`).toContain(s);
    expect(readFileSync(`${ROOT}.npmrc`, 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
  });

  it("runs as a non-root user with a health check on the node's /healthz probe", () => {
    const users = runtime.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    const health = runtime.find((i) => i.op === 'HEALTHCHECK');
    expect(health?.args).toMatch(/CMD .*\/healthz/);
    const port = /EXPOSE (\d+)/.exec(runtime.map((i) => `${i.op} ${i.args}`).join('\n'))![1]!;
    expect(health!.args).toContain(`:${port}/healthz`);
  });

  it('starts the CLI with options it accepts and a config that loads', async () => {
    const entry = JSON.parse(runtime.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    const cmd = JSON.parse(runtime.find((i) => i.op === 'CMD')!.args) as string[];
    expect(entry).toEqual(['node', '/app/bin/bot4.js']);
    expect(runtime.some((i) => i.op === 'COPY' && /^bin \.\/bin$/.test(i.args))).toBe(true);
    const help = cliHelp(cmd[0]!);
    for (const o of optionsIn(cmd)) expect(help, `${cmd[0]} ${o}`).toContain(o);
    const config = cmd[cmd.indexOf('--config') + 1]!;
    expect(config.startsWith('/app/')).toBe(true);
    const { loadNodeConfig } = await import('../src/live/node-config.ts');
    expect(loadNodeConfig(`${ROOT}${config.slice('/app/'.length)}`).instruments.length).toBeGreaterThan(0);
  });
});

/** `docker compose` (the plugin) when present, else Debian's docker-compose; undefined when neither is. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { timeout: 30_000 }).status === 0)
    return ['docker', 'compose'];
  if (present('/usr/bin/docker-compose', "Debian's docker-compose (apt-get install docker-compose)")) {
    return ['/usr/bin/docker-compose'];
  }
  return undefined;
}

const compose = composeCommand();

describe.skipIf(compose === undefined)(
  'deploy/compose.yaml (docker-compose config; skipped: not installed)',
  () => {
    const run = (args: string[], env: Record<string, string> = {}) => {
      const { GRAFANA_ADMIN_PASSWORD: _, ...base } = process.env;
      const r = spawnSync(compose![0]!, [...compose!.slice(1), '-f', 'compose.yaml', ...args], {
        cwd: `${ROOT}deploy`,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...base, ...env },
      });
      if (r.error) throw r.error;
      return r;
    };

    it('renders with the node, Prometheus and Grafana, every bind-mounted path existing', () => {
      const r = run(['config'], { GRAFANA_ADMIN_PASSWORD: 'fuzz-free-secret' });
      expect(r.status, r.stderr).toBe(0);
      const services = run(['config', '--services'], { GRAFANA_ADMIN_PASSWORD: 'x' })
        .stdout.trim()
        .split('\n');
      expect(services.sort()).toEqual(['grafana', 'node', 'prometheus']);
      // Bind mounts render as absolute host paths; named volumes do not start with '/'.
      const binds = [...r.stdout.matchAll(/^\s+- (\/[^:\s]+):(\/[^:\s]+)(?::(?:ro|rw))?$/gm)].map(
        (m) => m[1]!,
      );
      expect(binds).toEqual(
        expect.arrayContaining([
          `${ROOT}deploy/prometheus`,
          `${ROOT}deploy/grafana/provisioning`,
          `${ROOT}deploy/grafana/dashboards`,
          `${ROOT}examples/paper.json`,
        ]),
      );
      for (const b of binds) expect(existsSync(b), `bind mount ${b}`).toBe(true);
      // Prometheus reuses deploy/prometheus unchanged: it scrapes 127.0.0.1:9464 inside the node's namespace.
      expect(r.stdout).toMatch(/network_mode: service:node/);
      expect(readFileSync(`${ROOT}deploy/prometheus/prometheus.yml`, 'utf8')).toContain('127.0.0.1:9464');
      expect(r.stdout).toMatch(/- '9464'/);
    });

    it('the node command passes options the CLI accepts', () => {
      const text = readFileSync(`${ROOT}deploy/compose.yaml`, 'utf8');
      const cmd = JSON.parse(/^\s+command: (\[.*\])$/m.exec(text)![1]!) as string[];
      const help = cliHelp(cmd[0]!);
      for (const o of optionsIn(cmd)) expect(help, `${cmd[0]} ${o}`).toContain(o);
    });

    it('refuses to render without a Grafana admin password, naming the variable', () => {
      const r = run(['config']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/GRAFANA_ADMIN_PASSWORD/);
    });
  },
);

const analyze = present('/usr/bin/systemd-analyze', "systemd's systemd-analyze");

describe.skipIf(!analyze)(
  'deploy/systemd/bot4-paper.service (systemd-analyze verify; skipped: absent)',
  () => {
    it('verifies with no warning about the unit', () => {
      const r = spawnSync('/usr/bin/systemd-analyze', ['verify', UNIT], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const aboutUnit = r.stderr.split('\n').filter((l) => l.includes('bot4-paper'));
      expect(aboutUnit).toEqual([]);
    });

    it('a misspelt key is caught by the same check (the check can fail)', () => {
      const text = readFileSync(UNIT, 'utf8').replace('ProtectHome=yes', 'ProtectHome=bogus');
      const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
      const file = `${dir}/bot4-paper.service`;
      execFileSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: text });
      const r = spawnSync('/usr/bin/systemd-analyze', ['verify', file], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      execFileSync('rm', ['-r', dir]);
      expect(r.stderr).toMatch(/protect home/i);
    });

    it('has the sandboxing, restart policy, pinning and dedicated user', () => {
      const text = readFileSync(UNIT, 'utf8');
      for (const d of [
        'ProtectSystem=strict',
        'NoNewPrivileges=yes',
        'PrivateTmp=yes',
        'ProtectHome=yes',
        'Restart=on-failure',
        'StateDirectory=bot4',
        'User=bot4',
      ]) {
        expect(text, d).toMatch(new RegExp(`^${d}$`, 'm'));
      }
      expect(text).toMatch(/^CPUAffinity=\d/m);
      const exec = /^ExecStart=(.*)$/m.exec(text)![1]!.split(/\s+/);
      const help = cliHelp(exec[2]!);
      for (const o of optionsIn(exec)) expect(help, `${exec[2]} ${o}`).toContain(o);
    });
  },
);
