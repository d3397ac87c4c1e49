/**
 * Who is in the room, as one messaging client sees it: everyone the service reports as
 * enabled (`known`), the presence list proper (`present`: those a message can be delivered
 * to, in the order they became reachable), those no path reaches and why, and peers cut off
 * as hostile. In the style of LiveKit's managers: the service's pushes and the mesh's link
 * news come in through `handle*` methods, decisions go out as typed events (link to this
 * participant, it is back, it is away, drop its paths), and it holds no reference to the
 * mesh or the messaging client. One RemoteParticipant object per id, reused if it comes back.
 */
import { RoomError } from '../protocol/errors.js';
import type { ParticipantInfo, RemovalReason } from '../protocol/signaling.js';
import { TypedEmitter } from './emitter.js';
import type { LinkCloseReason } from './peer/peer.js';
import { participantLabel, RemoteParticipant, type LinkKind, type Route } from './participant.js';

export interface PresenceEvents {
  participant_added: (participant: RemoteParticipant) => void;
  participant_removed: (participant: RemoteParticipant) => void;
  participant_attributes_updated: (participant: RemoteParticipant) => void;
  /** A listed participant's messages now go another way (`participant.link`). */
  participant_link_changed: (participant: RemoteParticipant) => void;
  /** Open paths to this newly known participant. */
  connect: (id: string) => void;
  /** The service reports it again (reconnected): repair what is down. */
  back: (id: string) => void;
  /** Its connection to the service dropped: keep it while a link answers. */
  away: (id: string, silent: boolean) => void;
  /** Close its paths; sends still pending reject with `error`. */
  drop: (id: string, error: RoomError) => void;
  /** A peer was cut off as hostile (and is banned for `banMs`). */
  hostile: (id: string, detail: string) => void;
  /** A peer failed authentication (trust/binding.ts): cut off and banned for `banMs` like a hostile one. */
  unauthenticated: (id: string, detail: string) => void;
}

/** A participant no path reached within connectTimeoutMs is tried again this long after, doubling up to UNREACHABLE_RETRY_MAX_MS, while it stays in the room. */
export const UNREACHABLE_RETRY_MS = 30_000;
export const UNREACHABLE_RETRY_MAX_MS = 5 * 60_000;
/** RemoteParticipant objects kept for participants that left (one object per id if they come back), beyond those known. */
const DEPARTED_OBJECTS = 256;

interface Unreachable {
  detail: string;
  /** What sends to it reject with. */
  code: 'UNREACHABLE' | 'PEER_AUTHENTICATION_FAILED';
  /** For a retry: the participant as last announced, attempts so far, the timer. Absent for hostile peers (banned instead). */
  retry?: { info: ParticipantInfo; attempts: number; timer: ReturnType<typeof setTimeout> };
}

export class Presence extends TypedEmitter<PresenceEvents> {
  private readonly known = new Map<string, RemoteParticipant>();
  private readonly objects = new Map<string, RemoteParticipant>();
  private readonly unreachable = new Map<string, Unreachable>();
  private readonly present = new Map<string, RemoteParticipant>();
  /** Listed participants that list us too (a link's hello round trip): enable() need not wait for them. */
  private readonly confirmed = new Set<string>();
  /** Attempts so far to reach each participant that timed out, so that retries back off across attempts. */
  private readonly attempts = new Map<string, number>();
  /** Peers cut off as hostile or for failing authentication, until when: not linked again (nor their signals taken) before then. */
  private readonly banned = new Map<string, { until: number; detail: string; code: Unreachable['code'] }>();
  /**
   * The identity keys (fingerprints) of peers cut off as hostile after they proved them, until
   * when: the same key under a fresh participant id (a rejoin) is refused too. A key that failed
   * authentication is not banned: it was not proved, and may be someone else's.
   */
  private readonly bannedKeys = new Map<string, { until: number; detail: string }>();
  /** Waiters for participants whose link opens or fails while `enable()` is in progress. */
  private readonly settleWaiters = new Map<string, () => void>();

  constructor(private readonly banMs: number) {
    super();
  }

  /** The presence list, a fresh array. */
  list(): RemoteParticipant[] {
    return [...this.present.values()];
  }

  get(id: string): RemoteParticipant | undefined {
    return this.present.get(id);
  }

  /** How errors name participant `id`: by name where it has one, with its id (participantLabel). */
  describe(id: string): string {
    return participantLabel(id, this.objects.get(id)?.name);
  }

  /** The name the service gives participant `id`, if it is known. */
  nameOf(id: string): string | undefined {
    return this.objects.get(id)?.name;
  }

  /** The listed participants named `name`, in the order they were listed. */
  byName(name: string): RemoteParticipant[] {
    return [...this.present.values()].filter((participant) => participant.name === name);
  }

