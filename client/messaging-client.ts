/**
 * `room.messaging`: the MessagingClient of the Room API. Presence here is the set of
 * participants a message can be delivered to: someone the service reports as enabled
 * enters it (`participant_added`) once its data channel is open, and leaves it
 * (`participant_removed`) when it disables, leaves, or its link dies.
 */
import { RoomError } from '../protocol/errors.js';
import type { JsonObject } from '../protocol/json.js';
import { relayPacketBytesFor, type ServiceLimits } from '../protocol/limits.js';
import type { IceServer, ParticipantInfo, RemovalReason, SignalEnvelope } from '../protocol/signaling.js';
import { TypedEmitter } from './emitter.js';
import { Mesh, type LinkCloseReason } from './mesh.js';
import type { Logger, RtcImplementation, Tunables } from './options.js';
import { RemoteParticipant } from './participant.js';
import { resolveRtc } from './rtc.js';
import type { SignalClient } from './signal-client.js';
import { attachmentBytes, checkMessageBody, checkType, isPlainObject } from './validate.js';
import { ViolationLog } from './violation-log.js';
import { encodeHeader } from './wire/codec.js';
import type { AssembledMessage } from './wire/reassembler.js';

export interface ReceivedMessage {
  fromParticipantId: string;
  /** The sender, as in the presence list. */
  from: RemoteParticipant;
  type: string;
  message: JsonObject;
  attachment: Uint8Array | undefined;
  /** True when the sender broadcast it to the whole room. */
  broadcast: boolean;
}

export interface SendMessageOptions {
  /** The recipient, or its id. */
  to: RemoteParticipant | string;
  type: string;
  message: JsonObject;
  attachment?: Uint8Array | ArrayBuffer | ArrayBufferView;
}

export type BroadcastMessageOptions = Omit<SendMessageOptions, 'to'>;

export type BroadcastOutcome =
  | { participantId: string; participant: RemoteParticipant; ok: true }
  | { participantId: string; participant: RemoteParticipant; ok: false; error: RoomError };

export interface MessagingEvents {
  message: (message: ReceivedMessage) => void;
  participant_added: (participant: RemoteParticipant) => void;
  participant_removed: (participant: RemoteParticipant) => void;
  participant_attributes_updated: (participant: RemoteParticipant) => void;
  messaging_enabled: () => void;
  messaging_disabled: () => void;
}

/** What the RoomClient lends its messaging client. */
export interface MessagingContext {
  /** The signaling client, or an error saying why there is none to use. */
  signaling(): SignalClient | RoomError;
  iceServers(): IceServer[];
  /** The limits the service announced at join (undefined before, or from a service too old to say). */
  serviceLimits(): ServiceLimits | undefined;
  rtc: RtcImplementation | undefined;
  rtcConfig: Record<string, unknown>;
  /** Whether the service may carry a pair's messages when no direct link opens. */
  relay: boolean;
  tunables: Tunables;
  logger: Logger;
  /** The local participant's id (set once the room has started). */
  localId(): string;
}

type State = 'disabled' | 'enabling' | 'enabled' | 'disabling';

export class MessagingClient extends TypedEmitter<MessagingEvents> {
  private state: State = 'disabled';
  private mesh: Mesh | undefined;
  private enabling: Promise<void> | undefined;
  /** Everyone the service reports as enabled, reachable or not yet. */
  private readonly known = new Map<string, RemoteParticipant>();
  /** Every participant object handed out while enabled: one per id, reused if it comes back. */
  private readonly objects = new Map<string, RemoteParticipant>();
  /** Known participants no path could reach, and why (sends to them fail with UNREACHABLE). */
  private readonly unreachable = new Map<string, string>();
  /** The presence list: those a message can be delivered to, in the order they became reachable. */
  private readonly present = new Map<string, RemoteParticipant>();
  private droppedFrames = 0;
  private hostilePeers = 0;
  private readonly violations: ViolationLog;
  /** Peers cut off as hostile, until when: not linked again (nor their signals taken) before then. */
  private readonly banned = new Map<string, number>();
  /** Waiters for links opened or lost while `enable()` is in progress. */
  private readonly settleWaiters = new Map<string, () => void>();

