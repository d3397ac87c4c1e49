/** The `--stack` dimension: which Node WebRTC stacks a run measures, and what raw simple-peer runs on for each. */
import type SimplePeer from 'simple-peer';
import { RTC_STACK_NAMES, type RtcStackName } from '../client/options.js';
import { resolveRtc } from '../client/rtc.js';

export type Stack = RtcStackName;
export const STACKS = RTC_STACK_NAMES;
export const SHORT: Record<Stack, string> = { '@roamhq/wrtc': 'wrtc', 'node-datachannel': 'ndc' };

/** `--stack=node-datachannel` (or a comma-separated list, or `wrtc`/`ndc`); every stack when absent. */
export function stacksFromArgs(argv: readonly string[]): Stack[] {
  const given = argv.find((arg) => arg.startsWith('--stack='))?.slice('--stack='.length);
  if (given === undefined) return [...STACKS];
  return given.split(',').map((name) => {
    const stack = STACKS.find((s) => s === name || SHORT[s] === name);
    if (stack === undefined) throw new Error(`--stack takes ${STACKS.map((s) => `${s} (${SHORT[s]})`).join(', ')}; got ${name}`);
    return stack;
  });
}

export const isStack = (value: unknown): value is Stack => STACKS.includes(value as Stack);

/**
 * The implementation raw simple-peer gets: @roamhq/wrtc as it is (what a simple-peer user
 * writes), node-datachannel through roommesh's adapter, without which simple-peer cannot open
 * a link on it at all (and which also removes its 1 s DTLS stalls, so raw is not slowed by them).
 */
export async function rawRtc(stack: Stack): Promise<SimplePeer.Options['wrtc']> {
  if (stack === '@roamhq/wrtc') {
    const wrtc = (await import('@roamhq/wrtc')) as { default?: unknown };
    return (wrtc.default ?? wrtc) as SimplePeer.Options['wrtc'];
  }
  return (await resolveRtc(stack)) as SimplePeer.Options['wrtc'];
}
