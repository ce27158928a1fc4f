// The user data stream: listen keys (POST/PUT/DELETE /api/v3/userDataStream, 60 minutes of validity renewed
// by a keepalive) and the sinks that receive an account's events: `/ws/<listenKey>` connections and WebSocket
// API sessions after userDataStream.subscribe. Events are executionReport and outboundAccountPosition, in
// Binance's shapes, fanned out to every sink of the account in the order Trading emits them.

import { randomBytes } from 'node:crypto';
import { ApiError, BinanceCode } from './errors.ts';
import type { Account, UserEventListener } from './trading.ts';

export interface UserSink {
  /** One event, already JSON text; the sink wraps it as its transport needs. */
  sendUserEvent(json: string): void;
}

interface ListenKey {
  account: Account;
  expiresAt: number;
}

const VALIDITY_MS = 60 * 60_000;

export class UserStreams implements UserEventListener {
  private readonly keys = new Map<string, ListenKey>();
  private readonly sinks = new Map<Account, Set<UserSink>>();
  /** Events delivered to sinks (tests and the fan-out bench read it). */
  delivered = 0;
  /** Called when a listen key is deleted, so its connections get listenKeyExpired and close. */
  onKeyClosed: (key: string) => void = () => {};

  /** POST: a new listen key, or the account's live one (Binance returns the same key while it is valid). */
  create(account: Account, nowMs: number): string {
    for (const [k, v] of this.keys) {
      if (v.account === account && v.expiresAt > nowMs) {
        v.expiresAt = nowMs + VALIDITY_MS;
        return k;
      }
    }
    const key = randomBytes(30).toString('hex');
    this.keys.set(key, { account, expiresAt: nowMs + VALIDITY_MS });
    return key;
  }

  /** The account's live key, if it has one (USD-M's PUT and DELETE name no key). */
  keyOf(account: Account, nowMs: number): string | undefined {
    for (const [k, v] of this.keys) if (v.account === account && v.expiresAt > nowMs) return k;
    return undefined;
  }

  /** PUT: extends a key by 60 minutes; -1125 when it does not exist (or belongs to another account). */
  keepAlive(account: Account, key: string | undefined, nowMs: number): void {
    const k = this.require(account, key, nowMs);
    k.expiresAt = nowMs + VALIDITY_MS;
  }

  /** DELETE: closes a key; its connections stop receiving events. */
  close(account: Account, key: string | undefined, nowMs: number): void {
    this.require(account, key, nowMs);
    this.keys.delete(key!);
    this.onKeyClosed(key!);
  }

  /** The account of a live listen key, or undefined (a /ws/<name> path that is not a key). */
  accountOfKey(key: string, nowMs: number): Account | undefined {
    const k = this.keys.get(key);
    if (k === undefined || k.expiresAt <= nowMs) return undefined;
    return k.account;
  }

  private require(account: Account, key: string | undefined, nowMs: number): ListenKey {
    if (key === undefined || key === '') {
      throw new ApiError(
        BinanceCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        "Mandatory parameter 'listenKey' was not sent, was empty/null, or malformed.",
      );
    }
    const k = this.keys.get(key);
    if (k === undefined || k.account !== account || k.expiresAt <= nowMs) {
      throw new ApiError(BinanceCode.INVALID_LISTEN_KEY, 'This listenKey does not exist.');
    }
    return k;
  }

  attach(account: Account, sink: UserSink): void {
    let s = this.sinks.get(account);
    if (s === undefined) {
      s = new Set();
      this.sinks.set(account, s);
    }
    s.add(sink);
  }

  detach(account: Account, sink: UserSink): void {
    this.sinks.get(account)?.delete(sink);
  }

  onUserEvent(account: Account, event: Record<string, unknown>): void {
    const s = this.sinks.get(account);
    if (s === undefined || s.size === 0) return;
    const json = JSON.stringify(event);
    for (const sink of s) {
      sink.sendUserEvent(json);
      this.delivered++;
    }
  }
}
