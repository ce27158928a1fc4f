// Typed publish/subscribe with synchronous, deterministic dispatch: handlers run in (priority, subscription
// order), inside publish, on the publisher's stack. Publishing allocates nothing: a topic keeps its handlers
// in a plain array that is replaced (copy on write) when subscriptions change, so a handler may subscribe or
// unsubscribe during dispatch without disturbing the dispatch in progress.

import { Bot4Error, ErrorCode } from './errors.ts';

export type Handler<T> = (message: T) => void;

interface Subscription<T> {
  readonly id: number;
  readonly handler: Handler<T>;
  readonly priority: number;
}

/** A named channel for one message type. Create topics at setup; publish on them on the hot path. */
export class Topic<T> {
  readonly id: number;
  readonly name: string;
  /** The current handlers, in dispatch order. Replaced, never mutated, when subscriptions change. */
  handlers: readonly Handler<T>[] = [];
  subscriptions: readonly Subscription<T>[] = [];
  /** Messages published, for diagnostics and metrics. */
  published = 0;

  constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
  }
}

export class MessageBus {
  private readonly topics: Topic<unknown>[] = [];
  private readonly byName = new Map<string, Topic<unknown>>();
  private nextSubscription = 1;

  /** Returns the topic with this name, creating it on first use. Names are for setup, not the hot path. */
  topic<T>(name: string): Topic<T> {
    let t = this.byName.get(name);
    if (t === undefined) {
      t = new Topic<unknown>(this.topics.length, name);
      this.topics.push(t);
      this.byName.set(name, t);
    }
    return t as Topic<T>;
  }

  topicById<T>(id: number): Topic<T> {
    const t = this.topics[id];
    if (t === undefined) throw new Bot4Error(ErrorCode.NOT_FOUND, `no topic with id ${id}`);
    return t as Topic<T>;
  }

  /**
   * Subscribes `handler`; lower priority runs first, equal priorities in subscription order.
   * Returns a subscription id for `unsubscribe`.
   */
  subscribe<T>(topic: Topic<T>, handler: Handler<T>, priority = 0): number {
    const sub: Subscription<T> = { id: this.nextSubscription++, handler, priority };
    const subs = [...topic.subscriptions, sub].sort((a, b) => a.priority - b.priority || a.id - b.id);
    topic.subscriptions = subs;
    topic.handlers = subs.map((s) => s.handler);
    return sub.id;
  }

  unsubscribe<T>(topic: Topic<T>, subscriptionId: number): boolean {
    const subs = topic.subscriptions.filter((s) => s.id !== subscriptionId);
    if (subs.length === topic.subscriptions.length) return false;
    topic.subscriptions = subs;
    topic.handlers = subs.map((s) => s.handler);
    return true;
  }

  /** Delivers `message` to every handler of `topic`, synchronously, in order. */
  publish<T>(topic: Topic<T>, message: T): void {
    const handlers = topic.handlers;
    topic.published++;
    for (let i = 0; i < handlers.length; i++) handlers[i]!(message);
  }

  /** Topics in creation order, for diagnostics. */
  list(): readonly Topic<unknown>[] {
    return this.topics;
  }
}
