// Delivery of operator notifications to receivers (webhooks, Telegram) without ever holding up the engine:
// post() only appends to each receiver's bounded queue (the oldest message is dropped and counted when it is
// full) and schedules a drain; the drain sends one message at a time per receiver off the caller's stack,
// retrying network errors, timeouts, 429 and 5xx with doubling backoff. A slow or dead receiver only grows its
// own queue. Counts (sent, failed, dropped, retries) per receiver for the node's summary.
// Secrets: the Telegram token lives only in the request URL, which is never printed; webhook URLs are shown
// by origin only (a path can carry a secret, as Slack's do). Units: ms.

import { createHmac } from 'node:crypto';
import { monoMillis, wallMicros } from '../core/clock.ts';
import { type NotifyConfig, NotifyEvent, secretFromEnv } from './notify-config.ts';

export interface NotifyMessage {
  event: NotifyEvent;
  /** ISO-8601 UTC. */
  time: string;
  /** "paper" or "live". */
  node: string;
  /** One line for humans. */
  text: string;
  /** The facts, for machines. */
  data: Record<string, string | number | boolean>;
}

/** One HTTP attempt: delivered, worth another try, or refused for good. */
type Attempt = { ok: true } | { ok: false; retry: boolean; why: string; waitMs?: number };

export interface Receiver {
  /** For reports: never holds a secret. */
  readonly name: string;
  readonly events: ReadonlySet<NotifyEvent>;
  send(m: NotifyMessage, signal: AbortSignal): Promise<Attempt>;
}

const ALL_EVENTS: ReadonlySet<NotifyEvent> = new Set(Object.values(NotifyEvent));
const MAX_BACKOFF_MS = 30_000;

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<Response | Attempt> {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal,
    });
  } catch (e) {
    // The error text of fetch names no URL; the cause's code says what happened (ECONNREFUSED, timeout).
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = signal.aborted ? 'timed out' : (cause?.code ?? cause?.message ?? (e as Error).message);
    return { ok: false, retry: true, why };
  }
}

function byStatus(status: number): Attempt {
  if (status >= 200 && status < 300) return { ok: true };
  return { ok: false, retry: status === 429 || status >= 500, why: `HTTP ${status}` };
}

/** JSON POST of the message; with a key, X-Bot4-Timestamp and X-Bot4-Signature: sha256=HMAC(key, ts.body). */
export class WebhookReceiver implements Receiver {
  readonly name: string;
  readonly events: ReadonlySet<NotifyEvent>;
  private readonly url: string;
  private readonly secret: string | undefined;

  constructor(url: string, secret: string | undefined, events: ReadonlySet<NotifyEvent>, index: number) {
    this.url = url;
    this.secret = secret;
    this.events = events;
    this.name = `webhook ${index + 1} (${new URL(url).origin})`;
  }

  async send(m: NotifyMessage, signal: AbortSignal): Promise<Attempt> {
    const body = JSON.stringify(m);
    const headers: Record<string, string> = {};
    if (this.secret !== undefined) {
      const ts = String(Math.floor(wallMicros() / 1000));
      headers['x-bot4-timestamp'] = ts;
      headers['x-bot4-signature'] =
        `sha256=${createHmac('sha256', this.secret).update(`${ts}.${body}`).digest('hex')}`;
    }
    const r = await post(this.url, body, headers, signal);
    if (!(r instanceof Response)) return r;
    await r.arrayBuffer().catch(() => undefined);
    return byStatus(r.status);
  }
}

/** Telegram Bot API sendMessage (POST {base}/bot{token}/sendMessage, JSON), honouring 429 retry_after. */
export class TelegramReceiver implements Receiver {
  readonly name: string;
  readonly events: ReadonlySet<NotifyEvent>;
  private readonly url: string;
  private readonly chatId: string | number;

  constructor(baseUrl: string, token: string, chatId: string | number, events: ReadonlySet<NotifyEvent>) {
    this.url = `${baseUrl.replace(/\/+$/, '')}/bot${token}/sendMessage`;
    this.chatId = chatId;
    this.events = events;
    this.name = `telegram chat ${chatId}`;
  }

  async send(m: NotifyMessage, signal: AbortSignal): Promise<Attempt> {
    const body = JSON.stringify({ chat_id: this.chatId, text: `[bot4 ${m.node}] ${m.text}` });
    const r = await post(this.url, body, {}, signal);
    if (!(r instanceof Response)) return r;
    const reply = (await r.json().catch(() => undefined)) as
      | { ok?: boolean; description?: string; parameters?: { retry_after?: number } }
      | undefined;
    if (r.ok && reply?.ok === true) return { ok: true };
    const a = byStatus(r.ok ? 400 : r.status);
    if (a.ok) return a;
    const retryAfter = reply?.parameters?.retry_after;
    return {
      ok: false,
      retry: a.retry,
      // The API's description never holds the token; the URL (which does) is never shown.
      why: `${a.why}${reply?.description === undefined ? '' : `: ${reply.description}`}`,
      ...(typeof retryAfter === 'number' ? { waitMs: retryAfter * 1000 } : {}),
    };
  }
}

