// The demo room page: the same roommesh client a Node agent uses, in the browser.
import { RoomClient } from '/roommesh.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
for (const field of ['name', 'room', 'token']) if (params.has(field)) $(field).value = params.get(field);

let room;

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function setStatus(text, kind = '') {
  $('status').textContent = text;
  $('status').className = kind;
}

function show(element, message) {
  element.textContent = message ?? '';
  element.hidden = !message;
}

/** Adds a line to the conversation; returns a function that updates its meta line. */
function addLine({ who, text, file, mine = false, system = false, broadcast = false }) {
  const item = document.createElement('li');
  if (mine) item.classList.add('mine');
  if (system) item.classList.add('system');
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${who}${broadcast ? ' · to everyone' : ''}`;
  if (!system) item.append(meta);
  if (text) item.append(document.createTextNode(text));
  if (file) {
    if (text) item.append(document.createElement('br'));
    if (file.url) {
      const link = document.createElement('a');
      link.href = file.url;
      link.download = file.name;
      link.textContent = `${file.name} (${formatSize(file.size)})`;
      item.append(link);
    } else {
      item.append(document.createTextNode(`Attached ${file.name} (${formatSize(file.size)})`));
    }
  }
  $('messages').append(item);
  item.scrollIntoView({ block: 'end' });
  return (status) => {
    meta.textContent = `${who} · ${status}`;
  };
}

function renderParticipants() {
  const participants = room.messaging.getParticipants();
  const list = $('participants');
  list.replaceChildren(
    ...participants.map((p) => {
      const item = document.createElement('li');
      item.dataset.id = p.id;
      const name = document.createElement('span');
      name.textContent = p.name ?? p.id;
      const link = document.createElement('span');
      link.className = `link ${p.link}`;
      link.textContent = p.link;
      link.title = p.link === 'direct' ? 'peer-to-peer data channel' : 'relayed through the service';
      item.append(name, link);
      return item;
    }),
  );
  $('nobody').hidden = participants.length > 0;
  const select = $('to');
  const chosen = select.value;
  select.replaceChildren(
    new Option('Everyone (broadcast)', ''),
    ...participants.map((p) => new Option(p.name ?? p.id, p.id)),
  );
  select.value = participants.some((p) => p.id === chosen) ? chosen : '';
  const direct = participants.filter((p) => p.link === 'direct').length;
  setStatus(`Joined · ${participants.length} other${participants.length === 1 ? '' : 's'} · ${direct} direct, ${participants.length - direct} relayed`, 'ok');
}

async function join(event) {
  event.preventDefault();
  show($('join-error'));
  $('join').disabled = true;
  setStatus('Joining…');
  const token = $('token').value.trim();
  room = new RoomClient({
    url: location.origin,
    room: $('room').value.trim(),
    name: $('name').value.trim(),
    ...(token ? { token } : {}),
  });
  const { messaging } = room;
  messaging.on('participant_added', (p) => {
    addLine({ system: true, text: `${p.name} joined` });
    renderParticipants();
  });
  messaging.on('participant_removed', (p) => {
    if (room.state !== 'closed') addLine({ system: true, text: `${p.name} left` });
    renderParticipants();
  });
  messaging.on('participant_attributes_updated', renderParticipants);
  messaging.on('participant_link_changed', (p) => {
    addLine({ system: true, text: p.link === 'relayed' ? `${p.name} is now relayed through the service` : `${p.name} is peer to peer again` });
    renderParticipants();
  });
  messaging.on('message', (m) => {
    const file = m.attachment
      ? {
          name: typeof m.message.fileName === 'string' ? m.message.fileName : 'attachment.bin',
          size: m.attachment.length,
          url: URL.createObjectURL(new Blob([m.attachment], { type: String(m.message.fileType || 'application/octet-stream') })),
        }
      : undefined;
    addLine({ who: m.from.name ?? m.fromParticipantId, text: typeof m.message.text === 'string' ? m.message.text : '', file, broadcast: m.broadcast });
  });
  room.on('disconnected', () => setStatus('Lost the service: open links keep working', 'warn'));
  try {
    await room.start();
    await messaging.enable();
  } catch (error) {
    show($('join-error'), `${error.code ?? 'ERROR'}: ${error.message}`);
    setStatus('Not joined');
    $('join').disabled = false;
    await room.close();
    return;
  }
  $('you').textContent = room.localParticipant.name;
  $('room-name').textContent = $('room').value.trim();
  $('join-panel').hidden = true;
  $('room-panel').hidden = false;
  renderParticipants();
  $('text').focus();
}

async function send(event) {
  event.preventDefault();
  show($('send-error'));
  const text = $('text').value;
  const file = $('file').files[0];
  if (!text && !file) return;
  const message = { text };
  let attachment;
  if (file) {
    message.fileName = file.name;
    message.fileType = file.type;
    attachment = new Uint8Array(await file.arrayBuffer());
  }
  const to = $('to').value;
  // Big files report how far they have got.
  const onProgress = ({ sentBytes, totalBytes }) => status(`sending… ${Math.floor((100 * sentBytes) / totalBytes)}%`);
  const payload = { type: 'chat', message, ...(attachment ? { attachment, onProgress } : {}) };
  const recipient = to ? room.messaging.getParticipant(to)?.name ?? to : 'everyone';
  // The line appears at once; its status follows the end-to-end receipts.
  const status = addLine({ who: `You → ${recipient}`, text, file: file ? { name: file.name, size: file.size } : undefined, mine: true });
  status('sending…');
  $('text').value = '';
  $('file').value = '';
  try {
    if (to) {
      await room.messaging.sendMessage({ to, ...payload });
      status('delivered');
    } else {
      const outcomes = await room.messaging.broadcastMessage(payload);
      const failed = outcomes.filter((o) => !o.ok);
      status(failed.length === 0 ? `delivered to ${outcomes.length}` : `not delivered to ${failed.map((o) => o.participant.name).join(', ')}`);
    }
  } catch (error) {
    status('not delivered');
    show($('send-error'), `${error.code ?? 'ERROR'}: ${error.message}`);
  }
}

async function leave() {
  await room?.close();
  $('room-panel').hidden = true;
  $('join-panel').hidden = false;
  $('join').disabled = false;
  $('messages').replaceChildren();
  setStatus('Not joined');
}

$('join-form').addEventListener('submit', join);
$('send-form').addEventListener('submit', send);
$('leave').addEventListener('click', leave);
addEventListener('pagehide', () => void room?.close());
