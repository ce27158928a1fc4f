import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { present } from '../core/test-resources.ts';
import type { InstrumentId } from '../core/units.ts';
import {
  BinanceMarket,
  binanceCoinmSpecs,
  binanceSpotSpecs,
  binanceUsdmSpecs,
  loadBinanceInstruments,
} from './binance-instruments.ts';
import { moneyFromDecimal } from './currency.ts';
import { InstrumentKind, LiquiditySide, newInstrumentRegistry } from './instrument.ts';

// Repo root is two levels up from src/model; the shared data folder sits beside the repo.
const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const HAVE_DATA = present(DATA, 'shared market data');
const SKIP_NOTE = HAVE_DATA
  ? ''
  : ` (SKIPPED: ${DATA} not found; the fixtures live in ../shared/data beside the repo)`;

const SPOT_NT = 'nautilus_trader/binance_fixtures/http_responses/http_spot_market_exchange_info.json';
const USDM_NT = 'nautilus_trader/binance_fixtures/http_responses/http_futures_market_exchange_info.json';
const SPOT_RUST = 'nautilus_trader/binance_fixtures/spot_http_json/exchange_info_response.json';
const SPOT_BASANA = 'basana/binance_btc_usdt_exchange_info.json';

function fixture(rel: string): unknown {
  return JSON.parse(readFileSync(DATA + rel, 'utf8'));
}
const has = (rel: string) => HAVE_DATA && present(DATA + rel, 'an exchangeInfo fixture');

