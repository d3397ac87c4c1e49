import { afterEach, describe, it } from 'vitest';
import { NodeDriver } from '../shared/node-driver.js';
import { exchangeEverything, joinAndSeeEachOther } from '../shared/scenarios.js';
import { startServer } from '../helpers.js';

const drivers: NodeDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

describe('the shared messaging suite, in Node', () => {
  it('three Node participants: presence, direct messages with attachments (5 MiB), broadcasts', async () => {
    const { url } = await startServer();
    const participants = ['ada', 'bea', 'cyd'].map((name) => {
      const driver = new NodeDriver(`node:${name}`);
      drivers.push(driver);
      return { driver, name };
    });
    await joinAndSeeEachOther(url, 'shared', participants);
    await exchangeEverything(participants);
  });
});