  /** @internal */
  constructor(private readonly context: MessagingContext) {
    super();
    this.violations = new ViolationLog(context.logger);
  }

  get enabled(): boolean {
    return this.state === 'enabled';
  }

  /** The participants a message can be delivered to (a fresh array). */
  get remoteParticipants(): RemoteParticipant[] {
    return [...this.present.values()];
  }

  getParticipants(): RemoteParticipant[] {
    return this.remoteParticipants;
  }

  getParticipant(id: string): RemoteParticipant | undefined {
    return this.present.get(id);
  }

  /** The first participant whose `name` attribute is `name`. */
  getParticipantByName(name: string): RemoteParticipant | undefined {
    for (const participant of this.present.values()) if (participant.name === name) return participant;
    return undefined;
  }

  /**
   * Enables messaging: announces this participant to the room and links to every
   * participant already enabled. Resolves once presence is known: each of them is either
   * linked (and in `getParticipants()`) or found unreachable within `connectTimeoutMs`.
   */
  enable(): Promise<void> {
    if (this.state === 'enabled') return Promise.resolve();
    if (this.state === 'enabling' && this.enabling !== undefined) return this.enabling;
    if (this.state === 'disabling') return Promise.reject(new RoomError('NOT_ENABLED', 'messaging is being disabled; enable again once disable() resolves'));
    this.enabling = this.doEnable().finally(() => {
      this.enabling = undefined;
    });
    return this.enabling;
  }

  /**
   * Participants listed, how many of them are relayed; and since this client was created,
   * frames dropped because a peer broke the protocol, and peers cut off as hostile.
   */
  stats(): { participants: number; relayed: number; droppedFrames: number; hostilePeers: number } {
    let relayed = 0;
    for (const participant of this.present.values()) if (participant.link === 'relayed') relayed++;
    return { participants: this.present.size, relayed, droppedFrames: this.droppedFrames, hostilePeers: this.hostilePeers };
  }

  /** Disables messaging: tells the others at once, closes every link. Sends still pending reject with NOT_ENABLED. */
  async disable(): Promise<void> {
    if (this.state === 'disabled' || this.state === 'disabling') return;
    await this.shutdown(new RoomError('NOT_ENABLED', 'messaging was disabled before the message was delivered'), true);
  }

  async sendMessage(options: SendMessageOptions): Promise<void> {
    if (!isPlainObject(options)) throw new RoomError('INVALID_MESSAGE', 'sendMessage takes { to, type, message, attachment? }');
    const { header, attachment } = this.prepare(options, false);
    const to: unknown = options.to;
    const id = to instanceof RemoteParticipant ? to.id : to;
    if (typeof id !== 'string' || id.length === 0) throw new RoomError('INVALID_MESSAGE', '`to` must be a participant or a participant id');
    this.assertEnabled();
    if (!this.present.has(id)) {
      const why = this.unreachable.get(id);
      if (why !== undefined) throw new RoomError('UNREACHABLE', `participant ${id} is in the room but cannot be reached: ${why}`);
      throw new RoomError('PARTICIPANT_NOT_FOUND', `participant ${id} is not in this room's presence list (left, or never joined)`);
    }
    const session = this.mesh?.session(id);
    if (session === undefined) throw new RoomError('PARTICIPANT_LEFT', `participant ${id} has no open link`);
    return session.send(header, attachment);
  }

