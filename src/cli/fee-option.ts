// The --fee option of backtest and optimize. Its text lives apart from src/model/fee-schedule.ts (zod schemas and
// the presets), which loads only when a command runs, so `bot4 --help` does not load it.

export const FEE_OPTION = [
  '--fee <rates|preset>',
  "maker/taker fees of every instrument, replacing the config's fees section: maker=0.02%,taker=0.05% " +
    '(percent, bps such as 2bps, or fractions such as 0.0002; negative = rebate) or a preset: ' +
    "binance-spot-vip0..vip9, binance-usdm-vip0..vip9, each also -bnb (Binance's published tiers), zero",
] as const;
