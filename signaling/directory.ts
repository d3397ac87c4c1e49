/**
 * Who is in which room, as every service process sees it. No process keeps the only copy
 * of anything: a participant's record lives on its own socket (`socket.data`), membership
 * is Socket.IO rooms, and questions are answered by `fetchSockets()`, which the Redis
 * adapter puts to every process (without Redis, to this one). A process that dies takes
 * its participants with it, so nobody lingers.
 *
 * Addressing is the isolation: signals and relayed packets go to the room
 * `reachable(id, room)`, which holds a socket only while that participant is in `room` with
 * messaging enabled. A lookup only decides whether the sender hears PARTICIPANT_NOT_FOUND.
 */
import type { JsonValue } from '../protocol/json.js';
import type { ParticipantInfo } from '../protocol/signaling.js';

export interface Member {
  id: string;
  room: string;
  role: string;
  attributes: Record<string, JsonValue>;
  messaging: boolean;
}

/**
 * The Socket.IO rooms roommesh uses. Room names are any string, so a name built from two
 * parts encodes them unambiguously (JSON): no (id, room) pair can spell another's room.
 */
export const rooms = {
  /** Every participant of a room. */
  all: (room: string): string => `r:${room}`,
  /** The participants of a room with messaging enabled: presence announcements go here. */
  enabled: (room: string): string => `enabled:${room}`,
  /** Every connection of one participant (during a resume, briefly two). */
  participant: (id: string): string => `p:${id}`,
  /** One participant, only while it is in `room` with messaging enabled: signals and relays go here. */
  reachable: (id: string, room: string): string => `m:${JSON.stringify([id, room])}`,
  /** The participants of `room` that joined with the token whose key is `key`. */
  token: (key: string, room: string): string => `t:${JSON.stringify([key, room])}`,
} as const;

export function toInfo(member: Member): ParticipantInfo {
  return { id: member.id, role: member.role, attributes: { ...member.attributes } };
}

/** What a socket carries (`socket.data`): a participant's record once it has joined. */
export interface MemberData {
  participantId?: string | undefined;
  room?: string;
  role?: string;
  attributes?: Record<string, JsonValue>;
  messaging?: boolean;
}

/** The participant a socket speaks for, or undefined before it joined (or after it left). */
export function memberFrom(data: MemberData | undefined): Member | undefined {
  if (data === undefined) return undefined;
  const { participantId: id, room, role, attributes, messaging } = data;
  if (id === undefined || room === undefined || role === undefined || attributes === undefined) return undefined;
  return { id, room, role, attributes, messaging: messaging === true };
}

/** One record per participant id (a resuming participant may briefly hold two connections). */
export function uniqueMembers(found: Iterable<MemberData | undefined>): Member[] {
  const byId = new Map<string, Member>();
  for (const data of found) {
    const member = memberFrom(data);
    if (member !== undefined && !byId.has(member.id)) byId.set(member.id, member);
  }
  return [...byId.values()];
}

/** Remembers keys for `ttlMs`; what the relay's hot path asks about reachability. */
export class TtlSet {
  private readonly until = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly maxSize = 10_000) {}

  has(key: string, now: number): boolean {
    const expires = this.until.get(key);
    if (expires === undefined) return false;
    if (expires > now) return true;
    this.until.delete(key);
    return false;
  }

  add(key: string, now: number): void {
    if (this.until.size >= this.maxSize) this.until.clear();
    this.until.set(key, now + this.ttlMs);
  }

  delete(key: string): void {
    this.until.delete(key);
  }
}

/** Runs tasks for one key one after another (joins to one room, so its size check holds within a process). */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

type Sockets = Array<{ readonly id: string; readonly data: MemberData | undefined; disconnect(close: boolean): unknown }>;

/** What the directory needs of Socket.IO: `io.in(room).fetchSockets()`, the same of this process alone, and the local adapter's rooms. */
export interface SocketSource {
  fetch(room: string): Promise<Sockets>;
  /** This process's own sockets in `room` (with several processes; it answers whatever the others do). */
  fetchLocal?(room: string): Promise<Sockets>;
  localRooms(): ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * How long a question waits for every process before this process answers it alone: a hung
 * (not dead) process must not stall joins and signals everywhere. After one miss, questions for
 * the next `missWindowMs` wait only `afterMissMs`; the adapter itself gives up at its
 * `requestsTimeout`. On a healthy set of processes an answer takes a few milliseconds.
 */
export interface Patience {
  deadlineMs: number;
  afterMissMs: number;
  missWindowMs: number;
  /** Told each time a question was answered by this process alone. */
  onMiss?: () => void;
}

export const DEFAULT_PATIENCE: Patience = { deadlineMs: 750, afterMissMs: 100, missWindowMs: 5_000 };

export class Directory {
  private readonly reachableCache: TtlSet;
  private readonly asking = new Map<string, Promise<boolean>>();
  /** Until when questions wait only `afterMissMs` (a process did not answer lately). */
  private impatientUntil = 0;

