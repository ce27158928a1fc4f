// Loads the WebAssembly SIMD kernels (built from asm/kernels.ts into dist/wasm/kernels.wasm by `npm run
// build:wasm`) and falls back to the plain TypeScript kernels when the runtime lacks WebAssembly SIMD or the file
// was not built, saying which it chose and why. Arrays live in one shared WebAssembly memory laid out here: a bump
// region for the caller's long-lived arrays (`array`), and scratch above it for each call's copies and temporaries.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import {
  checkDotArgs,
  checkMatrixArgs,
  checkRollingArgs,
  fixDiagonal,
  type KernelKind,
  type Kernels,
  type Layout,
  type MeanStd,
  ScalarKernels,
  sampleStd,
} from './kernels.ts';

/** The exports of asm/kernels.ts; every pointer is a byte offset into the memory. */
export interface KernelExports {
  dot(a: number, b: number, len: number): number;
  moments(x: number, len: number, out: number): void;
  center(x: number, n: number, t: number, z: number, inv: number, rowStart: number, rowEnd: number): void;
  gram(
    z: number,
    n: number,
    t: number,
    out: number,
    rowStart: number,
    rowEnd: number,
    scale: number,
    inv: number,
    correlation: number,
  ): void;
  toF32(src: number, dst: number, len: number): void;
  transpose(src: number, rows: number, cols: number, dst: number): void;
  gram32(z: number, n: number, t: number, out: number, rowStart: number, rowEnd: number, inv: number): void;
  rolling(x: number, len: number, w: number, outMean: number, outStd: number): void;
  heapBase(): number;
}

/** Where the build puts the module: dist/wasm/, seen from src/parallel/ (sources) or dist/src/parallel/ (built). */
export const defaultWasmUrl: URL = new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/wasm/kernels.wasm' : '../../wasm/kernels.wasm',
  import.meta.url,
);

/**
 * The same kernels built with relaxed SIMD (asm/asconfig.json target fma): `gram` fuses each f64 multiply-add
 * (f64x2.relaxed_madd, one FMA instruction where the CPU has one), so its results round once per product instead
 * of twice and differ from the TypeScript kernels in the last bits. Every other export is the default build's.
 */
export const fmaWasmUrl: URL = new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/wasm/kernels-fma.wasm' : '../../wasm/kernels-fma.wasm',
  import.meta.url,
);

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt drop)): valid only where SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);

const PAGE = 65536;
/** 2 GiB: a shared memory reserves its maximum up front (it cannot move), and this is address space, not RAM. */
const MAX_PAGES = 32768;

export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

export type KernelPreference = 'auto' | 'scalar' | 'wasm-simd';

export interface KernelOptions {
  /**
   * 'auto' (default): the SIMD kernels when they load, else the TypeScript ones; 'scalar': the TypeScript ones;
   * 'wasm-simd': the SIMD kernels or an error saying why not.
   */
  prefer?: KernelPreference;
  /** Where the built module is (default: dist/wasm/kernels.wasm). */
  wasm?: URL;
  /**
   * Fused multiply-add in the f64 gram kernel (the fma build, see fmaWasmUrl) where the runtime has relaxed SIMD;
   * otherwise the default build, `reason` saying why. Not bit-identical to the TypeScript kernels. Default false.
   */
  fma?: boolean;
}

const compiled = new Map<string, WebAssembly.Module | string>();

/** The compiled kernel module, or a sentence saying why there is none. Compiled once per file. */
export function compileKernels(url: URL = defaultWasmUrl): WebAssembly.Module | string {
  const key = url.href;
  let entry = compiled.get(key);
  if (entry === undefined) {
    entry = compile(url);
    compiled.set(key, entry);
  }
  return entry;
}

function compile(url: URL): WebAssembly.Module | string {
  if (typeof WebAssembly !== 'object') return 'this runtime has no WebAssembly';
  if (!simdSupported()) return `WebAssembly SIMD is not supported by this runtime (Node ${process.version})`;
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is unavailable in this runtime';
  const path = fileURLToPath(url);
  if (!existsSync(path)) return `${path} is not built: run 'npm run build:wasm' (part of npm run build)`;
  try {
    return new WebAssembly.Module(readFileSync(path));
  } catch (e) {
    return `${path} does not compile (${(e as Error).message}): rebuild it with 'npm run build:wasm'`;
  }
}

/**
 * The fma build, compiled once. Relaxed SIMD is standard from V8 11.4 (Node 22); V8 11.3 (Node 20) has it behind
 * --experimental-wasm-relaxed-simd, which is turned on for the process when the module does not compile without it
 * (the flag only adds opcodes: modules valid before stay valid and compile the same).
 */
