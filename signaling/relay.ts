/**
 * Relayed packets: only to a participant of the same room with messaging enabled, sender
 * stamped. Each is acknowledged once forwarded, which is the sender's flow control. Over the
 * byte rate, a packet waits (its acknowledgement with it); a client that keeps sending
 * without waiting for acknowledgements is disconnected. The service cannot read what it
 * carries: pairs seal their packets end to end (client/peer/relay-crypto.ts).
 *
 * Relayed packets are metered apart from the packet rate of every other event (FloodLimiter),
 * and neither meter can stand in for the other: a relay event carries only bytes for the
 * addressee's relay stream, never a signal, and a signal never carries relay bytes. Each packet
 * is charged at least MIN_PACKET_COST bytes, so that tiny packets cannot reach the rate of
 * events that the byte meter was never meant to allow.
 */
import { RoomError } from '../protocol/errors.js';
import { relayRequestSchema } from '../protocol/schemas.js';
import { memberFrom, rooms, type Member } from './directory.js';
import type { HandlerContext, RoomSocket } from './context.js';
import { TokenBucket } from './rate-limit.js';
import { notFound, parse } from './requests.js';

/** What a relayed packet costs at least, in bytes of the relay budget: 16 MiB/s then allows 16,384 packets/s. */
export const MIN_PACKET_COST = 1024;

export function relayHandler(socket: RoomSocket, context: HandlerContext, self: () => Member): void {
  const { bytesPerSecond, burstBytes } = context.relayRate;
  const bucket = new TokenBucket(bytesPerSecond, burstBytes, Date.now());
  let held = 0;
  let chain = Promise.resolve();
  socket.on('relay', (payload, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    let request;
    let from: Member;
    try {
      request = parse(relayRequestSchema, payload);
      from = self();
      if (!from.messaging || request.to === from.id) throw notFound(request.to);
    } catch (error) {
      const refusal = error instanceof RoomError ? error : new RoomError('INVALID_MESSAGE', 'bad relay packet');
      return reply({ ok: false, error: { code: refusal.code, message: refusal.message } });
    }
    const { to, sid, data } = request;
    const cost = Math.min(Math.max(data.length, MIN_PACKET_COST), burstBytes);
    held += cost;
    if (held > 4 * burstBytes) {
      context.metrics.limitHit('relay_rate');
      context.logger.warn({ socket: socket.id, participant: from.id, held }, 'client disconnected for relaying without waiting for acknowledgements');
      socket.disconnect(true);
      return;
    }
    const forward = async (): Promise<void> => {
      held -= cost;
      if (memberFrom(socket.data)?.messaging !== true || !(await context.directory.isReachable(to, from.room))) {
        return reply({ ok: false, error: { code: 'PARTICIPANT_NOT_FOUND', message: `participant ${to} left` } });
      }
      context.io.to(rooms.reachable(to, from.room)).emit('relay', { from: from.id, sid, data });
      context.metrics.relayed(data.length);
      reply({ ok: true });
    };
    // Packets leave in order: each waits for the one before it, and for the bucket.
    chain = chain.then(async () => {
      const wait = bucket.wait(Date.now(), cost);
      if (wait > 0) {
        context.metrics.limitHit('relay_rate');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      bucket.take(Date.now(), cost);
      await forward().catch((error: unknown) => {
        context.logger.error({ err: error, participant: from.id }, 'relay lookup failed');
        reply({ ok: false, error: { code: 'SIGNALING_FAILED', message: 'the service could not relay this packet; try again' } });
      });
    });
  });
}
