import { describe, expect, it } from 'vitest';
import { IncomingTransfers } from '../../client/incoming.js';
import type { RemoteParticipant } from '../../client/participant.js';

const from = {} as RemoteParticipant;
const event = (messageId: string, receivedBytes: number) => ({ fromParticipantId: 'p', from, type: 't', messageId, receivedBytes, totalBytes: 100 });

describe('large incoming messages under way', () => {
  it('reports progress only forward: a message sent again after a path change does not go back to 0', () => {
    const transfers = new IncomingTransfers();
    expect([10, 40, 5, 20, 40, 60].map((bytes) => transfers.progress(event('0:1', bytes)))).toEqual([true, true, false, false, false, true]);
  });

  it('ends each message once: delivered, or told as aborted with the reason when its sender goes or messaging stops', () => {
    const transfers = new IncomingTransfers();
    transfers.progress(event('0:1', 10));
    transfers.progress(event('1:2', 10));
    transfers.finished('p', '0:1');
    expect(transfers.senderGone('p', 'sender_left').map((e) => [e.messageId, e.reason])).toEqual([['1:2', 'sender_left']]);
    expect(transfers.senderGone('p', 'sender_left')).toEqual([]);
    transfers.progress({ ...event('0:3', 1), fromParticipantId: 'q' });
    expect(transfers.all('disabled').map((e) => [e.fromParticipantId, e.reason])).toEqual([['q', 'disabled']]);
  });
});
