// Options backtest and optimize share for what a run covers and what it costs: the time range (--timerange,
// --last; one parser in src/core/time-text.ts), the instrument when the data does not say (--symbol, --venue),
// slippage (--slippage, src/venues/sim/slippage.ts) and position sizing (--sizing, src/risk/sizing.ts). Only
// their help text lives here, so `bot4 --help` loads none of those modules.

export const TIMERANGE_OPTION = [
  '--timerange <from-to>',
  'time range, half-open: 20240101-20240201, open-ended 20240101- or -20240201 (each end a date, an ISO time or epoch); instead of --from/--to',
] as const;

export const LAST_OPTION = [
  '--last <duration>',
  "only the last stretch of the data: 30d, 12h, 90m, 2w (counts back from --to, else from the data's last record)",
] as const;

export const SYMBOL_OPTION = [
  '--symbol <symbol>',
  'instrument to trade when the data holds several (default: the only one); with one data file, also the symbol its instrument gets',
] as const;

export const VENUE_OPTION = [
  '--venue <venue>',
  'venue of that instrument (e.g. BINANCE_USDM); with one data file, also the venue its instrument gets',
] as const;

export const SLIPPAGE_OPTION = [
  '--slippage <model>',
  'price slippage of taker fills on quote and bar data: ticks:N (N ticks), spread:F (F times the spread), ' +
    'impact:k=K,a=A[,volume=quote] (price x K x (q/V)^A, V the bar volume in base units, or quote with volume=quote); ' +
    'none on L2 data, where walking the book is the slippage',
] as const;

export const SIZING_OPTION = [
  '--sizing <method>',
  'position size of strategies that size through this.size() (ema-cross does), replacing config risk.sizing: qty:0.5 (base units), stake:1000 (quote currency), equity:10%, risk:1%,stop=2% (lose 1% of equity at a stop 2% away), vol:20% (annualised volatility target; ,lev=2 caps leverage), kelly:p=0.55,b=1.2',
] as const;
