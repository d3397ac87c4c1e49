// quickstart.mjs: two participants, a direct message, an attachment and a broadcast.
import { RoomClient } from 'roommesh';

const url = process.env.ROOMMESH_URL ?? 'http://127.0.0.1:8787';
const alice = new RoomClient({ url, room: 'quickstart', name: 'alice' });
const bob = new RoomClient({ url, room: 'quickstart', name: 'bob' });

bob.messaging.on('message', (m) => {
  const extra = m.attachment ? ` + ${m.attachment.length} bytes` : '';
  console.log(`bob got ${m.type} from ${m.from.name}: ${JSON.stringify(m.message)}${extra}`);
});

for (const room of [alice, bob]) await room.start();
for (const room of [alice, bob]) await room.messaging.enable();

const to = alice.messaging.getParticipantByName('bob');
await alice.messaging.sendMessage({ to, type: 'chat', message: { text: 'Hey!' } });
await alice.messaging.sendMessage({ to, type: 'file', message: { name: 'hi.bin' }, attachment: new Uint8Array([1, 2, 3]) });
const outcomes = await alice.messaging.broadcastMessage({ type: 'announcement', message: { title: 'Maintenance' } });
console.log(`broadcast delivered to ${outcomes.filter((o) => o.ok).length} participant(s)`);

await Promise.all([alice.close(), bob.close()]);
