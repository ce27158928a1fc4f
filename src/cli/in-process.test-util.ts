// The `bot4` CLI run in this process with its standard output and error captured: for command tests that
// need no child process (exit code from run(), the text a user would see).

import { vi } from 'vitest';
import { run } from './main.ts';

export interface CapturedRun {
  code: number;
  out: string;
  err: string;
}

export async function runCaptured(args: string[]): Promise<CapturedRun> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await run(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