export class ReceiverStats {
  sent = 0;
  failed = 0;
  dropped = 0;
  retries = 0;
  lastError = '';
}

/** A receiver with its bounded queue (a ring) and the one send in flight. */
class Outbox {
  readonly receiver: Receiver;
  readonly stats = new ReceiverStats();
  private readonly ring: (NotifyMessage | undefined)[];
  private head = 0;
  private size = 0;
  private busy = false;
  private readonly abort = new AbortController();
  private readonly o: Notifier;

  constructor(receiver: Receiver, capacity: number, owner: Notifier) {
    this.receiver = receiver;
    this.ring = new Array(capacity).fill(undefined);
    this.o = owner;
  }

  get pending(): number {
    return this.size + (this.busy ? 1 : 0);
  }

  push(m: NotifyMessage): void {
    const cap = this.ring.length;
    if (this.size === cap) {
      // Full: the oldest goes (the newest says most about now: a kill switch after a burst of fills).
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % cap;
      this.size--;
      if (this.stats.dropped++ === 0)
        this.o.note(`notify: ${this.receiver.name} queue full; dropping the oldest`);
    }
    this.ring[(this.head + this.size) % cap] = m;
    this.size++;
    if (!this.busy) {
      this.busy = true;
      // Off the caller's stack: the engine's handler returns before any byte is sent.
      setImmediate(() => void this.drain());
    }
  }

  private take(): NotifyMessage | undefined {
    if (this.size === 0) return undefined;
    const m = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    return m;
  }

  private async drain(): Promise<void> {
    const { maxRetries, backoffMs, timeoutMs } = this.o.config;
    for (let m = this.take(); m !== undefined && !this.abort.signal.aborted; m = this.take()) {
      for (let attempt = 0; ; attempt++) {
        const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(timeoutMs)]);
        const r = await this.receiver.send(m, signal);
        if (r.ok) {
          this.stats.sent++;
          break;
        }
        if (this.stats.lastError === '') this.o.note(`notify: ${this.receiver.name}: ${r.why}`);
        this.stats.lastError = r.why;
        if (!r.retry || attempt >= maxRetries || this.abort.signal.aborted) {
          this.stats.failed++;
          break;
        }
        this.stats.retries++;
        await sleep(Math.min(r.waitMs ?? backoffMs * 2 ** attempt, MAX_BACKOFF_MS), this.abort.signal);
      }
    }
    this.busy = false;
  }

  /** Stops sending: what is still queued (and an interrupted send) counts as dropped. */
  stop(): void {
    this.stats.dropped += this.pending;
    this.size = 0;
    this.ring.fill(undefined);
    this.abort.abort();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    t.unref();
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export class Notifier {
  readonly config: NotifyConfig;
  private readonly boxes: Outbox[];
  private readonly print: (line: string) => void;

  /** Reads the secrets the config names from `env` (a config error naming the key when one is missing). */
  constructor(config: NotifyConfig, env: NodeJS.ProcessEnv, print: (line: string) => void) {
    this.config = config;
    this.print = print;
    const receivers: Receiver[] = config.webhooks.map(
      (w, i) =>
        new WebhookReceiver(
          w.url,
          w.secretEnv === undefined
            ? undefined
            : secretFromEnv(env, w.secretEnv, `notify.webhooks.${i}.secretEnv`),
          w.events === undefined ? ALL_EVENTS : new Set(w.events),
          i,
        ),
    );
    const t = config.telegram;
    if (t !== undefined) {
      const token = secretFromEnv(env, t.tokenEnv, 'notify.telegram.tokenEnv');
      receivers.push(
        new TelegramReceiver(
          t.baseUrl,
          token,
          t.chatId,
          t.events === undefined ? ALL_EVENTS : new Set(t.events),
        ),
      );
    }
    this.boxes = receivers.map((r) => new Outbox(r, config.queueSize, this));
  }

  /** Queues the message for every receiver that wants its event; returns at once. */
  post(m: NotifyMessage): void {
    for (const b of this.boxes) if (b.receiver.events.has(m.event)) b.push(m);
  }

  wants(event: NotifyEvent): boolean {
    return this.boxes.some((b) => b.receiver.events.has(event));
  }

  note(line: string): void {
    this.print(line);
  }

  get pending(): number {
    let n = 0;
    for (const b of this.boxes) n += b.pending;
    return n;
  }

  stats(): { name: string; stats: ReceiverStats }[] {
    return this.boxes.map((b) => ({ name: b.receiver.name, stats: b.stats }));
  }

  /** Waits up to `graceMs` for the queues to empty, then stops; returns one summary line per receiver. */
  async close(graceMs = 3_000): Promise<string[]> {
    const until = monoMillis() + graceMs;
    while (this.pending > 0 && monoMillis() < until) await new Promise((r) => setTimeout(r, 20));
    for (const b of this.boxes) b.stop();
    return this.boxes.map(
      ({ receiver: r, stats: s }) =>
        `notify ${r.name}: ${s.sent} sent, ${s.failed} failed, ${s.dropped} dropped, ${s.retries} retries` +
        (s.lastError === '' ? '' : ` (last error: ${s.lastError})`),
    );
  }
}
