/**
 * `room.messaging`: the MessagingClient of the Room API. Presence here is the set of
 * participants a message can be delivered to: someone the service reports as enabled
 * enters it (`participant_added`) once its data channel is open, and leaves it
 * (`participant_removed`) when it disables, leaves, or its link dies.
 */
import { RoomError } from '../protocol/errors.js';
import type { JsonObject } from '../protocol/json.js';
import type { IceServer, ParticipantInfo, SignalEnvelope } from '../protocol/signaling.js';
import { TypedEmitter } from './emitter.js';
import { Mesh, type LinkCloseReason } from './mesh.js';
import type { Logger, RtcImplementation, Tunables } from './options.js';
import { RemoteParticipant } from './participant.js';
import { resolveRtc } from './rtc.js';
import type { SignalClient } from './signal-client.js';
import { attachmentBytes, checkMessageBody, checkType, isPlainObject } from './validate.js';
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
  rtc: RtcImplementation | undefined;
  rtcConfig: Record<string, unknown>;
  tunables: Tunables;
  logger: Logger;
}

type State = 'disabled' | 'enabling' | 'enabled' | 'disabling';

export class MessagingClient extends TypedEmitter<MessagingEvents> {
  private state: State = 'disabled';
  private mesh: Mesh | undefined;
  private enabling: Promise<void> | undefined;
  /** Everyone the service reports as enabled, reachable or not yet. */
  private readonly known = new Map<string, RemoteParticipant>();
  /** The presence list: those a message can be delivered to, in the order they became reachable. */
  private readonly present = new Map<string, RemoteParticipant>();
  private droppedFrames = 0;
  /** Waiters for links opened or lost while `enable()` is in progress. */
  private readonly settleWaiters = new Map<string, () => void>();

  /** @internal */
  constructor(private readonly context: MessagingContext) {
    super();
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

  /** Counters since this client was created: frames and records dropped because a peer broke the protocol. */
  stats(): { participants: number; droppedFrames: number } {
    return { participants: this.present.size, droppedFrames: this.droppedFrames };
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
      throw new RoomError('PARTICIPANT_NOT_FOUND', `participant ${id} is not in this room's presence list (left, never joined, or not reachable)`);
    }
    const channel = this.mesh?.channel(id);
    if (channel === undefined) throw new RoomError('PARTICIPANT_LEFT', `participant ${id} has no open link`);
    return channel.send(header, attachment);
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
          const channel = this.mesh?.channel(participant.id);
          if (channel === undefined) throw new RoomError('PARTICIPANT_LEFT', `participant ${participant.id} has no open link`);
          await channel.send(header, attachment);
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

  /** @internal Server pushes, routed here by the RoomClient. */
  _participantEnabled(info: ParticipantInfo): void {
    if (this.mesh === undefined || this.known.has(info.id)) return;
    this.known.set(info.id, new RemoteParticipant(info.id, info));
    this.mesh.connect(info.id, false);
  }

  /** @internal */
  _participantRemoved(id: string, reason: string): void {
    if (!this.known.has(id)) return;
    this.drop(id, new RoomError('PARTICIPANT_LEFT', `participant ${id} ${reason === 'left' ? 'left the room' : 'disabled messaging'}`));
  }

  /** @internal */
  _participantUpdated(info: ParticipantInfo): void {
    const participant = this.known.get(info.id);
    if (participant === undefined) return;
    participant._apply(info);
    if (this.present.has(info.id)) this.emit('participant_attributes_updated', participant);
  }

  /** @internal */
  _signal(envelope: SignalEnvelope): void {
    this.mesh?.handleSignal(envelope);
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
        sendSignal: (request) => signaling.signal(request),
        events: {
          open: (peerId) => this.linkOpened(peerId),
          closed: (peerId, reason, detail) => this.linkClosed(peerId, reason, detail),
          message: (peerId, message) => this.deliver(peerId, message),
          violation: (peerId, reason) => {
            this.droppedFrames++;
            this.context.logger.warn({ peerId, reason }, 'dropped a malformed frame from a peer');
          },
        },
      });
      const { participants } = await signaling.request('messaging:enable');
      const settled = participants.map((info) => {
        this.known.set(info.id, new RemoteParticipant(info.id, info));
        return new Promise<void>((resolve) => this.settleWaiters.set(info.id, resolve));
      });
      for (const info of participants) this.mesh.connect(info.id, true);
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
    this.settle(peerId);
    this.emit('participant_added', participant);
  }

  private linkClosed(peerId: string, reason: LinkCloseReason, detail: string): void {
    if (reason === 'timeout') {
      this.context.logger.warn({ peerId, detail }, 'participant unreachable: no direct link could be opened');
    } else if (reason === 'failed') {
      this.context.logger.info({ peerId, detail }, 'link to participant lost');
    }
    this.drop(peerId, new RoomError('PARTICIPANT_LEFT', `the link to participant ${peerId} closed (${detail})`));
  }

  private drop(peerId: string, error: RoomError): void {
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
