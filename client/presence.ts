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
}

export class Presence extends TypedEmitter<PresenceEvents> {
  private readonly known = new Map<string, RemoteParticipant>();
  private readonly objects = new Map<string, RemoteParticipant>();
  private readonly unreachable = new Map<string, string>();
  private readonly present = new Map<string, RemoteParticipant>();
  /** Peers cut off as hostile, until when: not linked again (nor their signals taken) before then. */
  private readonly banned = new Map<string, number>();
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

  /** The listed participants named `name`, in the order they were listed. */
  byName(name: string): RemoteParticipant[] {
    return [...this.present.values()].filter((participant) => participant.name === name);
  }

  get size(): number {
    return this.present.size;
  }

  /** Why a known participant cannot be reached, if it cannot. */
  unreachableBecause(id: string): string | undefined {
    return this.unreachable.get(id);
  }

  isBanned(id: string): boolean {
    const until = this.banned.get(id);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.banned.delete(id);
    return false;
  }

  /** The participants of an enable reply: resolves once each is linked or given up. */
  introduceAll(participants: ParticipantInfo[]): Promise<void> {
    const settled = participants.map((info) => new Promise<void>((resolve) => this.settleWaiters.set(info.id, resolve)));
    for (const info of participants) this.introduce(info);
    return Promise.all(settled).then(() => undefined);
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
    if (!this.known.has(id)) return;
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

  /** The mesh gave `id` up. Still in the room as far as the service knows, it stays unreachable (sends say why) until it leaves. */
  handleLinkClosed(id: string, reason: LinkCloseReason, detail: string): void {
    const known = this.known.has(id);
    if (reason === 'hostile') {
      this.banned.set(id, Date.now() + this.banMs);
      this.emit('hostile', id, detail);
    }
    this.remove(id, new RoomError('PARTICIPANT_LEFT', `the link to ${this.describe(id)} closed (${detail})`));
    if (reason === 'timeout' && known) this.unreachable.set(id, detail);
    if (reason === 'hostile') this.unreachable.set(id, `cut off as hostile: ${detail}`);
  }

  /** Forgets everyone (messaging off); returns those who were in the presence list. */
  clear(): RemoteParticipant[] {
    const removed = [...this.present.values()];
    this.present.clear();
    this.known.clear();
    this.objects.clear();
    this.unreachable.clear();
    for (const resolve of this.settleWaiters.values()) resolve();
    this.settleWaiters.clear();
    for (const participant of removed) participant._setOnline(false);
    return removed;
  }

  private introduce(info: ParticipantInfo): void {
    if (this.isBanned(info.id)) return this.settle(info.id);
    const participant = this.objects.get(info.id) ?? new RemoteParticipant(info.id, info);
    participant._apply(info);
    this.objects.set(info.id, participant);
    this.known.set(info.id, participant);
    this.unreachable.delete(info.id);
    this.emit('connect', info.id);
  }

  private update(participant: RemoteParticipant, info: ParticipantInfo): void {
    if (JSON.stringify(participant.attributes) === JSON.stringify(info.attributes) && participant.role === info.role) return;
    participant._apply(info);
    if (this.present.has(info.id)) this.emit('participant_attributes_updated', participant);
  }

  private remove(id: string, error: RoomError): void {
    this.unreachable.delete(id);
    this.emit('drop', id, error);
    const participant = this.present.get(id);
    this.known.delete(id);
    this.present.delete(id);
    this.settle(id);
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