  /** Sends to every participant in the presence list (never back to this one); resolves with each recipient's outcome. */
  async broadcastMessage(options: BroadcastMessageOptions): Promise<BroadcastOutcome[]> {
    if (!isPlainObject(options)) throw new RoomError('INVALID_MESSAGE', 'broadcastMessage takes { type, message, attachment? }');
    const { header, attachment } = this.prepare(options, true);
    this.assertEnabled();
    const recipients = [...this.present.values()];
    return Promise.all(
      recipients.map(async (participant): Promise<BroadcastOutcome> => {
        try {
          const session = this.mesh?.session(participant.id);
          if (session === undefined) throw new RoomError('PARTICIPANT_LEFT', `participant ${participant.id} has no open link`);
          await session.send(header, attachment);
          return { participantId: participant.id, participant, ok: true };
        } catch (error) {
          const roomError = error instanceof RoomError ? error : new RoomError('PARTICIPANT_LEFT', String(error), { cause: error });
          return { participantId: participant.id, participant, ok: false, error: roomError };
        }
      }),
    );
  }

  /** @internal Called by the RoomClient when the room closes. */
  async _close(error: RoomError): Promise<void> {
    if (this.state !== 'disabled' && this.state !== 'disabling') await this.shutdown(error, false);
    this.removeAllListeners();
  }

  /** @internal Whether messaging should be enabled again when the room resumes. */
  get _wantsMessaging(): boolean {
    return this.state === 'enabled' || this.state === 'enabling';
  }

  /** @internal Server pushes, routed here by the RoomClient. A known participant announced again is back. */
  _participantEnabled(info: ParticipantInfo): void {
    if (this.mesh === undefined) return;
    const participant = this.known.get(info.id);
    if (participant === undefined) return this.introduce(info);
    this.update(participant, info);
    this.mesh.markBack(info.id);
  }

  /** @internal */
  _participantRemoved(id: string, reason: RemovalReason): void {
    if (!this.known.has(id)) return;
    // A dropped connection is not a departure: the participant stays while its link answers.
    if (reason === 'disconnected' && this.mesh?.has(id) === true) return this.mesh.markAway(id);
    this.drop(id, new RoomError('PARTICIPANT_LEFT', `participant ${id} ${reason === 'disabled' ? 'disabled messaging' : 'left the room'}`));
  }

  /** @internal */
  _participantUpdated(info: ParticipantInfo): void {
    const participant = this.known.get(info.id);
    if (participant !== undefined) this.update(participant, info);
  }

  /** @internal */
  _signal(envelope: SignalEnvelope): void {
    if (!this.isBanned(envelope.from)) this.mesh?.handleSignal(envelope);
  }

  /** @internal A relayed frame; Socket.IO hands browsers an ArrayBuffer and Node a Buffer. */
  _relay(from: string, sid: string, data: Uint8Array | ArrayBuffer): void {
    const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : undefined;
    if (bytes === undefined || typeof from !== 'string' || typeof sid !== 'string') return this.context.logger.debug({ from }, 'malformed relay event dropped');
    if (!this.isBanned(from)) this.mesh?.handleRelay(from, sid, bytes);
  }

  private isBanned(peerId: string): boolean {
    const until = this.banned.get(peerId);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.banned.delete(peerId);
    return false;
  }

  /** @internal Our connection to the service dropped. */
  _signalingLost(): void {
    this.mesh?.signalingLost();
  }

  /**
   * @internal The room rejoined after a reconnection; `participants` are those the service
   * lists now. Known ones not listed have not come back yet (or are gone): they stay while
   * their links answer. New ones are linked to as after enable().
   */
  _resumed(participants: ParticipantInfo[]): void {
    if (this.mesh === undefined) return;
    const listed = new Set<string>();
    for (const info of participants) {
      listed.add(info.id);
      const participant = this.known.get(info.id);
      if (participant === undefined) this.introduce(info);
      else {
        this.update(participant, info);
        this.mesh.markBack(info.id);
      }
    }
    for (const id of [...this.known.keys()]) if (!listed.has(id)) this._participantRemoved(id, 'disconnected');
  }

