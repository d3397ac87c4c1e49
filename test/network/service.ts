/**
 * The signaling service in the lab's service namespace, handing out a cell's ICE servers
 * (coturn, at SERVICE_ADDRESS, is the STUN server too).
 */
import { createInterface } from 'node:readline';
import { SERVICE_ADDRESS, type Lab } from './lab.js';

export type IceKind = 'none' | 'stun' | 'turn-udp' | 'turn-tcp';

/** Starts the service; resolves with its URL. `extraArgs` go to `roommesh serve`. */
export async function startService(lab: Lab, ice: IceKind, turnSecret: string, extraArgs: string[] = []): Promise<string> {
  const args = ['signaling/bin/roommesh.js', 'serve', '--host', SERVICE_ADDRESS, '--port', '0', '--log-level', 'warn'];
  if (ice !== 'none') args.push('--ice-servers', JSON.stringify([{ urls: `stun:${SERVICE_ADDRESS}:3478` }]));
  if (ice === 'turn-udp' || ice === 'turn-tcp') args.push('--turn-secret', turnSecret, '--turn-urls', `turn:${SERVICE_ADDRESS}:3478?transport=${ice === 'turn-udp' ? 'udp' : 'tcp'}`);
  args.push(...extraArgs);
  const child = lab.spawn(lab.service, process.execPath, args);
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service did not start in the lab within 15 s')), 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const url = /signaling service on (http:\/\/\S+)/.exec(line)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      resolve(url);
    });
  });
}

