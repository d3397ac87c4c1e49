/**
 * `room.messaging`: the MessagingClient of the Room API. Presence here is the set of
 * participants a message can be delivered to: someone the service reports as enabled
 * enters it (`participant_added`) once its data channel is open, and leaves it
 * (`participant_removed`) when it disables, leaves, or its link dies.
 */
import { RoomError, type ErrorCode } from '../protocol/errors.js';
import type { JsonObject } from '../protocol/json.js';
import { relayPacketBytesFor } from '../protocol/limits.js';
import { TypedEmitter } from './emitter.js';
import { registerControl, type MessagingContext, type MessagingEvents } from './messaging-context.js';
import { IncomingTransfers } from './incoming.js';
import { Mesh, type LinkCloseReason } from './mesh.js';
import { messageStream } from './message-stream.js';
import {
  OPTION_KEYS,
  type BroadcastMessageOptions,
  type BroadcastOutcome,
  type IncomingMessage,
  type IncomingOf,
  type IncomingAbortReason,
  type MessageType,
  type MessagesOptions,
  type OutgoingBody,
  type Reply,
  type ReplyBody,
  type RequestHandler,
  type TypedRequestHandler,
  type RequestOptions,
  type SendMessageOptions,
  type SendProgress,
  type UntypedMessages,
} from './messages.js';
import { Presence } from './presence.js';
import { LocalParticipant, RemoteParticipant } from './participant.js';
import { Requests } from './requests.js';
import { resolveRtc } from './rtc.js';
import type { SendControl } from './peer/session.js';
import { attachmentBytes, checkControls, checkKeys, checkMessageBody, checkType, describeValue, isDelivery, isPlainObject } from './validate.js';
import { ViolationLog } from './violation-log.js';
import { DELIVERIES, MAX_DATAGRAM_BYTES, encodeHeader, type Delivery, type MessageHeader } from './wire/codec.js';
import type { AssembledMessage, IncomingProgress } from './wire/reassembler.js';
import type { DatagramCounts } from './wire/datagrams.js';
import { deriveRoomKey } from './trust/passphrase.js';
import { Trust } from './trust/trust.js';


type State = 'disabled' | 'enabling' | 'enabled' | 'disabling';

/** Codes meaning the recipient is not there: what `ignoreOffline` turns into success. */
const OFFLINE: ReadonlySet<ErrorCode> = new Set(['PARTICIPANT_NOT_FOUND', 'PARTICIPANT_LEFT']);

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

type Checked = Record<string, unknown> & { signal?: AbortSignal | undefined };

export class MessagingClient<M extends object = UntypedMessages, R extends object = UntypedMessages> extends TypedEmitter<MessagingEvents<M>> {
  private state: State = 'disabled';
  private mesh: Mesh | undefined;
  private enabling: Promise<void> | undefined;
  private readonly presence: Presence;
  private droppedFrames = 0;
  private hostilePeers = 0;
  /** Peers that failed authentication since this client was created. */
  private unauthenticatedPeers = 0;
  /** Each participant's identity key as first proved (hex, by id), for the life of this client: a key may not change across disable and enable either. */
  private readonly provenKeys = new Map<string, string>();
  /** The room key from the passphrase (derived once, at the first enable). */
  private roomKey: Promise<Uint8Array> | undefined;
  private readonly violations: ViolationLog;
  private readonly requests: Requests;
  /** While enabled: the service's presence pushes, subscribed to directly. */
  private unsubscribe: Array<() => void> = [];
  /** Names found ambiguous (and warned about once). */
  private readonly ambiguousNames = new Set<string>();
  /** Large incoming messages under way, so that each ends with its message or `incoming_aborted`. */
  private readonly transfers = new IncomingTransfers();
  /** The ends of open `messages()` iterations. */
  private readonly streamEnds = new Set<() => void>();
  /** How each type is sent when a send names no `delivery` (setDelivery). */
  private readonly deliveries = new Map<string, Delivery>();