  constructor(
    private readonly source: SocketSource,
    reachableCacheMs = 1_000,
    private readonly patience: Patience = DEFAULT_PATIENCE,
  ) {
    this.reachableCache = new TtlSet(reachableCacheMs);
  }

  /**
   * The sockets in `room` on every process that answers in time; when one does not (hung, or
   * Redis gone), this process's own. Safe for what the service asks: a participant on a process
   * that cannot answer cannot be signalled or relayed to either, and its room-mates learn of it
   * again once it answers (or its clients move elsewhere).
   */
  private async ask(room: string): Promise<Sockets> {
    return (await this.askEveryone(room)).sockets;
  }

  /** As `ask`, saying whether every process answered (`complete`) or only this one did. */
  private async askEveryone(room: string): Promise<{ sockets: Sockets; complete: boolean }> {
    const { fetchLocal } = this.source;
    if (fetchLocal === undefined) return { sockets: await this.source.fetch(room), complete: true };
    const now = Date.now();
    const wait = now < this.impatientUntil ? this.patience.afterMissMs : this.patience.deadlineMs;
    const everyone = this.source.fetch(room);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = await Promise.race([
      everyone.then((sockets) => ({ sockets }), () => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), wait))),
    ]).finally(() => clearTimeout(timer));
    if (answered !== undefined) return { sockets: answered.sockets, complete: true };
    everyone.catch(() => undefined);
    this.impatientUntil = Date.now() + this.patience.missWindowMs;
    this.patience.onMiss?.();
    return { sockets: await fetchLocal(room), complete: false };
  }

  /**
   * For a peer whose paths are all down: whether `id` is still in `room` with messaging on.
   * True or false when every process answered (or this one has it); undefined when a process
   * did not answer in time and this one does not have it: the participant may be on the silent
   * process, and "not present" would make its peers give it up for good.
   */
  async presence(id: string, room: string): Promise<boolean | undefined> {
    const key = rooms.reachable(id, room);
    this.reachableCache.delete(key);
    const { sockets, complete } = await this.askEveryone(key);
    if (sockets.length > 0) {
      this.reachableCache.add(key, Date.now());
      return true;
    }
    return complete ? false : undefined;
  }

  /** Everyone in `room`, on every process. */
  async members(room: string): Promise<Member[]> {
    return uniqueMembers((await this.ask(rooms.all(room))).map((s) => s.data));
  }

  /** The other participants of `room` with messaging enabled, on every process. */
  async enabledPeers(room: string, exceptId: string): Promise<Member[]> {
    const found = uniqueMembers((await this.ask(rooms.enabled(room))).map((s) => s.data));
    return found.filter((m) => m.id !== exceptId && m.messaging);
  }

  /** The participants of `room` holding the token `key`, on every process (ids, each once). */
  async tokenHolders(key: string, room: string): Promise<string[]> {
    return uniqueMembers((await this.ask(rooms.token(key, room))).map((s) => s.data)).map((m) => m.id);
  }

  /** Every connection of participant `id`, on every process. */
  connections(id: string): Promise<Sockets> {
    return this.ask(rooms.participant(id));
  }

  /** Whether `id` is in `room` with messaging enabled; a yes is remembered briefly, unless asked `fresh`. */
  async isReachable(id: string, room: string, options: { fresh?: boolean } = {}): Promise<boolean> {
    const key = rooms.reachable(id, room);
    if (options.fresh !== true && this.reachableCache.has(key, Date.now())) return true;
    if (options.fresh === true) this.reachableCache.delete(key);
    // One question at a time per participant: under load, a burst of signals to one peer
    // would otherwise each ask every process (measured: a queue of 100,000 Redis commands).
    let asking = this.asking.get(key);
    if (asking === undefined) {
      asking = this.ask(key).then((found) => {
        if (found.length > 0) this.reachableCache.add(key, Date.now());
        return found.length > 0;
      });
      this.asking.set(key, asking);
      void asking.finally(() => this.asking.delete(key)).catch(() => undefined);
    }
    return asking;
  }

  /** `id` left `room` or disabled messaging: stop vouching for it. */
  forget(id: string, room: string): void {
    this.reachableCache.delete(rooms.reachable(id, room));
  }

  /** Whether this process hosts anyone of `room`. */
  hostsLocally(room: string): boolean {
    return this.source.localRooms().has(rooms.all(room));
  }

  /** Rooms with a participant on this process. */
  localRoomCount(): number {
    let count = 0;
    for (const name of this.source.localRooms().keys()) if (name.startsWith('r:')) count++;
    return count;
  }
}
