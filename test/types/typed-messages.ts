/**
 * Compile-time tests of the message types: `npm run typecheck` (part of `npm test`) compiles
 * this file and never runs it. Each `@ts-expect-error` line must fail to compile (tsc reports
 * an unused directive otherwise), and every other line must compile: good code compiles, bad
 * code does not.
 */
import { RoomClient, type IncomingMessage, type JsonObject, type ReceivedMessage, type Reply } from '../../client/index.js';

interface Chat {
  text: string;
  mentions?: string[];
  thread: { id: number; open: boolean } | null;
}
interface FileMeta {
  name: string;
  size: number;
}

export async function untypedRoom(room: RoomClient, to: string): Promise<void> {
  const chat: Chat = { text: 'hi', thread: null };
  // An interface is a message as it is, no cast (JsonObject's index signature refused it).
  await room.messaging.sendMessage({ to, type: 'chat', message: chat });
  await room.messaging.broadcastMessage({ type: 'chat', message: chat, onProgress: ({ sentBytes, totalBytes }) => void (sentBytes / totalBytes) });
  room.messaging.sendMessageNowait({ to, type: 'chat', message: { text: 'x', thread: { id: 1, open: true } } });
  const json: JsonObject = { a: [1, 'two', null] };
  await room.messaging.sendMessage({ to, type: 'raw', message: json, ignoreOffline: true, signal: new AbortController().signal });
  const reply: Reply = await room.messaging.request({ to, type: 'sum', message: { x: 2, y: 3 }, timeoutMs: 1000 });
  void reply.message['sum'];

  // @ts-expect-error a function is not JSON
  await room.messaging.sendMessage({ to, type: 'chat', message: { text: 'x', run: () => 1 } });
  // @ts-expect-error nor is a bigint
  await room.messaging.sendMessage({ to, type: 'chat', message: { n: 1n } });
  // @ts-expect-error nor a Date (a class instance: its methods are functions)
  await room.messaging.sendMessage({ to, type: 'chat', message: { when: new Date() } });
  // @ts-expect-error nor a Map
  await room.messaging.broadcastMessage({ type: 'chat', message: { seen: new Map<string, number>() } });
  // @ts-expect-error a message is an object, not a string
  await room.messaging.sendMessage({ to, type: 'chat', message: 'hello' });
  // @ts-expect-error nor an array
  await room.messaging.request({ to, type: 'chat', message: [1, 2] });
  // @ts-expect-error an option that does not exist
  await room.messaging.sendMessage({ to, type: 'chat', message: chat, atachment: new Uint8Array(1) });
  // @ts-expect-error `to` is a participant or an id
  await room.messaging.sendMessage({ to: 42, type: 'chat', message: chat });
  // @ts-expect-error test hooks are not part of the API
  room.messaging._breakLink(to);

  room.messaging.on('message', (m) => {
    const type: string = m.type;
    const body: JsonObject = m.message;
    void [type, body];
  });
  for await (const m of room.messaging.messages({ type: 'chat' })) {
    const r: ReceivedMessage = m;
    void r;
  }
}

type Messages = { chat: Chat; file: FileMeta };

export async function typedRoom(room: RoomClient<Messages>, to: string): Promise<void> {
  await room.messaging.sendMessage({ to, type: 'chat', message: { text: 'hi', thread: null } });
  await room.messaging.broadcastMessage({ type: 'file', message: { name: 'a.png', size: 10 }, attachment: new Uint8Array(10) });

  // @ts-expect-error a type the map does not declare
  await room.messaging.sendMessage({ to, type: 'photo', message: { text: 'hi', thread: null } });
  // @ts-expect-error the body of another type
  await room.messaging.sendMessage({ to, type: 'file', message: { text: 'hi', thread: null } });
  // @ts-expect-error a field missing
  await room.messaging.sendMessage({ to, type: 'file', message: { name: 'a.png' } });
  // @ts-expect-error a field of the wrong type
  await room.messaging.broadcastMessage({ type: 'chat', message: { text: 5, thread: null } });

  // Delivery modes: per send, or per declared type.
  room.messaging.setDelivery('chat', 'unordered');
  await room.messaging.sendMessage({ to, type: 'chat', message: { text: 'hi', thread: null }, delivery: 'latest' });
  // @ts-expect-error a type the map does not declare
  room.messaging.setDelivery('photo', 'latest');
  // @ts-expect-error no such delivery mode
  room.messaging.setDelivery('chat', 'fast');
  // @ts-expect-error no such delivery mode
  await room.messaging.broadcastMessage({ type: 'chat', message: { text: 'hi', thread: null }, delivery: 'fast' });

  // Receivers narrow by type.
  room.messaging.on('message', (m) => {
    const delivery: 'reliable' | 'unordered' | 'lossy' | 'latest' = m.delivery;
    void delivery;
    if (m.type === 'chat') {
      const text: string = m.message.text;
      void text;
      // @ts-expect-error a chat has no size
      void m.message.size;
    } else {
      const size: number = m.message.size;
      void size;
    }
  });
  for await (const m of room.messaging.messages({ type: 'file' })) {
    const name: string = m.message.name;
    void name;
    // @ts-expect-error the iterator of files yields files
    void m.message.text;
  }
  // @ts-expect-error messages() of a type the map does not declare
  room.messaging.messages({ type: 'photo' });
  const any: IncomingMessage<Messages> = { type: 'file', message: { name: 'n', size: 1 } } as IncomingMessage<Messages>;
  void any;
}

type Requests = { chat: Chat; sum: { x: number; y: number } };
type Replies = { sum: { sum: number } };

export async function typedRequests(room: RoomClient<Requests, Replies>, untyped: RoomClient, to: string): Promise<void> {
  // The handler's request and its reply are typed by the maps: no casts.
  room.messaging.onRequest('sum', ({ message }) => ({ message: { sum: message.x + message.y } }));
  room.messaging.onRequest('sum', async ({ message, from }) => ({ message: { sum: message.x * message.y + from.id.length } }));
  const reply = await room.messaging.request({ to, type: 'sum', message: { x: 2, y: 3 } });
  const sum: number = reply.message.sum;
  void sum;

  // @ts-expect-error a reply of another shape
  room.messaging.onRequest('sum', () => ({ message: { total: 5 } }));
  // @ts-expect-error with a replies map, a reply is required
  room.messaging.onRequest('sum', () => undefined);
  // @ts-expect-error the request's body is typed: it has no z
  room.messaging.onRequest('sum', ({ message }) => ({ message: { sum: message.z } }));
  // @ts-expect-error a request body of the wrong shape
  await room.messaging.request({ to, type: 'sum', message: { x: 2 } });
  // @ts-expect-error a request type the map does not declare
  room.messaging.onRequest('photo', () => ({ message: { sum: 1 } }));
  // @ts-expect-error the reply's body is typed: it has no total
  void reply.message.total;

  // Without maps: any JSON object in and out, and a handler may reply with nothing.
  untyped.messaging.onRequest('anything', ({ message }) => ({ message: { echoed: message } }));
  untyped.messaging.onRequest('quiet', () => undefined);
  const untypedReply = await untyped.messaging.request({ to, type: 'anything', message: { a: 1 } });
  const body: JsonObject = untypedReply.message;
  void body;
}