describe.skipIf(!HAVE_DATA)(`Binance exchangeInfo fixtures${SKIP_NOTE}`, () => {
  it.skipIf(!has(SPOT_NT))(
    'spot (nautilus http_spot_market_exchange_info): BTCUSDT and ETHUSDT with real filters',
    () => {
      const reg = newInstrumentRegistry();
      const { instruments, skipped } = loadBinanceInstruments(reg, fixture(SPOT_NT), BinanceMarket.SPOT);
      expect(skipped).toEqual([]);
      expect(instruments.map((i) => i.key)).toEqual(['BTCUSDT.BINANCE', 'ETHUSDT.BINANCE']);
      const btc = reg.find('BTCUSDT', 'BINANCE')!;
      expect(btc.kind).toBe(InstrumentKind.SPOT);
      expect([btc.base.code, btc.quote.code, btc.settlement.code]).toEqual(['BTC', 'USDT', 'USDT']);
      expect(btc.tickSize.text).toBe('0.01');
      expect(btc.lotSize.text).toBe('0.00001');
      expect(btc.pricePrecision).toBe(2);
      expect(btc.sizePrecision).toBe(5);
      expect(btc.minPrice).toBe(1); // 0.01
      expect(btc.maxPrice).toBe(100_000_000); // 1000000.00
      expect(btc.minQty).toBe(1); // 0.00001
      expect(btc.maxQty).toBe(900_000_000); // 9000
      // MARKET_LOT_SIZE maxQty 112.21108820 is not on the 0.00001 grid: floored to 112.21108
      expect(btc.marketMaxQty).toBe(11_221_108);
      expect(btc.marketMinQty).toBe(1); // "0.00000000" = unset -> LOT_SIZE minQty
      expect(btc.minNotional).toBe(moneyFromDecimal('10', btc.settlement));
      expect(btc.makerFee).toBe(100_000); // default 0.1%
      expect(btc.takerFee).toBe(100_000);
      expect(btc.expiry).toBe(0);
      expect(btc.priceToTicks('61800.30')).toBe(6_180_030);
      const eth = reg.find('ETHUSDT', 'BINANCE')!;
      expect(eth.lotSize.text).toBe('0.0001');
      expect(eth.minQty).toBe(1);
      expect(eth.marketMaxQty).toBe(16_304_451); // 1630.44517663 floored to 1630.4451
    },
  );

  it.skipIf(!has(SPOT_BASANA))('spot (basana BTCUSDT, 2022 filters incl. TRAILING_DELTA)', () => {
    const { specs, skipped } = binanceSpotSpecs(fixture(SPOT_BASANA));
    expect(skipped).toEqual([]);
    expect(specs).toHaveLength(1);
    const inst = newInstrumentRegistry().add(specs[0]!);
    expect(inst.symbol).toBe('BTCUSDT');
    expect(inst.tickSize.text).toBe('0.01');
    expect(inst.lotSize.text).toBe('0.00001');
    expect(inst.marketMaxQty).toBe(32_837_710); // 328.37710865 floored
    expect(inst.minNotional).toBe(1_000_000_000);
  });

  it.skipIf(!has(SPOT_RUST))(
    'spot (nautilus rust exchange_info_response): ETHBTC has no filters and is skipped with the reason',
    () => {
      const { specs, skipped } = binanceSpotSpecs(fixture(SPOT_RUST));
      expect(specs).toEqual([]);
      expect(skipped).toEqual([{ symbol: 'ETHBTC', reason: 'no PRICE_FILTER filter, so no tick size' }]);
    },
  );

  it.skipIf(!has(USDM_NT))('USD-M futures: perpetuals and a quarterly with delivery date', () => {
    const reg = newInstrumentRegistry();
    const { instruments, skipped } = loadBinanceInstruments(reg, fixture(USDM_NT), BinanceMarket.USDM);
    expect(skipped).toEqual([]);
    expect(instruments.map((i) => i.key)).toEqual([
      'BTCUSDT.BINANCE_USDM',
      'ETHUSDT.BINANCE_USDM',
      'BTCUSDT_220325.BINANCE_USDM',
    ]);
    const perp = reg.find('BTCUSDT', 'BINANCE_USDM')!;
    expect(perp.kind).toBe(InstrumentKind.PERPETUAL);
    expect(perp.expiry).toBe(0); // deliveryDate 4133404802000 is a placeholder on perpetuals
    expect(perp.isInverse).toBe(false);
    expect(perp.settlement.code).toBe('USDT');
    expect(perp.tickSize.text).toBe('0.1'); // "0.10"
    expect(perp.lotSize.text).toBe('0.001');
    expect(perp.multiplier.text).toBe('1');
    expect(perp.minPrice).toBe(4_020); // 402
    expect(perp.maxPrice).toBe(12_463_966); // 1246396.60
    expect(perp.minQty).toBe(1);
    expect(perp.maxQty).toBe(1_000_000); // 1000
    expect(perp.marketMaxQty).toBe(1_000_000);
    expect(perp.minNotional).toBe(moneyFromDecimal('10', perp.settlement));
    expect(perp.makerFee).toBe(20_000); // 0.02%
    expect(perp.takerFee).toBe(50_000); // 0.05%
    expect(perp.priceToTicks('61800.30')).toBe(618_003);
    expect(() => perp.priceToTicks('61800.35')).toThrow(
      'price 61800.35 is not a multiple of tick size 0.1 (BTCUSDT)',
    );
    // 1 BTC at 61800.3: notional 61800.3 USDT, taker fee 30.90015 USDT
    expect(perp.notional(618_003, 1000)).toBe(moneyFromDecimal('61800.3', perp.settlement));
    expect(perp.fee(618_003, 1000, LiquiditySide.TAKER)).toBe(moneyFromDecimal('30.90015', perp.settlement));

    const eth = reg.find('ETHUSDT', 'BINANCE_USDM')!;
    expect(eth.tickSize.text).toBe('0.01');
    expect(eth.minPrice).toBe(2_823);
    expect(eth.maxQty).toBe(10_000_000);

    const q = reg.find('BTCUSDT_220325', 'BINANCE_USDM')!;
    expect(q.kind).toBe(InstrumentKind.FUTURE);
    expect(q.expiry).toBe(1_648_195_200_000_000); // 2022-03-25T08:00Z in micros
    expect(q.tickSize.text).toBe('0.1');
    expect(q.maxQty).toBe(500_000);
    expect(q.minPrice).toBe(10_933);
  });

  it.skipIf(!has(SPOT_NT) || !has(USDM_NT))('spot and futures share one registry without clashing', () => {
    const reg = newInstrumentRegistry();
    loadBinanceInstruments(reg, fixture(SPOT_NT), BinanceMarket.SPOT);
    loadBinanceInstruments(reg, fixture(USDM_NT), BinanceMarket.USDM);
    expect(reg.size).toBe(5);
    const spot = reg.idOf('BTCUSDT', 'BINANCE');
    const perp = reg.idOf('BTCUSDT', 'BINANCE_USDM');
    expect(spot).not.toBe(perp);
    expect(reg.get(perp as InstrumentId)?.tickSize.text).toBe('0.1');
    // Loading the same document again is idempotent.
    const again = loadBinanceInstruments(reg, fixture(USDM_NT), BinanceMarket.USDM);
    expect(again.instruments.map((i) => i.id)).toEqual([perp, reg.idOf('ETHUSDT', 'BINANCE_USDM'), 4]);
    expect(reg.size).toBe(5);
  });

  it.skipIf(!has(USDM_NT))('fee overrides and tradingOnly', () => {
    const info = fixture(USDM_NT) as { symbols: Record<string, unknown>[] };
    info.symbols[1]!['status'] = 'SETTLING';
    const { specs, skipped } = binanceUsdmSpecs(info, {
      makerFee: '0.00018',
      takerFee: '0.00045',
      fees: { BTCUSDT_220325: { maker: '0', taker: '0.0001' } },
      tradingOnly: true,
    });
    expect(skipped).toEqual([{ symbol: 'ETHUSDT', reason: 'status SETTLING is not TRADING' }]);
    expect(specs.map((s) => [s.symbol, s.makerFee, s.takerFee])).toEqual([
      ['BTCUSDT', '0.00018', '0.00045'],
      ['BTCUSDT_220325', '0', '0.0001'],
    ]);
  });
});

