/**
 * Signed joins mean what they say: resume re-admits only a participant this service
 * admitted (its ticket), an expired token passes only such a resume (within the grace), `nbf`
 * is never relaxed, and one token is one live participant unless it was minted for sharing.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/signaling.js';
import { createSignalingServer, createToken, type SignalingServer } from '../../signaling/index.js';
import { ask, expectCode, joinAll, newRoom, rawClient, startServer, until, waitForEvent } from '../helpers.js';

const SECRET = 'tokens-test-secret-of-at-least-32-bytes!';
const token = (name: string, options: { room?: string; expiresIn?: number; maxParticipants?: number } = {}) =>
  createToken({ secret: SECRET, room: options.room ?? 'r', name, ...(options.expiresIn === undefined ? {} : { expiresIn: options.expiresIn }), ...(options.maxParticipants === undefined ? {} : { maxParticipants: options.maxParticipants }) });
/** A well-signed token whose `nbf` lies an hour ahead (createToken never mints one). */
const notYet = (name: string) =>
  new SignJWT({ room: 'r', name }).setProtectedHeader({ alg: 'HS256' }).setIssuer('roommesh').setIssuedAt().setNotBefore('1h').setExpirationTime('2h').sign(new TextEncoder().encode(SECRET));
const madeUp = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
const exp = (jwt: string): number => (JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp;

/** Joins by hand and returns what a resume needs; the connection closes unless `stay`. */
async function rawJoin(url: string, jwt: string, stay = false): Promise<{ id: string; credential: string; ticket: string }> {
  const socket = await rawClient(url);
  const reply = (await ask(socket, 'join', { v: PROTOCOL_VERSION, room: 'r', token: jwt })) as { ok: boolean; participant?: { id: string }; credential?: string; ticket?: string };
  expect(reply.ok).toBe(true);
  if (!stay) socket.disconnect();
  return { id: reply.participant?.id ?? '', credential: reply.credential ?? '', ticket: reply.ticket ?? '' };
}

const resume = async (url: string, fields: Record<string, unknown>) =>
  ask(await rawClient(url), 'resume', { v: PROTOCOL_VERSION, room: 'r', messaging: false, ...fields });

describe('resume proves an earlier admission', () => {
  it('refuses every resume this service did not admit, and never relaxes nbf', async () => {
    const { url } = await startServer({ secret: SECRET, resumeGraceSeconds: 1 });
    const admitted = await rawJoin(url, await token('alice'));
    const expired = await token('alice', { expiresIn: -30 });
    const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a made-up credential with a valid token', { credential: madeUp(), token: await token('mallory') }, /never admitted/],
      ['a made-up credential with an expired token', { credential: madeUp(), token: expired }, /never admitted/],
      ['a made-up credential with a token not valid yet', { credential: madeUp(), token: await notYet('mallory') }, /never admitted/],
      ['a made-up credential with a ticket taken from someone else', { credential: madeUp(), ticket: admitted.ticket, token: await token('alice') }, /never admitted/],
      ['the right credential and ticket with another (expired) token', { credential: admitted.credential, ticket: admitted.ticket, token: expired }, /never admitted/],
      ['the right credential and ticket with no token', { credential: admitted.credential, ticket: admitted.ticket }, /never admitted/],
      ['the right credential, no ticket', { credential: admitted.credential, token: await token('alice') }, /never admitted/],
    ];
    for (const [what, fields, reason] of refusals) {
      const reply = await resume(url, fields);
      expect([what, reply.error?.code]).toEqual([what, 'UNAUTHORIZED']);
      expect(reply.error?.message, what).toMatch(reason);
    }
    // A join with a token not valid yet is refused, saying why.
    const early = newRoom(url, 'r', 'x', { token: await notYet('early') });
    expect((await expectCode(early.start(), 'UNAUTHORIZED')).message).toMatch(/not valid yet/);
  });

  it('takes back, after a restart, a participant whose token expired within the grace', async () => {
    let server: SignalingServer = await startServer({ secret: SECRET, resumeGraceSeconds: 3600 });
    const { port } = server;
    const brief = await token('alice', { expiresIn: 2 });
    const alice = newRoom(server.url, 'r', 'unused', { token: brief });
    const bob = newRoom(server.url, 'r', 'unused', { token: await token('bob') });
    await joinAll(alice, bob);
    const id = alice.localParticipant.id;
    await until(() => Date.now() / 1000 > exp(brief) + 1, "alice's token to expire", 5_000);
    await server.close();
    const back = waitForEvent(alice, 'reconnected', 'alice resumed on the restarted service', { timeoutMs: 15_000 });
    server = await createSignalingServer({ port, secret: SECRET, resumeGraceSeconds: 3600, logLevel: 'silent' });
    try {
      await back;
      expect(alice.localParticipant.id).toBe(id);
      const got = waitForEvent(bob.messaging, 'message', 'alice → bob after the resume');
      await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'hi', message: {} });
      await got;
    } finally {
      await alice.close();
      await bob.close();
      await server.close();
    }
  });

  it('refuses a proven resume whose token expired longer ago than the grace', async () => {
    const { url } = await startServer({ secret: SECRET, resumeGraceSeconds: 1 });
    const brief = await token('carol', { expiresIn: 1 });
    const admitted = await rawJoin(url, brief);
    await until(() => Date.now() / 1000 > exp(brief) + 2, "carol's token to be past the grace", 6_000);
    const reply = await resume(url, { credential: admitted.credential, ticket: admitted.ticket, token: brief });
    expect([reply.error?.code, reply.error?.message]).toEqual(['UNAUTHORIZED', 'the join token has expired']);
  });
});

