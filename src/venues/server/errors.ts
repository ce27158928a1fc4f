// Binance's error vocabulary: the codes, messages and HTTP statuses its spot API answers with, so a client's
// error mapping (ccxt's, Bot4's adapter's) sees exactly what it would see from Binance. One thrown type,
// ApiError, carries code + message + HTTP status; REST and the WebSocket API both render it as {code, msg}.

/** Binance error codes this server answers with (spot API, "Error codes" page). */
export const BinanceCode = {
  UNKNOWN: -1000,
  DISCONNECTED: -1001,
  UNAUTHORIZED: -1002,
  TOO_MANY_REQUESTS: -1003,
  UNEXPECTED_RESP: -1006,
  TIMEOUT: -1007,
  UNKNOWN_ORDER_COMPOSITION: -1014,
  TOO_MANY_ORDERS: -1015,
  INVALID_TIMESTAMP: -1021,
  INVALID_SIGNATURE: -1022,
  ILLEGAL_CHARS: -1100,
  TOO_MANY_PARAMETERS: -1101,
  MANDATORY_PARAM_EMPTY_OR_MALFORMED: -1102,
  UNKNOWN_PARAM: -1103,
  UNREAD_PARAMETERS: -1104,
  PARAM_EMPTY: -1105,
  PARAM_NOT_REQUIRED: -1106,
  BAD_PRECISION: -1111,
  INVALID_TIF: -1115,
  INVALID_ORDER_TYPE: -1116,
  INVALID_SIDE: -1117,
  EMPTY_NEW_CL_ORD_ID: -1118,
  BAD_INTERVAL: -1120,
  BAD_SYMBOL: -1121,
  INVALID_LISTEN_KEY: -1125,
  INVALID_PARAMETER: -1130,
  BAD_RECV_WINDOW: -1131,
  FILTER_FAILURE: -1013,
  NEW_ORDER_REJECTED: -2010,
  CANCEL_REJECTED: -2011,
  CANCEL_REPLACE_PARTIAL: -2021,
  CANCEL_REPLACE_FAILED: -2022,
  NO_SUCH_ORDER: -2013,
  BAD_API_KEY_FMT: -2014,
  REJECTED_MBX_KEY: -2015,
} as const;

/** A request the server refuses: Binance's code and message, and the HTTP status REST answers with. */
export class ApiError extends Error {
  readonly code: number;
  readonly status: number;
  /** Seconds, for 429 and 418 (REST Retry-After header; WS API retryAfter in ms). */
  readonly retryAfter: number;
  /** Extra detail some errors carry (cancel-replace results). */
  readonly data: Record<string, unknown> | undefined;

  constructor(code: number, msg: string, status = 400, retryAfter = 0, data?: Record<string, unknown>) {
    super(msg);
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
    this.data = data;
  }

  body(): { code: number; msg: string; data?: Record<string, unknown> } {
    return this.data === undefined
      ? { code: this.code, msg: this.message }
      : { code: this.code, msg: this.message, data: this.data };
  }
}

export const mandatory = (name: string): ApiError =>
  new ApiError(
    BinanceCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );

export const illegal = (name: string, legal: string): ApiError =>
  new ApiError(
    BinanceCode.ILLEGAL_CHARS,
    `Illegal characters found in parameter '${name}'; legal range is '${legal}'.`,
  );

export const invalidSymbol = (): ApiError => new ApiError(BinanceCode.BAD_SYMBOL, 'Invalid symbol.');

export const insufficientBalance = (): ApiError =>
  new ApiError(BinanceCode.NEW_ORDER_REJECTED, 'Account has insufficient balance for requested action.');

export const unknownOrder = (): ApiError => new ApiError(BinanceCode.CANCEL_REJECTED, 'Unknown order sent.');

export const noSuchOrder = (): ApiError => new ApiError(BinanceCode.NO_SUCH_ORDER, 'Order does not exist.');

export const filterFailure = (filter: string): ApiError =>
  new ApiError(BinanceCode.FILTER_FAILURE, `Filter failure: ${filter}`);

export const badApiKey = (): ApiError =>
  new ApiError(BinanceCode.REJECTED_MBX_KEY, 'Invalid API-key, IP, or permissions for action.', 401);

export const apiKeyFormat = (): ApiError =>
  new ApiError(BinanceCode.BAD_API_KEY_FMT, 'API-key format invalid.', 401);

export const badSignature = (): ApiError =>
  new ApiError(BinanceCode.INVALID_SIGNATURE, 'Signature for this request is not valid.');

export const outsideRecvWindow = (): ApiError =>
  new ApiError(BinanceCode.INVALID_TIMESTAMP, 'Timestamp for this request is outside of the recvWindow.');

export const aheadOfServer = (): ApiError =>
  new ApiError(
    BinanceCode.INVALID_TIMESTAMP,
    "Timestamp for this request was 1000ms ahead of the server's time.",
  );