/**
 * No COIN-M exchangeInfo fixture exists in ../shared/data, so this object follows the fields Binance documents
 * for GET /dapi/v1/exchangeInfo (contractSize, contractStatus, marginAsset, deliveryDate, filters).
 */
const COINM_SYNTHETIC = {
  timezone: 'UTC',
  serverTime: 1597038237000,
  symbols: [
    {
      symbol: 'BTCUSD_PERP',
      pair: 'BTCUSD',
      contractType: 'PERPETUAL',
      deliveryDate: 4133404800000,
      onboardDate: 1597042800000,
      contractStatus: 'TRADING',
      contractSize: 100,
      marginAsset: 'BTC',
      baseAsset: 'BTC',
      quoteAsset: 'USD',
      pricePrecision: 1,
      quantityPrecision: 0,
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: '0.1', maxPrice: '4520958', tickSize: '0.1' },
        { filterType: 'LOT_SIZE', minQty: '1', maxQty: '1000000', stepSize: '1' },
        { filterType: 'MARKET_LOT_SIZE', minQty: '1', maxQty: '60000', stepSize: '1' },
      ],
    },
    {
      symbol: 'BTCUSD_200925',
      pair: 'BTCUSD',
      contractType: 'CURRENT_QUARTER',
      deliveryDate: 1601020800000,
      onboardDate: 1590739200000,
      contractStatus: 'TRADING',
      contractSize: 100,
      marginAsset: 'BTC',
      baseAsset: 'BTC',
      quoteAsset: 'USD',
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: '0.1', maxPrice: '100000', tickSize: '0.1' },
        { filterType: 'LOT_SIZE', minQty: '1', maxQty: '100000', stepSize: '1' },
      ],
    },
    {
      symbol: 'ETHUSD_PERP',
      pair: 'ETHUSD',
      contractType: 'PERPETUAL',
      contractStatus: 'TRADING',
      contractSize: 10,
      marginAsset: 'ETH',
      baseAsset: 'ETH',
      quoteAsset: 'USD',
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '100000', tickSize: '0.01' },
        { filterType: 'LOT_SIZE', minQty: '1', maxQty: '1000000', stepSize: '1' },
      ],
    },
    { symbol: 'BTCUSD_WEIRD', contractType: 'SOMETHING_NEW', contractStatus: 'TRADING' },
  ],
};

