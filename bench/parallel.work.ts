// The CPU work every pool benchmark subject runs, Bot4 and peers alike: an xorshift loop with no memory
// traffic, so that a task's cost is its iteration count and nothing else (calibrated to microseconds by the
// benchmark on the main thread).

export function burn(iters: number): number {
  let x = 0x9e3779b9 | 0;
  let acc = 0;
  for (let i = 0; i < iters; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    acc = (acc + x) | 0;
  }
  return acc;
}
