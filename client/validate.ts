/**
 * Checks of what users pass in, so that bad input is a clear INVALID_MESSAGE /
 * INVALID_ARGUMENT error before anything is sent, and nothing is silently changed by
 * JSON on the way (BigInt, functions, NaN, class instances, cycles).
 */
import { RoomError } from '../protocol/errors.js';
import { MAX_ATTRIBUTE_KEY_CHARS } from '../protocol/limits.js';
import { nearestName } from '../protocol/suggest.js';
import { DELIVERIES, MAX_TYPE_LENGTH, type Delivery } from './wire/codec.js';

/** Where `value` stops being plain JSON (a path and a reason), or undefined if it is. */
export function findNonJson(value: unknown, path = '$', seen = new Set<object>()): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot carry`;
    case 'object': {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path} is a circular reference`;
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            if (value[i] === undefined) return `${path}[${i}] is undefined, which JSON cannot carry in an array`;
            const problem = findNonJson(value[i], `${path}[${i}]`, seen);
            if (problem !== undefined) return problem;
          }
          return undefined;
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          return `${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}, not a plain object`;
        }
        for (const [key, item] of Object.entries(value)) {
          if (item === undefined) continue; // omitted, as JSON.stringify does for optional fields
          const problem = findNonJson(item, `${path}.${key}`, seen);
          if (problem !== undefined) return problem;
        }
        return undefined;
      } finally {
        seen.delete(value);
      }
    }
    default:
      return `${path} is a ${typeof value}, which JSON cannot carry`;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function checkType(type: unknown): RoomError | undefined {
  if (typeof type !== 'string' || type.length === 0) return new RoomError('INVALID_MESSAGE', '`type` must be a non-empty string');
  if (type.length > MAX_TYPE_LENGTH) return new RoomError('INVALID_MESSAGE', `\`type\` must be at most ${MAX_TYPE_LENGTH} characters`);
  return undefined;
}

export function checkMessageBody(message: unknown): RoomError | undefined {
  if (!isPlainObject(message)) return new RoomError('INVALID_MESSAGE', '`message` must be a plain JSON object, e.g. { text: "hi" }');
  const problem = findNonJson(message, 'message');
  return problem === undefined ? undefined : new RoomError('INVALID_MESSAGE', `\`message\` is not plain JSON: ${problem}`);
}

/**
 * The attachment's bytes as a Uint8Array view, without copying: they are read as packets
 * are built, like Node's `stream.write(buffer)`. A defensive copy cost a fresh allocation
 * the size of the attachment on every send, mostly in page faults (docs/performance.md, "Measurements behind the code").
 */
export function attachmentBytes(attachment: unknown): Uint8Array | RoomError {
  if (attachment === undefined) return new Uint8Array(0);
  if (attachment instanceof ArrayBuffer) return new Uint8Array(attachment);
  if (ArrayBuffer.isView(attachment)) return new Uint8Array(attachment.buffer, attachment.byteOffset, attachment.byteLength);
  return new RoomError('INVALID_MESSAGE', '`attachment` must be a Uint8Array, another ArrayBuffer view, or an ArrayBuffer');
}

export function checkAttributes(attributes: unknown, what: string): RoomError | undefined {
  if (!isPlainObject(attributes)) return new RoomError('INVALID_ARGUMENT', `${what} must be a plain object of JSON values`);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.length === 0 || key.length > MAX_ATTRIBUTE_KEY_CHARS) return new RoomError('INVALID_ARGUMENT', `attribute names must be 1 to ${MAX_ATTRIBUTE_KEY_CHARS} characters`);
    if (value === undefined) return new RoomError('INVALID_ARGUMENT', `attribute "${key}" is undefined`);
    const problem = findNonJson(value, key);
    if (problem !== undefined) return new RoomError('INVALID_ARGUMENT', `attribute is not plain JSON: ${problem}`);
  }
  return undefined;
}

/** INVALID_ARGUMENT for the first key of `options` that `call` does not take, naming the nearest one it does. */
export function checkKeys(options: Record<string, unknown>, allowed: readonly string[], call: string): RoomError | undefined {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = nearestName(key, allowed);
    const hint = near !== undefined ? ` (did you mean \`${near}\`?)` : '';
    return new RoomError('INVALID_ARGUMENT', `${call} has no option \`${key}\`${hint}; it takes ${allowed.map((k) => `\`${k}\``).join(', ')}`);
  }
  return undefined;
}

/** Checks the optional controls a call may take: a progress callback, an AbortSignal, a flag, a timeout. */
export function checkControls(options: Record<string, unknown>, call: string): RoomError | undefined {
  const { onProgress, signal, ignoreOffline, timeoutMs, delivery } = options;
  if (delivery !== undefined && !isDelivery(delivery)) return new RoomError('INVALID_ARGUMENT', `${call}: \`delivery\` must be one of ${DELIVERIES.map((d) => `'${d}'`).join(', ')}, not ${describeValue(delivery)}`);
  if (onProgress !== undefined && typeof onProgress !== 'function') return new RoomError('INVALID_ARGUMENT', `${call}: \`onProgress\` must be a function`);
  if (signal !== undefined && !isAbortSignal(signal)) return new RoomError('INVALID_ARGUMENT', `${call}: \`signal\` must be an AbortSignal (new AbortController().signal)`);
  if (ignoreOffline !== undefined && typeof ignoreOffline !== 'boolean') return new RoomError('INVALID_ARGUMENT', `${call}: \`ignoreOffline\` must be a boolean`);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    return new RoomError('INVALID_ARGUMENT', `${call}: \`timeoutMs\` must be a positive number of milliseconds`);
  }
  return undefined;
}

export const isDelivery = (value: unknown): value is Delivery => typeof value === 'string' && (DELIVERIES as readonly string[]).includes(value);

export function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' && typeof (value as AbortSignal).addEventListener === 'function';
}

/** A value as an error message shows it: short, and saying what kind it is. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'plain'} object`;
  return `${typeof value} ${String(value)}`;
}
