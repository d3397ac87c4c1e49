import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; ROOMMESH_LOG_LEVEL overrides the level for a run. */
export function createLogger(level: LevelWithSilent | undefined): Logger {
  const envLevel = process.env['ROOMMESH_LOG_LEVEL'] as LevelWithSilent | undefined;
  return pino({ name: 'roommesh', level: envLevel ?? level ?? 'info' });
}
