// ccxt's binance class aimed at a Binance-compatible server (the local exchange server, src/venues/server/):
// the node's `venue.restUrl`/`venue.wsUrl` with venue.kind 'ccxt', and the tests' localCcxt. Only URLs change;
// ccxt itself is unmodified.

import type { Exchange } from 'ccxt';

/**
 * Points ccxt's binance class at a Binance-compatible server (the local exchange server, src/venues/server/):
 * REST, the market streams and the WebSocket API; sapi (wallet) routes go there too and get its 404.
 */
export function pointBinanceAt(ex: Exchange, restUrl: string, wsUrl: string): void {
  const rest = restUrl.replace(/\/+$/, '');
  const ws = wsUrl.replace(/\/+$/, '');
  const api = ex.urls.api as Record<string, unknown> & { ws: Record<string, unknown> };
  api.public = `${rest}/api/v3`;
  api.private = `${rest}/api/v3`;
  api.v1 = `${rest}/api/v1`;
  for (const k of ['sapi', 'sapiV2', 'sapiV3', 'sapiV4'])
    api[k] = `${rest}/${k.replace(/V(\d)$/, '/v$1').replace(/^sapi$/, 'sapi/v1')}`;
  api.ws.spot = `${ws}/ws`;
  (api.ws['ws-api'] as Record<string, string>).spot = `${ws}/ws-api/v3`;
}
