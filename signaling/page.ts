/** The page served at `/`: what this service is and how to join it. */
const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function renderIndexPage(stats: { rooms: number; participants: number }, url: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>roommesh signaling service</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1d2330; }
  code, pre { background: #f1f3f7; border-radius: 4px; padding: 0.1rem 0.3rem; }
  pre { padding: 0.8rem; overflow-x: auto; }
</style>
</head>
<body>
<h1>roommesh</h1>
<p>This is a roommesh signaling service. It admits participants to rooms and relays their
WebRTC offers, answers and candidates; messages then travel peer to peer.</p>
<p>Right now: <strong>${stats.rooms}</strong> room(s), <strong>${stats.participants}</strong> participant(s).</p>
<pre>import { RoomClient } from 'roommesh';
const room = new RoomClient({ url: '${escapeHtml(url)}', room: 'demo', name: 'alice' });
await room.start();
await room.messaging.enable();</pre>
</body>
</html>
`;
}