  get size(): number {
    return this.present.size;
  }

  /** Why a known participant cannot be reached, if it cannot, and the code sends to it reject with. */
  unreachableBecause(id: string): { detail: string; code: Unreachable['code'] } | undefined {
    const entry = this.unreachable.get(id);
    return entry === undefined ? undefined : { detail: entry.detail, code: entry.code };
  }

  isBanned(id: string): boolean {
    const until = this.banned.get(id)?.until;
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.banned.delete(id);
    return false;
  }

  /**
   * The participants of an enable reply: resolves once each is linked (and lists us) or given
   * up. A participant that has not answered at all within `silentMs` (`answered(id)` is false:
   * no signal, no relayed frame) is not waited for past then: it joins the list later if it
   * ever links. One linked already (a push announced it before the reply came) is not waited for.
   */
  introduceAll(participants: ParticipantInfo[], answered: (id: string) => boolean, silentMs: number): Promise<void> {
    const settled = participants.map((info) =>
      this.confirmed.has(info.id) ? Promise.resolve() : new Promise<void>((resolve) => this.settleWaiters.set(info.id, resolve)),
    );
    for (const info of participants) {
      if (this.known.has(info.id)) this.handleEnabled(info);
      else this.introduce(info);
    }
    const timer = setTimeout(() => {
      for (const info of participants) if (!answered(info.id)) this.settle(info.id);
    }, silentMs);
    return Promise.all(settled).then(() => clearTimeout(timer));
  }

  /** The service announces a participant with messaging enabled: new, or back. */
  handleEnabled(info: ParticipantInfo): void {
    const participant = this.known.get(info.id);
    if (participant === undefined) return this.introduce(info);
    this.update(participant, info);
    this.emit('back', info.id);
  }

  /** The service says a participant is gone; `linked`: the mesh has paths to it (a dropped connection may not be a departure). */
  handleRemoved(id: string, reason: RemovalReason, linked: boolean): void {
    if (!this.known.has(id)) {
      this.forgetUnreachable(id); // it was unreachable: now it is simply gone
      this.attempts.delete(id);
      return;
    }
    if ((reason === 'disconnected' || reason === 'unresponsive') && linked) return this.emit('away', id, reason === 'unresponsive');
    this.remove(id, new RoomError('PARTICIPANT_LEFT', `${this.describe(id)} ${reason === 'disabled' ? 'disabled messaging' : 'left the room'}`));
  }

  handleUpdated(info: ParticipantInfo): void {
    const participant = this.known.get(info.id);
    if (participant !== undefined) this.update(participant, info);
  }

  /**
   * The room rejoined after a reconnection; `participants` are those the service lists now.
   * Known ones not listed have not come back yet (or are gone): they stay while their links
   * answer (`linked`). New ones are linked to as after enable().
   */
  handleResumed(participants: ParticipantInfo[], linked: (id: string) => boolean): void {
    const listed = new Set<string>();
    for (const info of participants) {
      listed.add(info.id);
      this.handleEnabled(info);
    }
    for (const id of [...this.known.keys()]) if (!listed.has(id)) this.handleRemoved(id, 'disconnected', linked(id));
  }

  /** A message to `id` can be delivered now: it joins the presence list. */
  handleLinkOpened(id: string): void {
    const participant = this.known.get(id);
    if (participant === undefined || this.present.has(id)) return;
    this.present.set(id, participant);
    participant._setOnline(true);
    this.emit('participant_added', participant);
  }

  /** …and it lists us too: an enable() waiting for it may go on. */
  handleConfirmed(id: string): void {
    if (this.present.has(id)) this.confirmed.add(id);
    this.attempts.delete(id);
    this.settle(id);
  }

  /** A direct link's selected candidate pair, as last read: a new pair is a path change; a new round trip is not. */
  handleRoute(id: string, route: Route): void {
    const participant = this.known.get(id);
    if (participant === undefined || participant.link !== 'direct') return;
    if (participant._setRoute(route) && this.present.has(id)) this.emit('participant_link_changed', participant);
  }

  handlePath(id: string, kind: LinkKind): void {
    const participant = this.known.get(id);
    if (participant === undefined || participant.link === kind) return;
    participant._setLink(kind);
    if (this.present.has(id)) this.emit('participant_link_changed', participant);
  }

