// Where a command will write, checked before it does any work: a run of minutes must not end in a stack trace
// because --out names a file, a folder that cannot be created, or a path whose folder is missing. Failures
// are INVALID_ARGUMENT (exit 2, one line naming the option and the path). Nothing is created here.

import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

function fail(option: string, path: string, why: string): never {
  throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${option} ${path}: ${why}`, { option, path });
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A report folder: an existing folder we can write into, or one that can be created under one. */
export function checkOutputDir(path: string, option = '--out'): void {
  const abs = resolve(path);
  let p = abs;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  if (!statSync(p).isDirectory()) {
    fail(option, path, p === abs ? 'is a file, not a folder' : `cannot be created: ${p} is a file`);
  }
  if (!writable(p))
    fail(option, path, p === abs ? 'is not writable' : `cannot be created: ${p} is not writable`);
}

/** An output file: not a folder, in an existing folder we can write into. */
export function checkOutputFile(path: string, option: string): void {
  const abs = resolve(path);
  if (existsSync(abs) && statSync(abs).isDirectory()) fail(option, path, 'is a folder, not a file');
  const dir = dirname(abs);
  if (!existsSync(dir)) fail(option, path, `the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) fail(option, path, `${dir} is not a folder`);
  if (!writable(dir)) fail(option, path, `the folder ${dir} is not writable`);
  if (existsSync(abs) && !writable(abs)) fail(option, path, 'is not writable');
}

/** Input files: each must exist and be a file (a folder's files are given one by one, e.g. DIR/*.csv). */
export function checkInputFiles(paths: readonly string[], option: string): void {
  for (const path of paths) {
    if (!existsSync(path)) fail(option, path, 'does not exist');
    if (statSync(path).isDirectory())
      fail(option, path, `is a folder: give the files in it (e.g. ${path}/*.csv)`);
  }
}
