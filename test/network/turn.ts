/**
 * Debian's coturn in the lab's service namespace: STUN, and TURN over UDP and TCP on 3478, with
 * time-limited credentials from a shared secret (the TURN REST scheme: `use-auth-secret`), as the
 * signaling service hands them out with `--turn-secret`. Its log (verbose) is kept for tests that
 * fail, to tell coturn's part from the stacks'.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withTimeout } from '../timeout.js';
import { SERVICE_ADDRESS, type Lab } from './lab.js';

export interface Turn {
  secret: string;
  realm: string;
  /** `turn:` URLs for UDP and TCP. */
  urls: { udp: string; tcp: string; stun: string };
  log(): string;
  process: ChildProcess;
}

export async function startCoturn(lab: Lab, extraArgs: string[] = []): Promise<Turn> {
  const secret = 'lab-turn-secret-of-at-least-32-bytes-0000';
  const realm = 'lab.roommesh.test';
  const child = lab.spawn(lab.service, 'turnserver', [
    '-n',
    `--listening-ip=${SERVICE_ADDRESS}`,
    `--relay-ip=${SERVICE_ADDRESS}`,
    '--listening-port=3478',
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    `--realm=${realm}`,
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--no-multicast-peers',
    '--log-file=stdout',
    '--simple-log',
    '-v',
    ...extraArgs,
  ]);
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`coturn did not start (Debian: apt-get install coturn): ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`coturn exited with ${code}: ${log.slice(-2000)}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log += `${line}\n`;
      if (/Total (UDP|General) servers|IO method|listener opened on/i.test(line) && /3478/.test(log)) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  });
  await withTimeout(ready, 10_000, 'coturn to listen').catch((error: unknown) => {
    throw new Error(`${String(error)}: ${log.slice(-2000)}`);
  });
  return {
    secret,
    realm,
    urls: { udp: `turn:${SERVICE_ADDRESS}:3478?transport=udp`, tcp: `turn:${SERVICE_ADDRESS}:3478?transport=tcp`, stun: `stun:${SERVICE_ADDRESS}:3478` },
    log: () => log,
    process: child,
  };
}
