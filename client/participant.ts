/**
 * Participants as users hold them. One RemoteParticipant object per remote id for as long
 * as the client knows it: attribute updates change it in place, so references stay valid.
 */
import { RoomError } from '../protocol/errors.js';
import type { JsonValue } from '../protocol/json.js';
import type { ParticipantInfo } from '../protocol/signaling.js';
import { checkAttributes } from './validate.js';

export type LinkKind = 'direct' | 'relayed';

/** An ICE candidate's type: the host's own address, one a STUN server saw (`srflx`), one learnt from the peer's checks (`prflx`), or a TURN server's (`relay`). */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** What the WebRTC stack says of a direct link's selected candidate pair. */
export interface Route {
  /** This side's candidate type: `relay` means this side sends through a TURN server. */
  local?: CandidateType;
  /** The peer's candidate type: `relay` means the peer receives through a TURN server. */
  remote?: CandidateType;
  /** How this side reaches the first hop: UDP, TCP, or TLS (to a TURN server over TLS). */
  protocol?: 'udp' | 'tcp' | 'tls';
  /** The link's round trip, as the stack measures it (smoothed), in milliseconds. */
  rttMs?: number;
}

/**
 * How a participant is connected: `kind` is its `link`; for a direct link, the selected
 * candidate pair (is TURN in use? `local === 'relay' || remote === 'relay'`) and its round trip,
 * where the stack reports them (node-datachannel gives no protocol).
 */
export interface ParticipantPath extends Route {
  kind: LinkKind;
}

abstract class ParticipantBase {
  protected _attributes: Readonly<Record<string, JsonValue>> = Object.freeze({});
  protected _role = '';

  /** The participant's role, as the service admitted it. */
  get role(): string {
    return this._role;
  }

  /** A frozen snapshot; `name` is among them. */
  get attributes(): Readonly<Record<string, JsonValue>> {
    return this._attributes;
  }

  get name(): string | undefined {
    const name = this._attributes['name'];
    return typeof name === 'string' ? name : undefined;
  }

  getAttribute(name: string): JsonValue | undefined {
    return Object.hasOwn(this._attributes, name) ? this._attributes[name] : undefined;
  }

  /** @internal */
  _apply(info: ParticipantInfo): void {
    this._role = info.role;
    this._attributes = Object.freeze({ ...info.attributes });
  }
}

export class RemoteParticipant extends ParticipantBase {
  private _online = false;
  private _link: LinkKind = 'direct';
  private _route: Route = {};
  private _fingerprint: string | undefined;

  /** @internal */
  constructor(readonly id: string, info: ParticipantInfo) {
    super();
    this._apply(info);
  }

  /** True while the participant is in the presence list (a message to it can be delivered). */
  get online(): boolean {
    return this._online;
  }

  /** How messages reach it: over a peer-to-peer data channel (`direct`) or through the service (`relayed`). */
  get link(): LinkKind {
    return this._link;
  }

  /** How it is connected, in more detail than `link`: see ParticipantPath. A fresh object on each read. */
  get path(): ParticipantPath {
    return { kind: this._link, ...(this._link === 'direct' ? this._route : {}) };
  }

  /** @internal */
  _setLink(kind: LinkKind): void {
    this._link = kind;
    if (kind === 'relayed') this._route = {};
  }

  /** @internal Sets the direct link's route; true when a known candidate pair changed to another (not its first reading, nor just its round trip). */
  _setRoute(route: Route): boolean {
    const before = this._route;
    const changed = before.local !== undefined && (route.local !== before.local || route.remote !== before.remote || route.protocol !== before.protocol);
    this._route = route;
    return changed;
  }

  /**
   * Its identity key's fingerprint (30 digits in groups of five), once a stream to it proved that
   * key (before it is listed); undefined before. Compare it out of band with the fingerprint
   * the other person reads on their own `localParticipant`, or pin it (`pinnedFingerprints`).
   */
  get fingerprint(): string | undefined {
    return this._fingerprint;
  }

  /** @internal */
  _setOnline(online: boolean): void {
    this._online = online;
  }

  /** @internal */
  _setFingerprint(fingerprint: string): void {
    this._fingerprint = fingerprint;
  }
}

export type AttributeSetter = (attributes: Record<string, JsonValue>) => Promise<ParticipantInfo>;

export class LocalParticipant extends ParticipantBase {
  private _id = '';

  /** @internal */
  constructor(
    private readonly setter: AttributeSetter,
    /** This participant's identity key's fingerprint (30 digits in groups of five): what the others see as its `fingerprint`. */
    readonly fingerprint: string,
  ) {
    super();
  }

  /** Assigned by the service when `room.start()` resolves; the empty string before. */
  get id(): string {
    return this._id;
  }

  /** @internal */
  _assign(info: ParticipantInfo): void {
    this._id = info.id;
    this._apply(info);
  }

  /** Sets one attribute; the others see `participant_attributes_updated`. */
  async setAttribute(name: string, value: JsonValue): Promise<void> {
    return this.setAttributes({ [name]: value });
  }

  /** Sets several attributes at once (one update for the others). */
  async setAttributes(attributes: Record<string, JsonValue>): Promise<void> {
    const problem = checkAttributes(attributes, 'attributes');
    if (problem !== undefined) throw problem;
    if (Object.keys(attributes).length === 0) throw new RoomError('INVALID_ARGUMENT', 'no attribute to set');
    this._apply(await this.setter(attributes));
  }
}

/** How errors and logs name a participant: its name where it has one, with its id beside it (names need not be unique). */
export function participantLabel(id: string, name: string | undefined): string {
  return name === undefined ? `participant ${id}` : `participant "${name}" (${id})`;
}
