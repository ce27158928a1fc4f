// `bot4 strategy check FILE`: type-checks a strategy file (and what it imports) against the engine's Strategy
// API with the TypeScript compiler, as strictly as Bot4's own code, then loads it and checks what the loader
// checks (a Strategy subclass with its own parameter schema). 'bot4' maps to the running engine's API: the
// source (src/api.ts) in a checkout, the shipped declarations (dist/src/api.d.ts) in an install.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { BOT4_API_URL, ENGINE_ROOT, isEngineFile } from './bot4-resolution.ts';
import { loadStrategyFile } from './loader.ts';
import type { StrategyClass } from './strategy.ts';

export interface CheckResult {
  readonly file: string;
  /** `file:line:col - error TSnnnn: message`, one per problem in the user's files. */
  readonly errors: string[];
  /** The strategy class, when the file type-checks and loads. */
  readonly cls?: StrategyClass;
}

/** Type-checks `path`; errors in the engine's own files (not the user's to fix) are not listed. */
export async function typeCheck(path: string): Promise<string[]> {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new Bot4Error(ErrorCode.NOT_FOUND, `strategy file not found: ${file}`, { file });
  }
  let ts: typeof import('typescript');
  try {
    ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      'bot4 strategy check needs the TypeScript compiler: npm install typescript',
      {},
      { cause: e },
    );
  }
  const api = fileURLToPath(BOT4_API_URL);
  const types = resolve(ENGINE_ROOT, 'node_modules/@types');
  const options: import('typescript').CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2024.d.ts'],
    // Bundler resolution: a strategy file is an ES module whether or not a package.json says so.
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    skipLibCheck: true,
    isolatedModules: true,
    paths: { bot4: [api.endsWith('.js') ? api.replace(/\.js$/, '.d.ts') : api] },
    ...(existsSync(resolve(types, 'node')) ? { typeRoots: [types], types: ['node'] } : { types: [] }),
  };
  const program = ts.createProgram([file], options);
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(),
  ];
  for (const sf of program.getSourceFiles()) {
    if (!isEngineFile(resolve(sf.fileName)) && !sf.isDeclarationFile) {
      diagnostics.push(...program.getSemanticDiagnostics(sf));
    }
  }
  const out: string[] = [];
  for (const d of diagnostics) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
    if (d.file === undefined) {
      out.push(`error TS${d.code}: ${msg}`);
      continue;
    }
    if (isEngineFile(resolve(d.file.fileName))) continue;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    out.push(
      `${relative(process.cwd(), d.file.fileName)}:${line + 1}:${character + 1} - error TS${d.code}: ${msg}`,
    );
  }
  return out;
}

/** Type-check, then load and validate the class; see CheckResult. */
export async function checkStrategyFile(path: string): Promise<CheckResult> {
  const file = resolve(path);
  const errors = await typeCheck(file);
  if (errors.length > 0) return { file, errors };
  return { file, errors, cls: await loadStrategyFile(file) };
}