  /** @internal Test hook: breaks the direct link to `id` as a network failure would; false if there is none. */
  _breakLink(id: string): boolean {
    return this.mesh?.breakLink(id) ?? false;
  }

  private introduce(info: ParticipantInfo): void {
    if (this.isBanned(info.id)) return this.settle(info.id);
    const participant = this.objects.get(info.id) ?? new RemoteParticipant(info.id, info);
    participant._apply(info);
    this.objects.set(info.id, participant);
    this.known.set(info.id, participant);
    this.unreachable.delete(info.id);
    this.mesh?.connect(info.id);
  }

  private update(participant: RemoteParticipant, info: ParticipantInfo): void {
    if (JSON.stringify(participant.attributes) === JSON.stringify(info.attributes) && participant.role === info.role) return;
    participant._apply(info);
    if (this.present.has(info.id)) this.emit('participant_attributes_updated', participant);
  }

  private async doEnable(): Promise<void> {
    const signaling = this.context.signaling();
    if (signaling instanceof RoomError) throw signaling;
    this.state = 'enabling';
    try {
      const rtc = await resolveRtc(this.context.rtc);
      this.mesh = new Mesh({
        rtc,
        rtcConfig: { ...this.context.rtcConfig, iceServers: this.context.iceServers() },
        tunables: this.context.tunables,
        logger: this.context.logger,
        relayAllowed: this.context.relay,
        signaling,
        localId: this.context.localId(),
        relayFrameBytes: () => relayPacketBytesFor(this.context.serviceLimits()?.maxPayloadBytes ?? Number.POSITIVE_INFINITY),
        events: {
          open: (peerId) => this.linkOpened(peerId),
          confirmed: (peerId) => this.settle(peerId),
          closed: (peerId, reason, detail) => this.linkClosed(peerId, reason, detail),
          path: (peerId, kind) => this.known.get(peerId)?._setLink(kind),
          message: (peerId, message) => this.deliver(peerId, message),
          violation: (peerId, reason) => {
            this.droppedFrames++;
            this.violations.record(peerId, reason);
          },
        },
      });
      const { participants } = await signaling.request('messaging:enable');
      const settled = participants.map((info) => new Promise<void>((resolve) => this.settleWaiters.set(info.id, resolve)));
      for (const info of participants) this.introduce(info);
      await Promise.all(settled);
    } catch (error) {
      if (this.state === 'enabling') await this.shutdown(new RoomError('NOT_ENABLED', 'enabling messaging failed'), false);
      throw error;
    }
    if (this.state !== 'enabling') {
      throw new RoomError('NOT_ENABLED', 'messaging was disabled, or the room closed, before enable() finished');
    }
    this.state = 'enabled';
    this.emit('messaging_enabled');
  }

  private async shutdown(error: RoomError, tellService: boolean): Promise<void> {
    const wasEnabled = this.state === 'enabled';
    this.state = 'disabling';
    const mesh = this.mesh;
    this.mesh = undefined;
    const notify = async (): Promise<void> => {
      const signaling = this.context.signaling();
      if (!tellService || signaling instanceof RoomError) return;
      await signaling.request('messaging:disable').catch((cause: unknown) => {
        this.context.logger.warn({ cause }, 'could not tell the service that messaging is disabled');
      });
    };
    await Promise.all([mesh?.closeAll(error), notify()]);
    const removed = [...this.present.values()];
    this.present.clear();
    this.known.clear();
    this.objects.clear();
    this.unreachable.clear();
    this.violations.clear();
    for (const resolve of this.settleWaiters.values()) resolve();
    this.settleWaiters.clear();
    this.state = 'disabled';
    for (const participant of removed) {
      participant._setOnline(false);
      this.emit('participant_removed', participant);
    }
    if (wasEnabled) this.emit('messaging_disabled');
  }

