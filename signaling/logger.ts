import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout (one object a line: time, level, msg, and the event's fields). */
export function createLogger(level: LevelWithSilent | undefined): Logger {
  return pino({ name: 'roommesh', level: level ?? 'info' });
}
