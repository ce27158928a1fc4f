// JSON for messages between coordinator and workers that keeps every number: JSON turns Infinity, -Infinity
// and NaN into null, and a trial's window (the whole range: ±Infinity) or statistics (a profit factor with no
// losing trade is Infinity) must arrive as they left, or a distributed search would differ from one machine's.

const TAG = '\u0000num:';

function replacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? `${TAG}${v}` : v;
}

function reviver(_key: string, v: unknown): unknown {
  return typeof v === 'string' && v.startsWith(TAG) ? Number(v.slice(TAG.length)) : v;
}

export function encode(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function decode<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