describe('COIN-M futures (synthetic object from the documented fields; no fixture available)', () => {
  it('builds inverse contracts settled in the base coin', () => {
    const reg = newInstrumentRegistry();
    const { instruments, skipped } = loadBinanceInstruments(reg, COINM_SYNTHETIC, BinanceMarket.COINM);
    expect(instruments.map((i) => i.key)).toEqual([
      'BTCUSD_PERP.BINANCE_COINM',
      'BTCUSD_200925.BINANCE_COINM',
      'ETHUSD_PERP.BINANCE_COINM',
    ]);
    expect(skipped).toEqual([
      {
        symbol: 'BTCUSD_WEIRD',
        reason: 'contractType "SOMETHING_NEW" is not a known perpetual or delivery type (BTCUSD_WEIRD)',
      },
    ]);
    const perp = instruments[0]!;
    expect(perp.isInverse).toBe(true);
    expect(perp.kind).toBe(InstrumentKind.PERPETUAL);
    expect(perp.settlement.code).toBe('BTC');
    expect(perp.multiplier.text).toBe('100');
    expect(perp.lotSize.text).toBe('1');
    expect(perp.marketMaxQty).toBe(60_000);
    expect(perp.takerFee).toBe(50_000);
    // 10 contracts x 100 USD at 50000.0 = 0.02 BTC
    expect(perp.notional(perp.priceToTicks('50000'), 10)).toBe(2_000_000);
    const fut = instruments[1]!;
    expect(fut.kind).toBe(InstrumentKind.FUTURE);
    expect(fut.expiry).toBe(1_601_020_800_000_000);
    const eth = instruments[2]!;
    expect(eth.settlement.code).toBe('ETH');
    // 1 contract x 10 USD at 2500.00 = 0.004 ETH
    expect(eth.notional(eth.priceToTicks('2500'), 1)).toBe(400_000);
  });
});

describe('malformed exchangeInfo', () => {
  it('throws DATA_MALFORMED naming the missing array', () => {
    let e: unknown;
    try {
      binanceSpotSpecs({ timezone: 'UTC' });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).code).toBe(ErrorCode.DATA_MALFORMED);
    expect((e as Bot4Error).message).toBe(
      'Binance spot exchangeInfo must be an object with a "symbols" array; got an object with keys timezone',
    );
    expect(() => binanceCoinmSpecs(null)).toThrow(/got null/);
  });

  it('skips symbols with unusable values, with the parser message', () => {
    const reg = newInstrumentRegistry();
    const info = {
      symbols: [
        'junk',
        { symbol: 'NOBASE', filters: [] },
        {
          symbol: 'BADTICK',
          baseAsset: 'X',
          quoteAsset: 'USDT',
          filters: [
            { filterType: 'PRICE_FILTER', tickSize: 'abc' },
            { filterType: 'LOT_SIZE', stepSize: '1' },
          ],
        },
        {
          symbol: 'ZEROTICK',
          baseAsset: 'X',
          quoteAsset: 'USDT',
          filters: [
            { filterType: 'PRICE_FILTER', tickSize: '0.00000000' },
            { filterType: 'LOT_SIZE', stepSize: '1' },
          ],
        },
      ],
    };
    const { instruments, skipped } = loadBinanceInstruments(reg, info, BinanceMarket.SPOT);
    expect(instruments).toEqual([]);
    expect(skipped).toEqual([
      { symbol: 'symbols[0]', reason: 'not an object with a "symbol" string (string)' },
      { symbol: 'NOBASE', reason: 'NOBASE.baseAsset is missing or empty (got undefined)' },
      { symbol: 'ZEROTICK', reason: 'PRICE_FILTER.tickSize is 0 (price filter disabled), so no tick size' },
      {
        symbol: 'BADTICK',
        reason: 'tick size "abc" is not a positive decimal (BADTICK); expected e.g. "0.01" or "1e-8"',
      },
    ]);
  });
});