describe('a session that outlives its token', () => {
  it('renews it: the service checks the new one, and a resume after the first expired (past the grace) presents it', async () => {
    const { url } = await startServer({ secret: SECRET, resumeGraceSeconds: 1 });
    const brief = await token('alice', { expiresIn: 2 });
    const alice = newRoom(url, 'r', 'unused', { token: brief });
    const bob = newRoom(url, 'r', 'unused', { token: await token('bob') });
    await joinAll(alice, bob);
    const id = alice.localParticipant.id;
    expect((await expectCode(alice.updateToken(await token('mallory')), 'UNAUTHORIZED')).message).toMatch(/names "mallory", and this participant is "alice"/);
    expect((await expectCode(alice.updateToken(await token('alice', { expiresIn: -5 })), 'UNAUTHORIZED')).message).toMatch(/expired/);
    await alice.updateToken(await token('alice'));
    await until(() => Date.now() / 1000 > exp(brief) + 2, "alice's first token to be past the grace", 6_000);
    const back = waitForEvent(alice, 'reconnected', 'alice resumed with her renewed token', { timeoutMs: 15_000 });
    (alice as unknown as { signaling: { drop(): void } }).signaling.drop();
    await back;
    expect(alice.localParticipant.id).toBe(id);
    const got = waitForEvent(bob.messaging, 'message', 'alice → bob after the resume');
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'hi', message: {} });
    await got;
  });
});

describe('one token, one participant', () => {
  it('lets a second join with the same token replace the first, which is told and closes', async () => {
    const { url } = await startServer({ secret: SECRET });
    const shared = await token('alice');
    const first = newRoom(url, 'r', 'unused', { token: shared });
    const bob = newRoom(url, 'r', 'unused', { token: await token('bob') });
    await joinAll(first, bob);
    const told = waitForEvent(first, 'disconnected', 'the first alice told', { predicate: (reason) => reason === 'replaced' });
    const closed = waitForEvent(first, 'closed', 'the first alice closed');
    const gone = waitForEvent(bob.messaging, 'participant_removed', 'bob seeing the first alice go', { predicate: (p) => p.id === first.localParticipant.id });
    const second = newRoom(url, 'r', 'unused', { token: shared });
    await joinAll(second);
    await Promise.all([told, closed, gone]);
    expect(bob.messaging.getParticipants().map((p) => [p.name, p.id])).toEqual([['alice', second.localParticipant.id]]);
    expect(first.state).toBe('closed'); // and it does not reconnect: the next test shows its resume would be refused
  });

  it('keeps one token holder from filling a room, and refuses a replaced participant\'s resume', async () => {
    const { url } = await startServer({ secret: SECRET, maxParticipantsPerRoom: 3 });
    const held = await token('squatter');
    let last: { id: string; credential: string; ticket: string } | undefined;
    const earlier: Array<{ id: string; credential: string; ticket: string }> = [];
    for (let i = 0; i < 10; i++) {
      if (last !== undefined) earlier.push(last);
      last = await rawJoin(url, held, true); // each stays connected, and replaces the one before
    }
    const alice = newRoom(url, 'r', 'unused', { token: await token('alice') });
    const bob = newRoom(url, 'r', 'unused', { token: await token('bob') });
    await joinAll(alice, bob); // three in the room: alice, bob and one squatter
    await expectCode(newRoom(url, 'r', 'unused', { token: await token('carol') }).start(), 'ROOM_FULL');
    const replaced = earlier[0];
    if (replaced === undefined) throw new Error('no earlier squatter');
    const reply = await resume(url, { credential: replaced.credential, ticket: replaced.ticket, token: held });
    expect([reply.error?.code, reply.error?.message]).toEqual(['UNAUTHORIZED', 'a newer join with the same token replaced this participant']);
  });

  it('admits a token minted for sharing up to its cap, and refuses the next', async () => {
    const { url } = await startServer({ secret: SECRET });
    const kiosk = await token('kiosk', { maxParticipants: 2 });
    const one = newRoom(url, 'r', 'unused', { token: kiosk });
    const two = newRoom(url, 'r', 'unused', { token: kiosk });
    await joinAll(one, two);
    expect(two.messaging.getParticipants().map((p) => p.name)).toEqual(['kiosk']);
    const three = newRoom(url, 'r', 'unused', { token: kiosk });
    expect((await expectCode(three.start(), 'UNAUTHORIZED')).message).toMatch(/at most 2 participants at once/);
    await one.close();
    await until(() => two.messaging.getParticipants().length === 0, 'the first kiosk gone');
    await joinAll(newRoom(url, 'r', 'unused', { token: kiosk })); // a place is free again
  });
});