function compileFmaKernels(): WebAssembly.Module | string {
  const key = fmaWasmUrl.href;
  let entry = compiled.get(key);
  if (entry === undefined) {
    entry = compile(fmaWasmUrl);
    // V8 11.3 says "simd opcode not available, enable with --experimental-relaxed-simd".
    if (typeof entry === 'string' && /relaxed/i.test(entry)) {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
      entry = compile(fmaWasmUrl);
    }
    compiled.set(key, entry);
  }
  return entry;
}

/**
 * The compiled kernels for `options` (an error text when they cannot load): the fma build when asked for and it
 * compiles, else the default build (or `options.wasm`). `fma` names the choice for a kernels' `reason`: empty
 * when fma was not asked for, ", fused multiply-add", or ", no FMA: <why>".
 */
export function kernelModule(options: KernelOptions): { module: WebAssembly.Module | string; fma: string } {
  if (options.fma !== true || options.wasm !== undefined)
    return { module: compileKernels(options.wasm), fma: '' };
  const fused = compileFmaKernels();
  if (typeof fused !== 'string') return { module: fused, fma: ', fused multiply-add' };
  return { module: compileKernels(), fma: `, no FMA: ${fused}` };
}

/** The SIMD kernels when they load, otherwise the plain TypeScript ones; `kind` and `reason` say which and why. */
export function loadKernels(options: KernelOptions = {}): Kernels {
  const prefer = options.prefer ?? 'auto';
  if (prefer === 'scalar') return new ScalarKernels('plain TypeScript kernels requested');
  const { module, fma } = kernelModule(options);
  if (typeof module !== 'string') {
    return new WasmKernels(
      module,
      `WebAssembly SIMD kernels (f64x2${fma}) loaded on Node ${process.version}`,
    );
  }
  if (prefer === 'wasm-simd') {
    throw new Bot4Error(ErrorCode.NOT_FOUND, `the WebAssembly SIMD kernels cannot be used: ${module}`, {
      wasm: (options.wasm ?? defaultWasmUrl).href,
    });
  }
  return new ScalarKernels(`falling back to plain TypeScript kernels: ${module}`);
}

/** A shared memory for the kernels, at least `bytes` long. */
export function kernelMemory(bytes = PAGE): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE), maximum: MAX_PAGES, shared: true });
}

export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}

/** Byte offsets of one staged matrix call in the kernels' memory. */
export interface StagedMatrix {
  data: number;
  z: number;
  inv: number;
  out: number;
  extra: number;
}

const align16 = (p: number) => (p + 15) & ~15;

/** The WebAssembly SIMD kernels over one shared memory. Results are bit-identical to ScalarKernels (f64). */
export class WasmKernels implements Kernels {
  readonly kind: KernelKind = 'wasm-simd';
  readonly reason: string;
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** A view of the whole memory, renewed when it grows (views on the old buffer stay valid: it is shared). */
  private f64: Float64Array;
  /** Every buffer object the memory has had; an array on one of them is read in place. */
  private readonly buffers: ArrayBufferLike[] = [];
  private readonly base: number;
  /** End of the caller's arrays; scratch starts here. */
  private top = 0;
  private cursor = 0;

  constructor(module: WebAssembly.Module, reason: string, memory: WebAssembly.Memory = kernelMemory()) {
    this.module = module;
    this.reason = reason;
    this.memory = memory;
    this.exports = instantiateKernels(module, memory);
    this.base = align16(this.exports.heapBase());
    this.top = this.base;
    this.f64 = new Float64Array(memory.buffer);
    this.buffers.push(memory.buffer);
  }

  array(length: number): Float64Array {
    const p = this.top;
    this.top = align16(p + length * 8);
    this.ensure(this.top);
    const a = new Float64Array(this.memory.buffer, p, length);
    a.fill(0);
    return a;
  }

  reset(): void {
    this.top = this.base;
  }

  /** Byte offset of `a` in this memory, or -1 when it lives elsewhere. */
  pointer(a: Float64Array): number {
    return this.buffers.includes(a.buffer) ? a.byteOffset : -1;
  }

  dot(a: Float64Array, b: Float64Array): number {
    checkDotArgs(a, b);
    this.cursor = this.top;
    const pa = this.place(a, a.length);
    const pb = this.place(b, b.length);
    return this.exports.dot(pa, pb, a.length);
  }

  meanStd(x: Float64Array): MeanStd {
    this.cursor = this.top;
    const px = this.place(x, x.length);
    const po = this.reserve(16);
    this.exports.moments(px, x.length, po);
    const f = this.f64;
    return { mean: f[po >> 3]!, std: sampleStd(f[(po >> 3) + 1]!, x.length) };
  }

  covarianceMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array = new Float64Array(n * n),
    layout: Layout = 'series-rows',
  ): Float64Array {
    return this.matrix(data, n, t, out, false, false, layout);
  }

  correlationMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array = new Float64Array(n * n),
    layout: Layout = 'series-rows',
  ): Float64Array {
    return this.matrix(data, n, t, out, true, false, layout);
  }

  /**
   * The correlation matrix with the products in f32x4 lanes: faster than the f64x2 kernel (benches
   * parallel.correlation.*.simd_f32x4 against *.simd_f64x2), correct to about 1e-6 (absolute) rather than 1e-15.
   * Centring and normalising stay in f64. Lower precision: label it so.
   */
  correlationMatrixF32(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array = new Float64Array(n * n),
  ): Float64Array {
    return this.matrix(data, n, t, out, true, true, 'series-rows');
  }

  rollingMeanStd(x: Float64Array, window: number, outMean: Float64Array, outStd: Float64Array): number {
    const outputs = checkRollingArgs(x, window, outMean, outStd);
    if (outputs === 0) return 0;
    this.cursor = this.top;
    const px = this.place(x, x.length);
    const pm = this.output(outMean);
    const ps = this.output(outStd);
    this.exports.rolling(px, x.length, window, pm, ps);
    this.copyOut(outMean, pm, outputs);
    this.copyOut(outStd, ps, outputs);
    return outputs;
  }

  private matrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array,
    correlation: boolean,
    f32: boolean,
    layout: Layout,
  ): Float64Array {
    checkMatrixArgs(data, n, t, out);
    if (t < 2) return out.fill(Number.NaN, 0, n * n);
    // The extra space holds the f32 copy of the centred rows.
    const s = this.stage(data, n, t, out, f32 ? n * t * 4 : 0);
    const k = this.exports;
    if (layout === 'sample-rows') {
      k.transpose(s.data, t, n, s.z);
      k.center(s.z, n, t, s.z, s.inv, 0, n);
    } else {
      k.center(s.data, n, t, s.z, s.inv, 0, n);
    }
    if (f32) {
      k.toF32(s.z, s.extra, n * t);
      k.gram32(s.extra, n, t, s.out, 0, n, s.inv);
    } else {
      k.gram(s.z, n, t, s.out, 0, n, 1 / (t - 1), s.inv, correlation ? 1 : 0);
    }
    return this.finishMatrix(out, s, n, correlation);
  }

  /**
   * Lays out one matrix call for kernels that run elsewhere (simd-parallel.ts): the data (copied in unless it
   * lives here), scratch for the centred rows and their inv, the output (scratch unless it lives here) and
   * `extraBytes` more.
   * The layout stays valid until the next call on this object.
   */
  stageMatrix(data: Float64Array, n: number, t: number, out: Float64Array, extraBytes: number): StagedMatrix {
    checkMatrixArgs(data, n, t, out);
    return this.stage(data, n, t, out, extraBytes);
  }

  private stage(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array,
    extraBytes: number,
  ): StagedMatrix {
    this.cursor = this.top;
    const staged = { data: this.place(data, n * t), z: 0, inv: 0, out: 0, extra: 0 };
    staged.z = this.reserve(n * t * 8);
    staged.inv = this.reserve(n * 8);
    staged.out = this.output(out);
    staged.extra = this.reserve(extraBytes);
    return staged;
  }

  /** Completes a staged call: copies the result out of this memory if needed, fixes a correlation's diagonal. */
  finishMatrix(out: Float64Array, staged: StagedMatrix, n: number, correlation: boolean): Float64Array {
    this.copyOut(out, staged.out, n * n);
    if (correlation) fixDiagonal(out, n);
    return out;
  }

  /** Pointer to the first `length` values of `a`, copied into scratch unless `a` already lives in this memory. */
  private place(a: Float64Array, length: number): number {
    const p = this.pointer(a);
    if (p >= 0) return p;
    const q = this.reserve(length * 8);
    this.f64.set(length === a.length ? a : a.subarray(0, length), q >> 3);
    return q;
  }

  /** Where a kernel should write `out`: in place when it lives in this memory, otherwise scratch. */
  private output(out: Float64Array): number {
    const p = this.pointer(out);
    return p >= 0 ? p : this.reserve(out.length * 8);
  }

  private copyOut(out: Float64Array, p: number, length: number): void {
    if (this.pointer(out) === p) return;
    out.set(this.f64.subarray(p >> 3, (p >> 3) + length));
  }

  private reserve(bytes: number): number {
    const p = this.cursor;
    this.cursor = align16(p + bytes);
    this.ensure(this.cursor);
    return p;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) {
      throw new Bot4Error(
        ErrorCode.CAPACITY,
        `the kernels need ${end} bytes of WebAssembly memory, more than the ${MAX_PAGES * PAGE} it may grow to: split the data into smaller blocks`,
        { bytes: end },
      );
    }
    this.memory.grow(pages);
    this.f64 = new Float64Array(this.memory.buffer);
    this.buffers.push(this.memory.buffer);
  }
}