  /** @internal */
  constructor(private readonly context: MessagingContext) {
    super();
    this.violations = new ViolationLog(context.logger);
    this.presence = new Presence(context.tunables.hostileBanMs);
    this.requests = new Requests({ send: (peerId, header, attachment) => this.deliverTo(peerId, header, attachment, {}, 'reliable', ''), logger: context.logger, describe: (id) => this.presence.describe(id) });
    const { presence } = this;
    presence.on('participant_added', (p) => this.emit('participant_added', p));
    presence.on('participant_removed', (p) => {
      this.requests.peerGone(p.id, new RoomError('PARTICIPANT_LEFT', `${this.presence.describe(p.id)} left before replying`));
      for (const event of this.transfers.senderGone(p.id, 'sender_left')) this.emit('incoming_aborted', event);
      this.emit('participant_removed', p);
    });
    presence.on('participant_attributes_updated', (p) => this.emit('participant_attributes_updated', p));
    presence.on('participant_link_changed', (p) => this.emit('participant_link_changed', p));
    presence.on('connect', (id) => this.mesh?.connect(id));
    presence.on('back', (id) => this.mesh?.markBack(id));
    presence.on('away', (id, silent) => this.mesh?.markAway(id, silent));
    presence.on('drop', (id, error) => this.mesh?.remove(id, error));
    presence.on('hostile', (id, detail) => {
      this.hostilePeers++;
      context.logger.warn({ peerId: id, detail, banMs: context.tunables.hostileBanMs }, 'participant cut off as hostile');
    });
    presence.on('unauthenticated', (id, detail) => {
      this.unauthenticatedPeers++;
      context.logger.warn({ peerId: id, detail, banMs: context.tunables.hostileBanMs }, 'participant failed authentication: nothing is delivered to or from it');
      this.emit('peer_authentication_failed', { participantId: id, name: this.presence.nameOf(id), reason: detail });
    });
    const wanted = (): boolean => this.state === 'enabled' || this.state === 'enabling';
    registerControl(this, {
      close: async (error) => {
        if (this.state !== 'disabled' && this.state !== 'disabling') await this.shutdown(error, false);
        this.endStreams();
        this.removeAllListeners();
      },
      get wantsMessaging() {
        return wanted();
      },
      signalingLost: () => this.mesh?.signalingLost(),
      resumed: (participants) => {
        const mesh = this.mesh;
        if (mesh !== undefined) this.presence.handleResumed(participants, (id) => mesh.has(id));
      },
      breakLink: (id) => this.mesh?.breakLink(id) ?? false,
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

  /**
   * The participant whose `name` attribute is `name`. Names are not unique (a service without
   * tokens admits anyone under any name): with several, this returns the one listed first and
   * logs a warning once per name; getParticipantsByName() returns them all.
   */
  getParticipantByName(name: string): RemoteParticipant | undefined {
    const named = this.presence.byName(name);
    if (named.length > 1 && !this.ambiguousNames.has(name)) {
      this.ambiguousNames.add(name);
      this.context.logger.warn({ name, ids: named.map((p) => p.id) }, `${named.length} participants are named "${name}": getParticipantByName() returned the one listed first; getParticipantsByName() returns them all`);
    }
    return named[0];
  }

  /** Every participant whose `name` attribute is `name`, in the order they were listed. */
  getParticipantsByName(name: string): RemoteParticipant[] {
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
   * Participants listed, how many of them are relayed; bytes of sends awaiting receipts and
   * bytes held for unfinished incoming messages; and since this client was created, frames
   * dropped because a peer broke the protocol, peers cut off as hostile, and peers that failed
   * authentication (`unauthenticatedPeers`); and, since messaging
   * was enabled, what became of the lossy and latest messages sent (`datagrams`: written to a path
   * (unordered ones each time), superseded by a newer latest value, dropped unwritten).
   */
  stats(): { participants: number; relayed: number; queuedOutgoingBytes: number; pendingIncomingBytes: number; droppedFrames: number; hostilePeers: number; unauthenticatedPeers: number; datagrams: DatagramCounts } {
    let relayed = 0;
    for (const participant of this.presence.list()) if (participant.link === 'relayed') relayed++;
    const bytes = this.mesh?.bytes() ?? { outgoing: 0, incoming: 0 };
    return {
      participants: this.presence.size,
      relayed,
      queuedOutgoingBytes: bytes.outgoing,
      pendingIncomingBytes: bytes.incoming,
      droppedFrames: this.droppedFrames,
      hostilePeers: this.hostilePeers,
      unauthenticatedPeers: this.unauthenticatedPeers,
      datagrams: this.mesh?.datagramCounts() ?? { written: 0, superseded: 0, dropped: 0 },
    };
  }

  /** Who this participant trusts (trust/trust.ts); the passphrase's key is derived once, at the first enable (PBKDF2: some 100 ms to seconds). */
  private async trust(): Promise<Trust> {
    const { passphrase, room, identity, pinned, issuerKey, token } = this.context;
    if (passphrase !== undefined) this.roomKey ??= deriveRoomKey(passphrase, room);
    const roomKey = await this.roomKey;
    return new Trust({
      identity,
      room,
      pinned,
      token,
      ...(roomKey === undefined ? {} : { roomKey }),
      ...(issuerKey === undefined ? {} : { issuerKey }),
      authenticated: (peerId, fingerprint) => this.presence.handleAuthenticated(peerId, fingerprint),
      keyBanned: (fingerprint) => this.presence.keyBanned(fingerprint),
    }, this.provenKeys);
  }

  /** Disables messaging: tells the others at once, closes every link. Sends still pending reject with NOT_ENABLED. */
  async disable(): Promise<void> {
    if (this.state === 'disabled' || this.state === 'disabling') return;
    await this.shutdown(new RoomError('NOT_ENABLED', 'messaging was disabled before the message was delivered'), true);
  }

  /**
   * Sends to one participant; resolves once its client has the whole message. With a
   * message map, `type` and `message` are checked against it; without one, `message` may be
   * any JSON-safe object (interfaces included).
   */
  async sendMessage<K extends MessageType<M>, T extends object = never>(options: SendMessageOptions<K, OutgoingBody<M, K, T>>): Promise<void> {
    const checked = this.checkCall(options, 'sendMessage', OPTION_KEYS.sendMessage);
    const delivery = this.deliveryOf(checked);
    const { header, attachment } = this.prepare(checked, { broadcast: false }, delivery);
    try {
      const id = this.present(this.recipient(checked.to));
      await this.deliverTo(id, header, attachment, this.sendControl(checked, header.length + attachment.length), delivery, checked['type'] as string);
    } catch (error) {
      if (checked['ignoreOffline'] === true && error instanceof RoomError && OFFLINE.has(error.code)) return;
      throw error;
    }
  }

  /**
   * `sendMessage` without waiting: returns at once and never throws or rejects. A failure
   * (bad input included) is emitted as `error`, or logged when nobody listens.
   */
  sendMessageNowait<K extends MessageType<M>, T extends object = never>(options: SendMessageOptions<K, OutgoingBody<M, K, T>>): void {
    this.sendMessage(options).catch((error: unknown) => {
      const roomError = error instanceof RoomError ? error : new RoomError('INVALID_ARGUMENT', String(error), { cause: error });
      const { type, to } = (isPlainObject(options) ? options : {}) as { type?: unknown; to?: unknown };
      const context = { call: 'sendMessageNowait' as const, type: String(type), to: to instanceof RemoteParticipant ? to.id : String(to) };
      if (this.hasListeners('error')) this.emit('error', roomError, context);
      else this.context.logger.warn({ ...context, code: roomError.code, reason: roomError.message }, 'sendMessageNowait failed');
    });
  }

  /** Sends to every participant in the presence list (never back to this one); resolves with each recipient's outcome. */
  async broadcastMessage<K extends MessageType<M>, T extends object = never>(options: BroadcastMessageOptions<K, OutgoingBody<M, K, T>>): Promise<BroadcastOutcome[]> {
    const checked = this.checkCall(options, 'broadcastMessage', OPTION_KEYS.broadcastMessage);
    const delivery = this.deliveryOf(checked);
    const { header, attachment } = this.prepare(checked, { broadcast: true }, delivery);
    this.assertEnabled();
    if (checked.signal?.aborted === true) throw new RoomError('ABORTED', 'the broadcast was aborted before it started');
    const recipients = this.presence.list();
    const size = header.length + attachment.length;
    // Each recipient's bytes written so far, and their sum (kept as it changes, not re-added per packet).
    const sent = recipients.map(() => 0);
    let sentBytes = 0;
    const onProgress = checked.onProgress as ((progress: SendProgress) => void) | undefined;
    return Promise.all(
      recipients.map(async (participant, index): Promise<BroadcastOutcome> => {
        const control: SendControl = { signal: checked.signal };
        if (onProgress !== undefined) {
          control.onProgress = (written) => {
            sentBytes += written - (sent[index] ?? 0);
            sent[index] = written;
            onProgress({ sentBytes, totalBytes: size * recipients.length });
          };
        }
        try {
          await this.deliverTo(participant.id, header, attachment, control, delivery, checked['type'] as string);
          return { participantId: participant.id, participant, ok: true };
        } catch (error) {
          const roomError = error instanceof RoomError ? error : new RoomError('PARTICIPANT_LEFT', String(error), { cause: error });
          return { participantId: participant.id, participant, ok: false, error: roomError };
        }
      }),
    );
  }

  /**
   * Asks one participant and resolves with its reply: what its handler for `type` returned.
   * A handler that throws: REQUEST_FAILED with its message; none for the type: NO_HANDLER;
   * no reply within `timeoutMs` (30 s by default): TIMEOUT.
   */
  async request<K extends MessageType<M>, T extends object = never>(options: RequestOptions<K, OutgoingBody<M, K, T>>): Promise<Reply<ReplyBody<R, K>>> {
    const checked = this.checkCall(options, 'request', OPTION_KEYS.request);
    const number = this.requests.number();
    const { header, attachment } = this.prepare(checked, { broadcast: false, request: number });
    const id = this.present(this.recipient(checked.to));
    const timeoutMs = (checked['timeoutMs'] as number | undefined) ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (checked.signal?.aborted === true) throw new RoomError('ABORTED', 'the request was aborted before it was sent');
    const reply = this.requests.open(id, number, checked.type as string, timeoutMs, checked.signal);
    this.deliverTo(id, header, attachment, { signal: checked.signal }, 'reliable', '').catch((error: unknown) => {
      this.requests.fail(id, number, error instanceof RoomError ? error : new RoomError('PARTICIPANT_LEFT', String(error), { cause: error }));
    });
    return reply as Promise<Reply<ReplyBody<R, K>>>;
  }

  /**
   * Answers requests of `type`: the handler's result (or resolved value) `{ message, attachment? }`
   * is the reply, nothing an empty one; a thrown error reaches the caller as REQUEST_FAILED.
   * One handler per type; returns the function that removes it.
   */
  onRequest<K extends MessageType<M>>(type: K, handler: TypedRequestHandler<M, R, K>): () => void {
    const problem = checkType(type);
    if (problem !== undefined) throw new RoomError('INVALID_ARGUMENT', `onRequest: ${problem.message}`);
    if (typeof handler !== 'function') throw new RoomError('INVALID_ARGUMENT', 'onRequest(type, handler): `handler` must be a function');
    return this.requests.handle(type, handler as unknown as RequestHandler); // the map is types only: what arrives is not checked against it
  }

  /**
   * Received messages (of `type`, if given) as an async iterable, from now on. It ends when
   * messaging is disabled, the room closes, or `signal` fires; created while messaging is
   * disabled, it has already ended. Messages wait in it until read.
   */
  messages<K extends MessageType<M> = MessageType<M>>(options: MessagesOptions<K> = {}): AsyncIterableIterator<IncomingOf<M, K>> {
    const given: unknown = options;
    if (!isPlainObject(given)) throw new RoomError('INVALID_ARGUMENT', 'messages() takes { type?, signal? }');
    const problem = checkKeys(given, OPTION_KEYS.messages, 'messages()') ?? checkControls(given, 'messages()') ?? (options.type === undefined ? undefined : checkType(options.type));
    if (problem !== undefined) throw new RoomError('INVALID_ARGUMENT', problem.message);
    const { type } = options;
    return messageStream<IncomingOf<M, K>>(
      {
        subscribe: (push) => this.on('message', (m) => {
          if (type === undefined || m.type === type) push(m as IncomingOf<M, K>);
        }),
        onEnd: (end) => {
          this.streamEnds.add(end);
          return () => this.streamEnds.delete(end);
        },
      },
      options.signal,
      this.state === 'disabled' || this.state === 'disabling',
    );
  }

  private async doEnable(): Promise<void> {
    const signaling = this.context.signaling();
    if (signaling instanceof RoomError) throw signaling;
    this.state = 'enabling';
    try {
      const rtc = await resolveRtc(this.context.rtc);
      const trust = await this.trust();
      this.mesh = new Mesh({
        rtc,
        rtcConfig: { ...this.context.rtcConfig, iceServers: this.context.iceServers() },
        tunables: this.context.tunables,
        logger: this.context.logger,
        relayAllowed: this.context.relay,
        signaling,
        accepts: (peerId) => !this.presence.isBanned(peerId),
        localId: this.context.localId(),
        describe: (peerId) => this.presence.describe(peerId),
        trust,
        nameOf: (peerId) => this.presence.nameOf(peerId),
        relayFrameBytes: () => relayPacketBytesFor(this.context.serviceLimits()?.maxPayloadBytes ?? Number.POSITIVE_INFINITY),
        events: {
          open: (peerId) => this.presence.handleLinkOpened(peerId),
          confirmed: (peerId) => this.presence.handleConfirmed(peerId),
          closed: (peerId, reason, detail) => this.linkClosed(peerId, reason, detail),
          path: (peerId, kind) => this.presence.handlePath(peerId, kind),
          route: (peerId, route) => this.presence.handleRoute(peerId, route),
          message: (peerId, message) => this.deliver(peerId, message),
          progress: (peerId, progress) => this.progressed(peerId, progress, undefined),
          aborted: (peerId, progress) => this.progressed(peerId, progress, 'cancelled'),
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
      await this.presence.introduceAll(participants, (id) => mesh.answered(id), this.context.tunables.enableWaitMs);
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
    const unfinished = this.transfers.all('disabled');
    this.violations.clear();
    this.requests.closeAll(error);
    this.state = 'disabled';
    this.endStreams();
    for (const event of unfinished) this.emit('incoming_aborted', event);
    for (const participant of removed) this.emit('participant_removed', participant);
    if (wasEnabled) this.emit('messaging_disabled');
  }

  private linkClosed(peerId: string, reason: LinkCloseReason, detail: string): void {
    if (reason === 'timeout') this.context.logger.warn({ peerId, detail }, 'participant unreachable: no path could be opened');
    else if (reason === 'failed') this.context.logger.info({ peerId, detail }, 'participant given up: no path left');
    this.presence.handleLinkClosed(peerId, reason, detail);
  }

  private endStreams(): void {
    const ends = [...this.streamEnds];
    this.streamEnds.clear();
    for (const end of ends) end();
  }

  private deliver(peerId: string, message: AssembledMessage): void {
    const from = this.presence.get(peerId);
    if (from === undefined) return;
    if (message.delivery === undefined) this.transfers.finished(peerId, `${message.lane}:${message.id}`);
    if (message.request !== undefined) return this.requests.handleRequest(from, message);
    if (message.replyTo !== undefined) return this.requests.handleReply(from, message);
    this.emit('message', {
      fromParticipantId: peerId,
      from,
      type: message.type,
      message: message.message as JsonObject,
      attachment: message.attachment,
      broadcast: message.broadcast,
      messageId: message.delivery === undefined ? `${message.lane}:${message.id}` : `${message.delivery === 'unordered' ? 'u' : 'd'}:${message.id}`,
      delivery: message.delivery ?? 'reliable',
    } as IncomingMessage<M>);
  }

  /** More of a large incoming message arrived; or, with a reason, it will never complete. */
  private progressed(peerId: string, progress: IncomingProgress, aborted: IncomingAbortReason | undefined): void {
    const from = this.presence.get(peerId);
    if (from === undefined) return;
    const { type, lane, id, receivedBytes, totalBytes } = progress;
    const event = { fromParticipantId: peerId, from, type, messageId: `${lane}:${id}`, receivedBytes, totalBytes };
    if (aborted === undefined) {
      if (this.transfers.progress(event)) this.emit('incoming_progress', event);
    } else {
      this.transfers.finished(peerId, event.messageId);
      this.emit('incoming_aborted', { ...event, reason: aborted });
    }
  }

  private assertEnabled(): void {
    const signaling = this.context.signaling();
    if (signaling instanceof RoomError && signaling.code !== 'SIGNALING_FAILED') throw signaling;
    // While enable() is under way, the participants already listed can be sent to: the list never promises more than the links deliver.
    if (this.state !== 'enabled' && this.state !== 'enabling') throw new RoomError('NOT_ENABLED', 'call room.messaging.enable() before sending');
  }

  /** The options object of `call`: a plain object, with only the keys it takes and well-formed controls. */
  private checkCall(options: unknown, call: string, keys: readonly string[]): Checked {
    if (!isPlainObject(options)) throw new RoomError('INVALID_MESSAGE', `${call} takes an options object { ${keys.join(', ')} }, not ${describeValue(options)}`);
    const problem = checkKeys(options, keys, call) ?? checkControls(options, call);
    if (problem !== undefined) throw problem;
    return options as Checked;
  }

  /** The id `to` names, or a RoomError saying what is wrong with it. */
  private recipient(to: unknown): string {
    if (to === undefined) throw new RoomError('INVALID_MESSAGE', '`to` is undefined: pass a participant (from getParticipants() or getParticipantByName()) or its id');
    if (to instanceof LocalParticipant || (typeof to === 'string' && to.length > 0 && to === this.context.localId())) {
      throw new RoomError('INVALID_MESSAGE', '`to` is this participant itself: a client does not send to itself (a broadcast skips it too)');
    }
    const id = to instanceof RemoteParticipant ? to.id : to;
    if (typeof id !== 'string' || id.length === 0) throw new RoomError('INVALID_MESSAGE', `\`to\` must be a participant or a participant id, not ${describeValue(to)}`);
    return id;
  }

  /** `id`, if it is in the presence list; else a RoomError saying why not, and what to pass instead. */
  private present(id: string): string {
    this.assertEnabled();
    if (this.presence.get(id) !== undefined) return id;
    const why = this.presence.unreachableBecause(id);
    if (why !== undefined) throw new RoomError(why.code, `${this.presence.describe(id)} is in the room but cannot be reached: ${why.detail}`);
    if (this.presence.byName(id).length > 0) {
      throw new RoomError('INVALID_MESSAGE', `\`to\` is ${JSON.stringify(id)}, a participant's name, not its id: pass room.messaging.getParticipantByName(${JSON.stringify(id)})`);
    }
    throw new RoomError(
      'PARTICIPANT_NOT_FOUND',
      `${this.presence.describe(id)} is not in this room's presence list (left, or never joined); \`to\` takes a participant or its id (to find one by name, use getParticipantByName())`,
    );
  }

  /**
   * Sets how messages of `type` travel when a send names no `delivery` (README, "Cursors and
   * game state"); `'reliable'` restores the default. Requests and replies are always reliable.
   */
  setDelivery<K extends MessageType<M>>(type: K, delivery: Delivery): void {
    const problem = checkType(type) ?? (isDelivery(delivery) ? undefined : new RoomError('INVALID_ARGUMENT', `setDelivery: \`delivery\` must be one of ${DELIVERIES.map((d) => `'${d}'`).join(', ')}, not ${describeValue(delivery)}`));
    if (problem !== undefined) throw problem;
    if (delivery === 'reliable') this.deliveries.delete(type);
    else this.deliveries.set(type, delivery);
  }

  /** How a send travels: its own `delivery`, else its type's (setDelivery), else reliable. */
  private deliveryOf(options: Checked): Delivery {
    const given = options['delivery'] as Delivery | undefined;
    return given ?? (typeof options['type'] === 'string' ? this.deliveries.get(options['type']) : undefined) ?? 'reliable';
  }

  /** Hands an encoded message to the session with `id`; resolves on its receipt (or, for a datagram, as its `delivery` says). */
  private deliverTo(id: string, header: Uint8Array, attachment: Uint8Array, control: SendControl, delivery: Delivery, type: string): Promise<void> {
    const session = this.mesh?.session(id);
    if (session === undefined) {
      return Promise.reject(this.presence.get(id) === undefined ? new RoomError('PARTICIPANT_NOT_FOUND', `${this.presence.describe(id)} is not in this room's presence list`) : new RoomError('PARTICIPANT_LEFT', `${this.presence.describe(id)} has no open link`));
    }
    if (delivery === 'reliable') return session.send(header, attachment, control);
    const size = header.length + attachment.length;
    const { onProgress } = control;
    return session.sendDatagram(delivery, type, header, attachment, { signal: control.signal, onWritten: onProgress === undefined ? undefined : () => queueMicrotask(() => onProgress(size, size)) });
  }

  private sendControl(options: Checked, size: number): SendControl {
    const onProgress = options.onProgress as ((progress: SendProgress) => void) | undefined;
    return { signal: options.signal, onProgress: onProgress === undefined ? undefined : (sentBytes) => onProgress({ sentBytes, totalBytes: size }) };
  }

  /** Validates a message's type, body and attachment and encodes them once (a broadcast shares the bytes among recipients). */
  private prepare(options: Checked, fields: Pick<MessageHeader, 'broadcast' | 'request'>, delivery: Delivery = 'reliable'): { header: Uint8Array; attachment: Uint8Array } {
    const { type, message, attachment } = options;
    const problem = checkType(type) ?? checkMessageBody(message);
    if (problem !== undefined) throw problem;
    const { maxAttachmentBytes, maxJsonBytes } = this.context.tunables;
    const size = attachment instanceof ArrayBuffer ? attachment.byteLength : ArrayBuffer.isView(attachment) ? attachment.byteLength : 0;
    if (size > maxAttachmentBytes) {
      throw new RoomError('MESSAGE_TOO_LARGE', `attachment of ${size} bytes exceeds maxAttachmentBytes (${maxAttachmentBytes}); raise the option on both sides or send less`);
    }
    const header = encodeHeader({ type: type as string, message: message as JsonObject, ...fields });
    if (header.length > maxJsonBytes) {
      throw new RoomError('MESSAGE_TOO_LARGE', `message JSON of ${header.length} bytes exceeds maxJsonBytes (${maxJsonBytes}); move bulk data into the attachment`);
    }
    const bytes = attachmentBytes(attachment);
    if (bytes instanceof RoomError) throw bytes;
    if (delivery !== 'reliable' && header.length + bytes.length > MAX_DATAGRAM_BYTES) {
      throw new RoomError('MESSAGE_TOO_LARGE', `a ${delivery} message travels whole in one packet: at most ${MAX_DATAGRAM_BYTES} bytes of JSON and attachment together, and this one has ${header.length + bytes.length}; send it reliable`);
    }
    return { header, attachment: bytes };
  }
}
