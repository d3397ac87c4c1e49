/**
 * Checking a client's payload against its zod schema: a bad one is a RoomError
 * (INVALID_MESSAGE) naming the first field that is wrong, never an exception of zod's.
 */
import type { z } from 'zod';
import { RoomError } from '../protocol/errors.js';

export function parse<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'payload' : issue.path.join('.');
    throw new RoomError('INVALID_MESSAGE', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

export const notFound = (to: string): RoomError => new RoomError('PARTICIPANT_NOT_FOUND', `no participant ${to} with messaging enabled in your room`);
