import { afterEach, describe, it } from 'vitest';
import type { RtcStackName } from '../../client/index.js';
import { NodeDriver } from '../shared/node-driver.js';
import {
  everyDeliveryMode,
  abortMidTransfer,
  exchangeEverything,
  iteratorEndsOnDisable,
  joinAndSeeEachOther,
  linkChangesOnForcedRelay,
  progressToTheEnd,
  requestsAndReplies,
} from '../shared/scenarios.js';
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

  it('two Node participants: progress, a 64 MiB send aborted midway, requests and replies, every delivery mode, link changes, messages() ending', async () => {
    const { url } = await startServer();
    const [ada, bea] = ['ada', 'bea'].map((name, i) => {
      const stack = stacks[i] ?? '@roamhq/wrtc';
      const driver = new NodeDriver(`node:${name}:${stack}`, stack);
      drivers.push(driver);
      return { driver, name };
    }) as [{ driver: NodeDriver; name: string }, { driver: NodeDriver; name: string }];
    await joinAndSeeEachOther(url, 'api', [ada, bea]);
    await progressToTheEnd(ada, bea);
    await abortMidTransfer(ada, bea);
    await requestsAndReplies(bea, ada);
    await everyDeliveryMode(ada, bea);
    await everyDeliveryMode(bea, ada);
    await linkChangesOnForcedRelay(ada, bea);
    await iteratorEndsOnDisable(bea, ada);
  });
});
