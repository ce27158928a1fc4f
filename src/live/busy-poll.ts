// Busy polling for the engine thread (opt-in, `engine.busyPoll` / `--busy-poll`): the event loop never sleeps
// in epoll. One immediate is always pending, so libuv polls for I/O with a zero timeout on every turn and the
// thread keeps its core: no wake-up from the kernel's idle state, caches and branch predictors not handed to
// other processes between market bursts. The price is a whole core at 100 % and an Immediate object per loop
// turn (Node offers no way to re-arm one without allocating): young-generation garbage that dies at once, so
// scavenges are cheap but frequent (the tick-to-trade bench counts them). README says when it pays.
// Invariant: stop() ends the loop within one turn; nothing else runs here (the callback only re-arms itself).

export class BusyPoll {
  /** Loop turns so far (immediates run). */
  turns = 0;
  private on = false;
  private readonly spin = (): void => {
    this.turns++;
    if (this.on) setImmediate(this.spin);
  };

  /** Starts spinning; returns the start-up line saying so and what it costs. */
  start(): string {
    if (!this.on) {
      this.on = true;
      setImmediate(this.spin);
    }
    return 'busy poll: on (the engine thread polls without sleeping; it keeps one core busy)';
  }

  stop(): void {
    this.on = false;
  }
}
