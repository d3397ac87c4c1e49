/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`; each event
 * takes one (or as many as it weighs). Pure (the clock is passed in), one per client socket.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `n` tokens if there are that many. */
  take(now: number, n = 1): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Milliseconds until `n` tokens will be there (0 if they are now). */
  wait(now: number, n: number): number {
    this.refill(now);
    return this.tokens >= n ? 0 : Math.ceil(((n - this.tokens) / this.ratePerSecond) * 1000);
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}

/**
 * Token buckets by key (e.g. a participant id), so that a limit outlives the connection it
 * was hit on: a client that reconnects does not start with a full bucket. At most `maxKeys`
 * are kept; the least recently used is forgotten first. Pure: the clock is passed in.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 10_000,
  ) {}

  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
      bucket = new TokenBucket(this.ratePerSecond, this.burst, now);
    } else this.buckets.delete(key); // re-inserted below: the map's order is recency
    this.buckets.set(key, bucket);
    return bucket.take(now);
  }
}

/** What happens to one incoming packet. */
export type FloodVerdict = 'pass' | 'drop' | 'disconnect';

export interface FloodLimits {
  /** Packets per second a client may send (signals included), and the burst above that rate. */
  perSecond: number;
  burst: number;
  /** Signals per second to any one participant, and the burst: a pair's negotiation needs about ten. */
  perTargetPerSecond: number;
  perTargetBurst: number;
}

/** Per-target buckets a client may hold at once; beyond it the least recently used is forgotten (a room has at most a few hundred). */
const MAX_TARGETS = 1024;
/** Signals dropped beyond this many bursts' worth is a flood no honest client makes, however provoked. */
const SIGNAL_FLOOD_BURSTS = 10;

/**
 * The per-client flood rule. Every packet but relayed ones (metered in bytes apart) takes a
 * token of the client's bucket; a signal also takes one of its target's. A packet over either
 * is dropped. Dropping requests the client chose to send, worth another burst, disconnects it.
 * Signals are different: a client's answers and candidates are caused by its peers' offers,
 * so a hostile peer could otherwise get an honest one disconnected by offering at it. Signals
 * over the rate are dropped, never a reason to disconnect, unless the drops reach ten bursts
 * (no honest client, whose replies the client bounds per pair, comes near). Pure: the clock is passed in.
 */
export class FloodLimiter {
  private readonly bucket: TokenBucket;
  private readonly targets: KeyedBuckets;
  private dropped = 0;
  private droppedSignals = 0;

  constructor(private readonly limits: FloodLimits, now: number) {
    this.bucket = new TokenBucket(limits.perSecond, limits.burst, now);
    this.targets = new KeyedBuckets(limits.perTargetPerSecond, limits.perTargetBurst, MAX_TARGETS);
  }

  /** The verdict on one packet; `target` is a signal's addressee (undefined for any other event). */
  admit(now: number, target?: string): FloodVerdict {
    if (target === undefined) {
      if (this.bucket.take(now)) {
        this.dropped = Math.max(0, this.dropped - 1);
        return 'pass';
      }
      return ++this.dropped > this.limits.burst ? 'disconnect' : 'drop';
    }
    if (this.targets.take(target, now) && this.bucket.take(now)) {
      this.droppedSignals = Math.max(0, this.droppedSignals - 1);
      return 'pass';
    }
    return ++this.droppedSignals > SIGNAL_FLOOD_BURSTS * this.limits.burst ? 'disconnect' : 'drop';
  }
}
