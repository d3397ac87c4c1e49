/**
 * `room.messaging`: the MessagingClient of the Room API. Presence here is the set of
 * participants a message can be delivered to: someone the service reports as enabled
 * enters it (`participant_added`) once its data channel is open, and leaves it
 * (`participant_removed`) when it disables, leaves, or its link dies.
 */
import { RoomError } from '../protocol/errors.js';
import type { JsonObject } from '../protocol/json.js';
import { relayPacketBytesFor, type ServiceLimits } from '../protocol/limits.js';
import type { IceServer, ParticipantInfo } from '../protocol/signaling.js';
import { TypedEmitter } from './emitter.js';
import { Mesh, type LinkCloseReason } from './mesh.js';
import { Presence } from './presence.js';
import type { Logger, RtcImplementation, RtcStackName, Tunables } from './options.js';
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
  rtc: RtcImplementation | RtcStackName | undefined;
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
  private readonly presence: Presence;
  private droppedFrames = 0;
  private hostilePeers = 0;
  private readonly violations: ViolationLog;
  /** While enabled: the service's presence pushes, subscribed to directly. */
  private unsubscribe: Array<() => void> = [];

  /** @internal */
  constructor(private readonly context: MessagingContext) {
    super();
    this.violations = new ViolationLog(context.logger);
    this.presence = new Presence(context.tunables.hostileBanMs);
    const { presence } = this;
    presence.on('participant_added', (p) => this.emit('participant_added', p));
    presence.on('participant_removed', (p) => this.emit('participant_removed', p));
    presence.on('participant_attributes_updated', (p) => this.emit('participant_attributes_updated', p));
    presence.on('connect', (id) => this.mesh?.connect(id));
    presence.on('back', (id) => this.mesh?.markBack(id));
    presence.on('away', (id) => this.mesh?.markAway(id));
    presence.on('drop', (id, error) => this.mesh?.remove(id, error));
    presence.on('hostile', (id, detail) => {
      this.hostilePeers++;
      context.logger.warn({ peerId: id, detail, banMs: context.tunables.hostileBanMs }, 'participant cut off as hostile');
    });
  }

  get enabled(): boolean {
    return this.state === 'enabled';
  }

  /** The participants a message can be delivered to (a fresh array). */
  get remoteParticipants(): RemoteParticipant[] {
    return this.presence.list();
  }

  getParticipants(): RemoteParticipant[] {
    return this.remoteParticipants;
  }

  getParticipant(id: string): RemoteParticipant | undefined {
    return this.presence.get(id);
  }

  /** The first participant whose `name` attribute is `name`. */
  getParticipantByName(name: string): RemoteParticipant | undefined {
    return this.presence.byName(name);
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
    for (const participant of this.presence.list()) if (participant.link === 'relayed') relayed++;
    return { participants: this.presence.size, relayed, droppedFrames: this.droppedFrames, hostilePeers: this.hostilePeers };
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
    if (this.presence.get(id) === undefined) {
      const why = this.presence.unreachableBecause(id);
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
    const recipients = this.presence.list();
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

  /** @internal Our connection to the service dropped. */
  _signalingLost(): void {
    this.mesh?.signalingLost();
  }

  /** @internal The room rejoined after a reconnection; `participants` are those the service lists now. */
  _resumed(participants: ParticipantInfo[]): void {
    const mesh = this.mesh;
    if (mesh !== undefined) this.presence.handleResumed(participants, (id) => mesh.has(id));
  }

  /** @internal Test hook: breaks the direct link to `id` as a network failure would; false if there is none. */
  _breakLink(id: string): boolean {
    return this.mesh?.breakLink(id) ?? false;
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
        accepts: (peerId) => !this.presence.isBanned(peerId),
        localId: this.context.localId(),
        relayFrameBytes: () => relayPacketBytesFor(this.context.serviceLimits()?.maxPayloadBytes ?? Number.POSITIVE_INFINITY),
        events: {
          open: (peerId) => this.presence.handleLinkOpened(peerId),
          confirmed: (peerId) => this.presence.handleConfirmed(peerId),
          closed: (peerId, reason, detail) => this.linkClosed(peerId, reason, detail),
          path: (peerId, kind) => this.presence.handlePath(peerId, kind),
          message: (peerId, message) => this.deliver(peerId, message),
          refused: (peerId, error) => this.context.logger.warn({ peerId, ...error }, 'refused a message from a peer'),
          violation: (peerId, reason) => {
            this.droppedFrames++;
            this.violations.record(peerId, reason);
          },
        },
      });
      // The service's presence pushes go straight to the presence manager while enabled.
      const mesh = this.mesh;
      this.unsubscribe = [
        signaling.on('participant:enabled', (info) => this.presence.handleEnabled(info)),
        signaling.on('participant:removed', ({ id, reason }) => this.presence.handleRemoved(id, reason, mesh.has(id))),
        signaling.on('participant:updated', (info) => this.presence.handleUpdated(info)),
      ];
      const { participants } = await signaling.request('messaging:enable');
      await this.presence.introduceAll(participants);
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
    for (const stop of this.unsubscribe.splice(0)) stop();
    await Promise.all([mesh?.closeAll(error), notify()]);
    const removed = this.presence.clear();
    this.violations.clear();
    this.state = 'disabled';
    for (const participant of removed) this.emit('participant_removed', participant);
    if (wasEnabled) this.emit('messaging_disabled');
  }

  private linkClosed(peerId: string, reason: LinkCloseReason, detail: string): void {
    if (reason === 'timeout') this.context.logger.warn({ peerId, detail }, 'participant unreachable: no path could be opened');
    else if (reason === 'failed') this.context.logger.info({ peerId, detail }, 'participant given up: no path left');
    this.presence.handleLinkClosed(peerId, reason, detail);
  }

  private deliver(peerId: string, message: AssembledMessage): void {
    const from = this.presence.get(peerId);
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
