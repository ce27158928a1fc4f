// Progress of a long command on standard error: on a terminal one line redrawn in place (at most every 100 ms);
// otherwise (logs, CI) a line every 5 s. The first line shows at once and a final one always shows.

import { monoMillis } from '../core/clock.ts';

export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private last = Number.NEGATIVE_INFINITY;
  private readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  show(text: string, final = false): void {
    if (!this.enabled) return;
    const now = monoMillis();
    if (!final && now - this.last < (this.tty ? 100 : 5000)) return;
    this.last = now;
    process.stderr.write(this.tty ? `\r${text}\u001b[K` : `${text}\n`);
  }

  /** Ends the redrawn line on a terminal; call once the work is over. */
  end(): void {
    if (this.enabled && this.tty) process.stderr.write('\n');
  }
}
