import { afterEach, describe, it } from 'vitest';
import type { RtcStackName } from '../../client/index.js';
import { NodeDriver } from '../shared/node-driver.js';
import { exchangeEverything, joinAndSeeEachOther } from '../shared/scenarios.js';
import { startServer } from '../helpers.js';

const drivers: NodeDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

const ROOMS: Array<[string, RtcStackName[]]> = [
  ['@roamhq/wrtc', ['@roamhq/wrtc', '@roamhq/wrtc', '@roamhq/wrtc']],
  ['node-datachannel', ['node-datachannel', 'node-datachannel', 'node-datachannel']],
  ['a mixed room', ['@roamhq/wrtc', 'node-datachannel', '@roamhq/wrtc']],
];

describe.each(ROOMS)('the shared messaging suite, in Node, on %s', (_, stacks) => {
  it('three Node participants: presence, direct messages with attachments (5 MiB), broadcasts', async () => {
    const { url } = await startServer();
    const participants = ['ada', 'bea', 'cyd'].map((name, i) => {
      const stack = stacks[i] ?? '@roamhq/wrtc';
      const driver = new NodeDriver(`node:${name}:${stack}`, stack);
      drivers.push(driver);
      return { driver, name };
    });
    await joinAndSeeEachOther(url, 'shared', participants);
    await exchangeEverything(participants);
  });
});