  private linkOpened(peerId: string): void {
    const participant = this.known.get(peerId);
    if (participant === undefined || this.present.has(peerId)) return;
    this.present.set(peerId, participant);
    participant._setOnline(true);
    this.emit('participant_added', participant);
  }

  private linkClosed(peerId: string, reason: LinkCloseReason, detail: string): void {
    if (reason === 'hostile') {
      this.hostilePeers++;
      this.banned.set(peerId, Date.now() + this.context.tunables.hostileBanMs);
      this.context.logger.warn({ peerId, detail, banMs: this.context.tunables.hostileBanMs }, 'participant cut off as hostile');
    } else if (reason === 'timeout') {
      this.context.logger.warn({ peerId, detail }, 'participant unreachable: no path could be opened');
    } else if (reason === 'failed') {
      this.context.logger.info({ peerId, detail }, 'participant given up: no path left');
    }
    const known = this.known.has(peerId);
    this.drop(peerId, new RoomError('PARTICIPANT_LEFT', `the link to participant ${peerId} closed (${detail})`));
    // Still in the room as far as the service knows, but no path: sends say so until it leaves.
    if (reason === 'timeout' && known) this.unreachable.set(peerId, detail);
    if (reason === 'hostile') this.unreachable.set(peerId, `cut off as hostile: ${detail}`);
  }

  private drop(peerId: string, error: RoomError): void {
    this.unreachable.delete(peerId);
    this.mesh?.remove(peerId, error);
    const participant = this.present.get(peerId);
    this.known.delete(peerId);
    this.present.delete(peerId);
    this.settle(peerId);
    if (participant !== undefined) {
      participant._setOnline(false);
      this.emit('participant_removed', participant);
    }
  }

  private settle(peerId: string): void {
    const resolve = this.settleWaiters.get(peerId);
    this.settleWaiters.delete(peerId);
    resolve?.();
  }

  private deliver(peerId: string, message: AssembledMessage): void {
    const from = this.present.get(peerId);
    if (from === undefined) return;
    this.emit('message', {
      fromParticipantId: peerId,
      from,
      type: message.type,
      message: message.message as JsonObject,
      attachment: message.attachment,
      broadcast: message.broadcast,
    });
  }

  private assertEnabled(): void {
    const signaling = this.context.signaling();
    if (signaling instanceof RoomError && signaling.code !== 'SIGNALING_FAILED') throw signaling;
    if (this.state !== 'enabled') throw new RoomError('NOT_ENABLED', 'call room.messaging.enable() and wait for it before sending');
  }

  /** Validates a send's arguments and encodes them once (a broadcast shares the bytes among recipients). */
  private prepare(options: BroadcastMessageOptions, broadcast: boolean): { header: Uint8Array; attachment: Uint8Array } {
    const { type, message, attachment } = options as { type: unknown; message: unknown; attachment?: unknown };
    const problem = checkType(type) ?? checkMessageBody(message);
    if (problem !== undefined) throw problem;
    const { maxAttachmentBytes, maxJsonBytes } = this.context.tunables;
    const size = attachment instanceof ArrayBuffer ? attachment.byteLength : ArrayBuffer.isView(attachment) ? attachment.byteLength : 0;
    if (size > maxAttachmentBytes) {
      throw new RoomError('MESSAGE_TOO_LARGE', `attachment of ${size} bytes exceeds maxAttachmentBytes (${maxAttachmentBytes}); raise the option on both sides or send less`);
    }
    const header = encodeHeader({ type: type as string, message: message as JsonObject, broadcast });
    if (header.length > maxJsonBytes) {
      throw new RoomError('MESSAGE_TOO_LARGE', `message JSON of ${header.length} bytes exceeds maxJsonBytes (${maxJsonBytes}); move bulk data into the attachment`);
    }
    const bytes = attachmentBytes(attachment);
    if (bytes instanceof RoomError) throw bytes;
    return { header, attachment: bytes };
  }
}
