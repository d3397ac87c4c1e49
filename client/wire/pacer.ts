/**
 * Flow control for one data channel. @roamhq/wrtc has no `bufferedamountlow` event and
 * silently drops data once ~16 MiB is buffered, so the pacer polls `bufferedAmount`:
 * it sends while the buffer is under the high mark, then waits until it drains below the
 * low mark. Reading `bufferedAmount` is a call into WebRTC's network thread (tens of
 * microseconds, far more while it is busy sending), so the pacer reads it only when the last reading
 * plus what was sent since could have reached the high mark. Pumps are started on a
 * microtask so that everything queued in one tick is coalesced into as few packets as
 * possible. In browsers the pacer waits for the channel's `bufferedamountlow` event instead
 * (`whenDrained`), keeping a slow poll only as a fallback: background tabs clamp timers to
 * about a second, which made a polling sender there several times slower.
 */
export interface PacerOptions {
  highWaterMark: number;
  lowWaterMark: number;
  pollIntervalMs: number;
}

export interface PacerSink {
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  readonly maxPacketBytes: number;
  send(packet: Uint8Array): void;
  /**
   * Calls `drained` once when the buffer falls below `low` (the channel's own event); returns
   * the function that cancels it, or undefined where there is no such event to rely on.
   */
  whenDrained?(low: number, drained: () => void): (() => void) | undefined;
}

/** With a drain event to wait for, the poll is only a safety net. */
const FALLBACK_POLL_MS = 250;

export interface PacerSource {
  nextPacket(maxBytes: number): Uint8Array | null;
}

export class Pacer {
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** The last `bufferedAmount` read plus the bytes sent since: an upper bound of what is buffered. */
  private estimate = 0;
  private cancelDrain: (() => void) | undefined;

  constructor(
    private readonly sink: PacerSink,
    private readonly source: PacerSource,
    private readonly options: PacerOptions,
  ) {}

  /** There is something new to send: pump soon (on a microtask), unless already waiting for the buffer. */
  kick(): void {
    if (this.scheduled || this.timer !== undefined || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Sends what is queued now rather than on a microtask (a stream about to close), unless waiting for the buffer. */
  flush(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.pump();
  }

  /** True while sends are held back because the channel's buffer is above the high mark. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.cancelDrain?.();
    this.cancelDrain = undefined;
  }

  private pump(): void {
    while (!this.stopped && this.sink.isOpen) {
      if (this.estimate >= this.options.highWaterMark) {
        this.estimate = this.sink.bufferedAmount;
        if (this.estimate >= this.options.highWaterMark) {
          this.waitForDrain();
          return;
        }
      }
      const packet = this.source.nextPacket(this.sink.maxPacketBytes);
      if (packet === null) return;
      this.sink.send(packet);
      this.estimate += packet.length;
    }
  }

  private waitForDrain(): void {
    const resume = (): void => {
      if (this.timer === undefined) return; // the other of the event and the poll came first
      clearTimeout(this.timer);
      this.timer = undefined;
      this.cancelDrain?.();
      this.cancelDrain = undefined;
      if (this.stopped || !this.sink.isOpen) return;
      this.estimate = this.sink.bufferedAmount;
      if (this.estimate > this.options.lowWaterMark) this.waitForDrain();
      else this.pump();
    };
    this.cancelDrain = this.sink.whenDrained?.(this.options.lowWaterMark, resume);
    this.timer = setTimeout(resume, this.cancelDrain === undefined ? this.options.pollIntervalMs : FALLBACK_POLL_MS);
  }
}
