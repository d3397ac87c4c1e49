// agent.mjs: a Node participant that answers direct messages: it echoes text and returns
// the SHA-256 of any attachment. The shape agents and services take in a room.
//   ROOMMESH_URL=http://127.0.0.1:8787 ROOMMESH_ROOM=demo node examples/agent.mjs
import { createHash } from 'node:crypto';
import { RoomClient } from 'roommesh';

const room = new RoomClient({
  url: process.env.ROOMMESH_URL ?? 'http://127.0.0.1:8787',
  room: process.env.ROOMMESH_ROOM ?? 'demo',
  name: process.env.AGENT_NAME ?? 'agent',
  attributes: { kind: 'agent' },
  ...(process.env.ROOMMESH_TOKEN ? { token: process.env.ROOMMESH_TOKEN } : {}),
});

room.messaging.on('message', (m) => {
  if (m.broadcast) return; // answer only what is addressed to us
  const text = m.attachment
    ? `sha256 ${createHash('sha256').update(m.attachment).digest('hex')} (${m.attachment.length} bytes) of ${m.message.fileName ?? 'your attachment'}`
    : `echo: ${typeof m.message.text === 'string' ? m.message.text : JSON.stringify(m.message)}`;
  room.messaging.sendMessage({ to: m.from, type: 'chat', message: { text } }).catch((error) => {
    console.error(`could not answer ${m.from.name}: ${error.code} ${error.message}`);
  });
});
room.messaging.on('participant_added', (p) => console.log(`${p.name} joined`));
room.messaging.on('participant_removed', (p) => console.log(`${p.name} left`));

await room.start();
await room.messaging.enable();
console.log(`${room.localParticipant.name} is in room "${process.env.ROOMMESH_ROOM ?? 'demo'}" as ${room.localParticipant.id}`);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void room.close()); // then Node exits by itself
