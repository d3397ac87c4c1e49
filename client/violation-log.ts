/**
 * Logging of peers' protocol violations, rate-limited per peer: the first is logged at once,
 * the rest within `windowMs` are counted and logged as one line when the window ends. A
 * hostile peer can make violations as fast as it sends frames; the log must not grow with it.
 */
import type { Logger } from './options.js';

interface Window {
  suppressed: number;
  last: string;
  timer: ReturnType<typeof setTimeout>;
}

export class ViolationLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 5_000,
  ) {}

  record(peerId: string, reason: string): void {
    const open = this.windows.get(peerId);
    if (open !== undefined) {
      open.suppressed++;
      open.last = reason;
      return;
    }
    this.logger.warn({ peerId, reason, count: 1 }, 'dropped a malformed frame from a peer');
    const window: Window = { suppressed: 0, last: reason, timer: setTimeout(() => this.flush(peerId), this.windowMs) };
    this.windows.set(peerId, window);
  }

  /** Logs what is pending, and forgets every window (on disable or close). */
  clear(): void {
    for (const peerId of [...this.windows.keys()]) this.flush(peerId);
  }

  private flush(peerId: string): void {
    const window = this.windows.get(peerId);
    if (window === undefined) return;
    clearTimeout(window.timer);
    this.windows.delete(peerId);
    if (window.suppressed > 0) {
      this.logger.warn({ peerId, reason: window.last, count: window.suppressed }, 'dropped a malformed frame from a peer');
    }
  }
}
