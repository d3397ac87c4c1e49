/**
 * Request/response over the messaging lanes. A request is a message whose header carries
 * a number (`q`); its reply is a message naming that number (`r`), with the handler's body,
 * or its error (`e`): REQUEST_FAILED with the handler's message, NO_HANDLER when none is
 * registered for the type. Both travel like any message (ordered lanes, receipts, resends
 * across paths); this file only pairs replies with the requests waiting for them.
 */
import { RoomError, type ErrorPayload } from '../protocol/errors.js';
import type { JsonObject } from '../protocol/json.js';
import type { IncomingRequest, Reply, RequestHandler } from './messages.js';
import { OPTION_KEYS } from './messages.js';
import type { Logger } from './options.js';
import type { RemoteParticipant } from './participant.js';
import { attachmentBytes, checkKeys, checkMessageBody, isPlainObject } from './validate.js';
import { encodeHeader } from './wire/codec.js';
import type { AssembledMessage } from './wire/reassembler.js';

interface Waiter {
  type: string;
  resolve(reply: Reply): void;
  reject(error: RoomError): void;
}

/** The codes a reply may carry: a peer cannot make a request fail with any other. */
const REPLY_CODES = new Set(['REQUEST_FAILED', 'NO_HANDLER']);

export interface RequestsContext {
  /** Sends an encoded message to `peerId` (the reply), resolving on its receipt. */
  send(peerId: string, header: Uint8Array, attachment: Uint8Array): Promise<void>;
  logger: Logger;
  /** How errors name a participant (by name, with its id). */
  describe(peerId: string): string;
}

const key = (peerId: string, id: number): string => `${id} ${peerId}`;

export class Requests {
  private nextId = 1;
  private readonly waiting = new Map<string, Waiter>();
  private readonly handlers = new Map<string, RequestHandler>();

  constructor(private readonly context: RequestsContext) {}

  /** Registers the handler for requests of `type`; returns the function that removes it. */
  handle(type: string, handler: RequestHandler): () => void {
    if (this.handlers.has(type)) throw new RoomError('INVALID_ARGUMENT', `a handler for requests of type "${type}" is already registered; remove it first (onRequest returns its remover)`);
    this.handlers.set(type, handler);
    return () => {
      if (this.handlers.get(type) === handler) this.handlers.delete(type);
    };
  }

  /** A fresh request number (numbers are this client's, for its whole life). */
  number(): number {
    return this.nextId++;
  }