  /**
   * The mesh gave `id` up. Still in the room as far as the service knows, it stays unreachable
   * (sends say why) until it leaves; one that timed out is tried again, backing off
   * (UNREACHABLE_RETRY_MS doubling to UNREACHABLE_RETRY_MAX_MS), for as long as it stays.
   */
  handleLinkClosed(id: string, reason: LinkCloseReason, detail: string): void {
    const participant = this.known.get(id);
    if (reason === 'hostile' || reason === 'unauthenticated') {
      this.banned.set(id, { until: Date.now() + this.banMs, detail, code: reason === 'hostile' ? 'UNREACHABLE' : 'PEER_AUTHENTICATION_FAILED' });
      const fingerprint = this.objects.get(id)?.fingerprint;
      if (reason === 'hostile' && fingerprint !== undefined) this.bannedKeys.set(fingerprint, { until: Date.now() + this.banMs, detail });
      this.emit(reason, id, detail);
    }
    this.remove(id, new RoomError('PARTICIPANT_LEFT', `the link to ${this.describe(id)} closed (${detail})`));
    if (reason === 'timeout' && participant !== undefined) {
      const attempts = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, attempts);
      const info: ParticipantInfo = { id, role: participant.role, attributes: { ...participant.attributes } };
      const delay = Math.min(UNREACHABLE_RETRY_MAX_MS, UNREACHABLE_RETRY_MS * 2 ** (attempts - 1));
      const timer = setTimeout(() => {
        if (this.unreachable.get(id)?.retry?.timer === timer) this.introduce(info);
      }, delay);
      (timer as { unref?: () => void }).unref?.();
      this.unreachable.set(id, { detail, code: 'UNREACHABLE', retry: { info, attempts, timer } });
    }
    if (reason === 'hostile' || reason === 'unauthenticated') this.markBanned(id);
  }

  /** Forgets everyone (messaging off); returns those who were in the presence list. */
  clear(): RemoteParticipant[] {
    const removed = [...this.present.values()];
    this.present.clear();
    this.known.clear();
    this.objects.clear();
    for (const id of [...this.unreachable.keys()]) this.forgetUnreachable(id);
    this.confirmed.clear();
    this.attempts.clear();
    for (const resolve of this.settleWaiters.values()) resolve();
    this.settleWaiters.clear();
    for (const participant of removed) participant._setOnline(false);
    return removed;
  }

  private introduce(info: ParticipantInfo): void {
    if (this.isBanned(info.id)) {
      // Still in the room (it came back, or announced itself again), and not linked while banned.
      this.markBanned(info.id);
      return this.settle(info.id);
    }
    const participant = this.objects.get(info.id) ?? new RemoteParticipant(info.id, info);
    participant._apply(info);
    this.objects.delete(info.id); // re-inserted: the most recently seen are kept longest
    this.objects.set(info.id, participant);
    this.known.set(info.id, participant);
    this.forgetUnreachable(info.id);
    this.emit('connect', info.id);
  }

  /** A banned participant still in the room: unreachable, saying why. */
  private markBanned(id: string): void {
    const ban = this.banned.get(id);
    if (ban === undefined) return;
    const detail = ban.code === 'PEER_AUTHENTICATION_FAILED' ? `failed authentication: ${ban.detail}` : `cut off as hostile: ${ban.detail}`;
    this.unreachable.set(id, { detail, code: ban.code });
  }

  /** A stream to `id` proved its identity key: its fingerprint, before it is listed. */
  /** Why a stream proving this identity key is refused (its holder was cut off as hostile), if it is. */
  keyBanned(fingerprint: string): string | undefined {
    const ban = this.bannedKeys.get(fingerprint);
    if (ban === undefined) return undefined;
    if (Date.now() < ban.until) return `its identity key was cut off as hostile (${ban.detail})`;
    this.bannedKeys.delete(fingerprint);
    return undefined;
  }

  handleAuthenticated(id: string, fingerprint: string): void {
    this.objects.get(id)?._setFingerprint(fingerprint); // known before its paths are opened, so it has an object
  }

  private forgetUnreachable(id: string): void {
    clearTimeout(this.unreachable.get(id)?.retry?.timer);
    this.unreachable.delete(id);
  }

  private update(participant: RemoteParticipant, info: ParticipantInfo): void {
    if (JSON.stringify(participant.attributes) === JSON.stringify(info.attributes) && participant.role === info.role) return;
    participant._apply(info);
    if (this.present.has(info.id)) this.emit('participant_attributes_updated', participant);
  }

  private remove(id: string, error: RoomError): void {
    this.forgetUnreachable(id);
    this.emit('drop', id, error);
    const participant = this.present.get(id);
    this.known.delete(id);
    this.present.delete(id);
    this.confirmed.delete(id);
    this.settle(id);
    // Objects of departed participants are kept (one per id, should it come back), but not without bound.
    for (const old of this.objects.keys()) {
      if (this.objects.size <= this.known.size + DEPARTED_OBJECTS) break;
      if (!this.known.has(old)) this.objects.delete(old);
    }
    if (participant !== undefined) {
      participant._setOnline(false);
      this.emit('participant_removed', participant);
    }
  }

  private settle(id: string): void {
    const resolve = this.settleWaiters.get(id);
    this.settleWaiters.delete(id);
    resolve?.();
  }
}
