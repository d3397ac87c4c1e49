/**
 * The one union of error codes. Every failure a user can observe, from the client or
 * from the signaling service, carries one of these. The README's error table is
 * checked against this list by a test.
 */
export const ERROR_CODES = [
  'NOT_STARTED',
  'NOT_ENABLED',
  'PARTICIPANT_NOT_FOUND',
  'PARTICIPANT_LEFT',
  'INVALID_MESSAGE',
  'INVALID_ARGUMENT',
  'MESSAGE_TOO_LARGE',
  'QUEUE_FULL',
  'UNREACHABLE',
  'UNAUTHORIZED',
  'ROOM_FULL',
  'SERVICE_FULL',
  'RATE_LIMITED',
  'TIMEOUT',
  'SIGNALING_FAILED',
  'CLOSED',
  'ABORTED',
  'REQUEST_FAILED',
  'NO_HANDLER',
  'RTC_UNAVAILABLE',
  'PEER_AUTHENTICATION_FAILED',
] as const;

/** A stable code naming what failed: one of ERROR_CODES (the README's error table says when each is used). */
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** The error every roommesh API rejects with. `code` is stable; `message` says what to do. */
export class RoomError extends Error {
  /** Always `'RoomError'`. */
  override readonly name = 'RoomError';
  /** What failed, as a stable code to branch on (the message is for people and may change). */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** How an error travels over signaling and data channels: plain data, never a stack. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export function toRoomError(payload: ErrorPayload): RoomError {
  return new RoomError(payload.code, payload.message);
}