  /**
   * Request `id` to `peerId` is on its way: the promise of its reply, which rejects with
   * TIMEOUT after `timeoutMs`, ABORTED when `signal` fires, or whatever `fail()` is given.
   */
  open(peerId: string, id: number, type: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<Reply> {
    const k = key(peerId, id);
    const reply = new Promise<Reply>((resolve, reject) => {
      const done = (): void => {
        this.waiting.delete(k);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(new RoomError('ABORTED', `request "${type}" was aborted (its AbortSignal fired); a reply that still comes is dropped`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new RoomError('TIMEOUT', `no reply to request "${type}" from ${this.context.describe(peerId)} within ${timeoutMs} ms`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(k, {
        type,
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
    return reply;
  }

  /** The request could not be sent (or was refused): it fails with that error. */
  fail(peerId: string, id: number, error: RoomError): void {
    this.waiting.get(key(peerId, id))?.reject(error);
  }

  /** A reply arrived from `from`; one for no request of ours is dropped. */
  handleReply(from: RemoteParticipant, message: AssembledMessage): void {
    const waiter = message.replyTo === undefined ? undefined : this.waiting.get(key(from.id, message.replyTo));
    if (waiter === undefined) return this.context.logger.debug({ peerId: from.id, replyTo: message.replyTo }, 'a reply to no pending request dropped (late, or unasked)');
    const { error } = message;
    if (error === undefined) return waiter.resolve({ message: message.message as JsonObject, attachment: message.attachment, from });
    waiter.reject(new RoomError(REPLY_CODES.has(error.code) ? error.code : 'REQUEST_FAILED', error.message));
  }

  /** A request arrived: its handler's result (or failure) goes back as the reply. */
  handleRequest(from: RemoteParticipant, message: AssembledMessage): void {
    const { type, request } = message;
    if (request === undefined) return;
    const handler = this.handlers.get(type);
    if (handler === undefined) {
      return this.reply(from, type, request, {
        error: { code: 'NO_HANDLER', message: `the recipient has no handler for requests of type "${type}" (it registers one with room.messaging.onRequest("${type}", handler))` },
      });
    }
    const incoming: IncomingRequest = { type, message: message.message as JsonObject, attachment: message.attachment, from };
    const failed = (thrown: unknown): void => {
      const text = thrown instanceof Error ? thrown.message : String(thrown);
      this.reply(from, type, request, { error: { code: 'REQUEST_FAILED', message: text } });
    };
    const answer = (result: unknown): void => {
      const body = replyBody(result);
      if (!(body instanceof RoomError)) return this.reply(from, type, request, body);
      this.context.logger.warn({ type, reason: body.message }, 'a request handler returned an invalid reply');
      this.reply(from, type, request, { error: { code: 'REQUEST_FAILED', message: body.message } });
    };
    // A handler that answers at once is answered in this tick: the reply leaves in the same packet as the request's receipt.
    let result: unknown;
    try {
      result = handler(incoming);
    } catch (thrown) {
      return failed(thrown);
    }
    if (isThenable(result)) result.then(answer, failed);
    else answer(result);
  }

  /** Every waiting request to `peerId` fails with `error` (it left). */
  peerGone(peerId: string, error: RoomError): void {
    for (const [k, waiter] of [...this.waiting]) if (k.endsWith(` ${peerId}`)) waiter.reject(error);
  }

  /** Every waiting request fails with `error` (messaging is going away). */
  closeAll(error: RoomError): void {
    for (const waiter of [...this.waiting.values()]) waiter.reject(error);
  }

  private reply(to: RemoteParticipant, type: string, request: number, body: { message: JsonObject; attachment: Uint8Array } | { error: ErrorPayload }): void {
    const header = 'error' in body
      ? encodeHeader({ type, message: {}, broadcast: false, replyTo: request, error: body.error })
      : encodeHeader({ type, message: body.message, broadcast: false, replyTo: request });
    const attachment = 'error' in body ? new Uint8Array(0) : body.attachment;
    this.context.send(to.id, header, attachment).catch((error: unknown) => {
      if (error instanceof RoomError && error.code === 'MESSAGE_TOO_LARGE' && !('error' in body)) {
        return this.reply(to, type, request, { error: { code: 'REQUEST_FAILED', message: `the handler's reply is too large: ${error.message}` } });
      }
      // The asker left, or messaging stopped: expected, and a flood of requests must not flood the log.
      const expected = error instanceof RoomError && ['PARTICIPANT_LEFT', 'PARTICIPANT_NOT_FOUND', 'NOT_ENABLED', 'CLOSED', 'QUEUE_FULL'].includes(error.code);
      this.context.logger[expected ? 'debug' : 'warn']({ peerId: to.id, type, err: error }, 'could not deliver a reply to a request');
    });
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/** A handler's result as a reply's body: `{ message, attachment? }`, or nothing (an empty reply). */
function replyBody(result: unknown): { message: JsonObject; attachment: Uint8Array } | RoomError {
  if (result === undefined) return { message: {}, attachment: new Uint8Array(0) };
  if (!isPlainObject(result)) return new RoomError('INVALID_MESSAGE', 'a request handler must return { message, attachment? } or nothing');
  const problem = checkKeys(result, OPTION_KEYS.reply, 'a request handler\'s reply') ?? checkMessageBody(result['message']);
  if (problem !== undefined) return problem;
  const attachment = attachmentBytes(result['attachment']);
  if (attachment instanceof RoomError) return attachment;
  return { message: result['message'] as JsonObject, attachment };
}
