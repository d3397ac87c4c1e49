/**
 * A test fixture in its own process: the JSON lines it prints on stdout are its events,
 * lines written to its stdin are the test's commands. Children still running after a test
 * are SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach } from 'vitest';
import { withTimeout } from './helpers.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface Child {
  process: ChildProcess;
  lines: Array<Record<string, unknown>>;
  /** The first line whose `event` is `event`, or a failure naming the child (and its stderr). */
  next(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Writes one line to the child's stdin. */
  tell(line: string): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Runs `node --import tsx <fixture> ...args`. */
export function spawnFixture(fixture: string, args: string[], name: string, env: Record<string, string> = {}, defaultTimeoutMs = 20_000): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const next = (event: string, timeoutMs = defaultTimeoutMs) =>
    withTimeout(
      new Promise<Record<string, unknown>>((resolve) => {
        const look = (): void => {
          const found = lines.find((l) => l['event'] === event);
          if (found !== undefined) resolve(found);
          else waiters.push(look);
        };
        look();
      }),
      timeoutMs,
      `child ${name}: ${event} (stderr: ${stderr.slice(-500)})`,
    );
  return { process: child, lines, next, tell: (line) => void child.stdin!.write(`${line}\n`), exited };
}
