/** A benchmark party: a child process (bench/child.ts or bench/local-mesh.ts) spoken to over IPC. */
import { fork, type ChildProcess } from 'node:child_process';

export type Message = Record<string, unknown> & { type: string };

export class Party {
  private readonly inbox: Message[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (message: Message) => {
      if (message.type === 'error') console.error(`[${label}] ${String(message['message'])}`);
      this.inbox.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (signal !== null) console.error(`[${label}] killed by ${signal}`);
        resolve(code);
      }),
    );
  }

  send(message: Message): void {
    this.child.send(message);
  }

  /** Every message seen so far of `type`, consumed. */
  take(type: string): Message[] {
    const taken = this.inbox.filter((m) => m.type === type);
    for (const m of taken) this.inbox.splice(this.inbox.indexOf(m), 1);
    return taken;
  }

  /** The next message of `type` (consumed), waiting up to `timeoutMs`. */
  async next(type: string, timeoutMs = 30_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type || m.type === 'error');
      if (index >= 0) {
        const [message] = this.inbox.splice(index, 1);
        if (message?.type === 'error') throw new Error(`${this.label}: ${String(message['message'])}`);
        if (message !== undefined) return message;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.send({ type: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function spawnParty(script: string, args: string[], label: string): Promise<Party> {
  const child = fork(script, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const party = new Party(label, child);
  await party.next('started');
  return party;
}

export const epoch = (): number => performance.timeOrigin + performance.now();
