// The --sizing option: a sizing policy (config risk.sizing, see sizing.ts) in one word, for the command line.
//   qty:0.5                  0.5 base units            stake:1000            1000 of the settlement currency
//   equity:10%               10% of equity             risk:1%,stop=2%       lose 1% of equity at a stop 2% away
//   vol:20%[,lev=2]          20% annualised volatility target, at most 2x equity
//   kelly:p=0.55,b=1.2[,f=0.5]  fractional Kelly          fixed                 each strategy's own size
// Percentages or fractions (10% = 0.1). Errors are INVALID_ARGUMENT naming the option and the bad part.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { RiskConfigSchema, type SizingConfig } from './risk-config.ts';

const FORMS =
  'use qty:0.5, stake:1000, equity:10%, risk:1%,stop=2%, vol:20%[,lev=2], kelly:p=0.55,b=1.2 or fixed';

function bad(option: string, text: string, why: string): never {
  throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${option} '${text}': ${why}; ${FORMS}`, {
    option,
    value: text,
  });
}

/** "10%" -> 0.1, "0.1" -> 0.1; NaN when not a positive number. */
function amount(text: string): number {
  const t = text.trim();
  const pct = t.endsWith('%');
  const body = pct ? t.slice(0, -1) : t;
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(body)) return Number.NaN;
  const n = Number(body) / (pct ? 100 : 1);
  return n > 0 ? n : Number.NaN;
}

/** Edge: --sizing text -> a policy, validated by the config schema (the same rules as risk.sizing). */
export function parseSizing(text: string, option = '--sizing'): SizingConfig {
  const t = text.trim();
  const colon = t.indexOf(':');
  const name = (colon < 0 ? t : t.slice(0, colon)).trim().toLowerCase();
  const parts = colon < 0 ? [] : t.slice(colon + 1).split(',');
  const head = parts.length > 0 && !parts[0]!.includes('=') ? amount(parts[0]!) : Number.NaN;
  const keys = new Map<string, number>();
  for (const p of parts.slice(Number.isNaN(head) ? 0 : 1)) {
    const eq = p.indexOf('=');
    const v = amount(p.slice(eq + 1));
    if (eq <= 0 || Number.isNaN(v)) bad(option, text, `'${p.trim()}' is not key=number`);
    keys.set(p.slice(0, eq).trim().toLowerCase(), v);
  }
  const need = (what: string): number => {
    if (Number.isNaN(head)) bad(option, text, `${name} needs ${what} after the colon`);
    return head;
  };
  const allow = (...names: string[]): void => {
    for (const k of keys.keys()) if (!names.includes(k)) bad(option, text, `'${k}' is not a key of ${name}`);
  };
  let raw: Record<string, unknown>;
  switch (name) {
    case 'fixed':
      allow();
      raw = { method: 'fixed' };
      break;
    case 'qty':
      allow();
      raw = { method: 'quantity', qty: need('a quantity') };
      break;
    case 'stake':
      allow();
      raw = { method: 'stake', amount: need('an amount') };
      break;
    case 'equity':
      allow();
      raw = { method: 'equity-fraction', fraction: need('a share of equity') };
      break;
    case 'risk':
      allow('stop');
      if (!keys.has('stop')) bad(option, text, 'risk needs stop=, the stop distance (e.g. stop=2%)');
      raw = { method: 'risk', fraction: need('the share of equity to risk'), stop: keys.get('stop') };
      break;
    case 'vol':
      allow('lev');
      raw = {
        method: 'volatility',
        target: need('a volatility target'),
        ...(keys.has('lev') ? { maxLeverage: keys.get('lev') } : {}),
      };
      break;
    case 'kelly':
      allow('p', 'b', 'f');
      raw = {
        method: 'kelly',
        winProb: keys.get('p'),
        payoff: keys.get('b'),
        ...(keys.has('f') ? { fraction: keys.get('f') } : {}),
      };
      break;
    default:
      return bad(option, text, `'${name}' is not a sizing method`);
  }
  const parsed = RiskConfigSchema.shape.sizing.safeParse(raw);
  if (!parsed.success) bad(option, text, parsed.error.issues[0]!.message);
  return parsed.data;
}
