// The demo room page: the same roommesh client a Node agent uses, in the browser.
import { RoomClient } from '/roommesh.js';
import { drawMesh, viaTurn } from '/mesh.js';
import { isCursor, startCursors } from '/cursors.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
for (const field of ['name', 'room', 'token']) if (params.has(field)) $(field).value = params.get(field);
// A token in the address would stay in the history and in links copied from the address bar: it is in the form now.
if (params.has('token')) {
  params.delete('token');
  history.replaceState(null, '', `${location.pathname}${params.size > 0 ? `?${params}` : ''}${location.hash}`);
}

/** How often this page measures its round trips, and publishes them (with its links) for the others' pictures. */
const PING_EVERY_MS = 3_000;
const PING = 'roommesh-demo:ping';

let room;
let pinger;
/** Stops the live cursors (started once in the room). */
let stopCursors = () => {};
/** Set while the service is lost (open links keep working): the header says so until it is back. */
let serviceLost = false;
/** id → the last round trip to that participant, in ms. */
const rtts = new Map();
/** The `mesh` attribute as last published. */
let published = '';
/** Incoming files in progress: messageId → the line showing them. */
const incoming = new Map();

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const clock = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function setStatus(text, kind = '') {
  $('status').textContent = text;
  $('status').className = kind;
}

function show(element, message) {
  element.textContent = message ?? '';
  element.hidden = !message;
}

/** What a message says: its text; else, for messages from other programs, its type and JSON. */
function describe(type, message, hasAttachment) {
  if (typeof message.text === 'string') return { text: message.text };
  const rest = Object.fromEntries(Object.entries(message).filter(([key]) => !['fileName', 'fileType', 'name'].includes(key)));
  if (Object.keys(rest).length > 0) return { data: `${type} ${JSON.stringify(rest)}` };
  return hasAttachment || type === 'chat' ? { text: '' } : { data: type };
}

/** Adds a line to the conversation; returns its controls: `status(text)` updates its meta line, `item` is the element. */
function addLine({ who, text, data, file, mine = false, system = false, broadcast = false }) {
  const item = document.createElement('li');
  if (mine) item.classList.add('mine');
  if (system) item.classList.add('system');
  const meta = document.createElement('span');
  meta.className = 'meta';
  const head = `${clock()} · ${who}${broadcast ? ' · to everyone' : ''}`;
  meta.textContent = head;
  if (!system) item.append(meta);
  if (text) item.append(document.createTextNode(text));
  if (data) {
    const code = document.createElement('span');
    code.className = 'data';
    code.textContent = data;
    item.append(code);
  }
  if (file) {
    if (text || data) item.append(document.createElement('br'));
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
  return {
    item,
    status: (status) => {
      meta.textContent = `${head} · ${status}`;
    },
  };
}

/**
 * How the page names a participant: its name, with a short id beside names that more than one
 * participant has (names are not unique), or its short id when it has no name.
 */
function nameOf(p) {
  const name = p.name ?? '';
  if (!name) return p.id.slice(0, 6);
  const others = room?.messaging.getParticipantsByName(name) ?? [];
  const clash = others.length > 1 || (others.length === 1 && room?.localParticipant.name === name);
  return clash ? `${name} · ${p.id.slice(0, 4)}` : name;
}

function renderParticipants() {
  const participants = room.messaging.getParticipants();
  $('participants').replaceChildren(
    ...participants.map((p) => {
      const item = document.createElement('li');
      item.dataset.id = p.id;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = nameOf(p);
      // Its identity key as 30 digits: two people can read theirs to each other to know no one stands between them.
      name.title = `${p.name ?? p.id} · fingerprint ${p.fingerprint ?? 'not proved yet'}`;
      const link = document.createElement('span');
      const turn = viaTurn(p);
      link.className = `link ${p.link}${turn ? ' turn' : ''}`;
      const rtt = rtts.get(p.id);
      const kind = turn ? 'direct via TURN' : p.link;
      link.textContent = rtt === undefined ? kind : `${kind} · ${rtt.toFixed(1)} ms`;
      link.title = turn ? 'peer-to-peer data channel through a TURN server' : p.link === 'direct' ? 'peer-to-peer data channel' : 'relayed through the service';
      item.append(name, link);
      return item;
    }),
  );
  $('nobody').hidden = participants.length > 0;
  const select = $('to');
  const chosen = select.value;
  select.replaceChildren(new Option('Everyone (broadcast)', ''), ...participants.map((p) => new Option(nameOf(p), p.id)));
  select.value = participants.some((p) => p.id === chosen) ? chosen : '';
  const direct = participants.filter((p) => p.link === 'direct').length;
  const others = `${participants.length} other${participants.length === 1 ? '' : 's'} · ${direct} direct, ${participants.length - direct} relayed`;
  // While the service is lost the header keeps saying so, however often the list is redrawn.
  if (serviceLost) setStatus(`Lost the service: open links keep working · ${others}`, 'warn');
  else setStatus(`Joined · ${others}`, 'ok');
  drawMesh($('mesh'), { id: room.localParticipant.id, name: room.localParticipant.name }, participants, rtts);
}

/** Measures a round trip to each participant (any answer counts: a page without the handler says NO_HANDLER), then publishes them. */
async function measure() {
  if (room?.messaging.enabled !== true) return;
  await Promise.all(
    room.messaging.getParticipants().map(async (p) => {
      const started = performance.now();
      try {
        await room.messaging.request({ to: p, type: PING, message: {}, timeoutMs: PING_EVERY_MS });
      } catch (error) {
        if (error.code !== 'NO_HANDLER' && error.code !== 'REQUEST_FAILED') return;
      }
      rtts.set(p.id, performance.now() - started);
    }),
  );
  if (room?.messaging.enabled !== true) return;
  renderParticipants();
  // Published for the others' pictures only when it changed (whole milliseconds), so a quiet room sends no updates.
  const mesh = Object.fromEntries(room.messaging.getParticipants().map((p) => [p.id, { link: p.link, turn: viaTurn(p), rtt: Math.max(1, Math.round(rtts.get(p.id) ?? 0)) }]));
  const text = JSON.stringify(mesh);
  if (text === published) return;
  published = text;
  await room.localParticipant.setAttribute('mesh', mesh).catch(() => undefined); // best effort: the picture only
}

function fileOf(m) {
  const name = [m.message.fileName, m.message.name].find((n) => typeof n === 'string' && n.length > 0) ?? 'attachment.bin';
  return { name, size: m.attachment.length, url: URL.createObjectURL(new Blob([m.attachment], { type: String(m.message.fileType || 'application/octet-stream') })) };
}

async function join(event) {
  event.preventDefault();
  show($('join-error'));
  const name = $('name').value.trim();
  const roomName = $('room').value.trim();
  const token = $('token').value.trim();
  if (!name && !token) return show($('join-error'), 'Pick a name (or paste a join token that names you).');
  if (!roomName) return show($('join-error'), 'Pick a room to join.');
  $('join').disabled = true;
  setStatus('Joining…');
  try {
    room = new RoomClient({ url: location.origin, room: roomName, ...(name ? { name } : {}), ...(token ? { token } : {}) });
  } catch (error) {
    $('join').disabled = false;
    setStatus('Not joined');
    return show($('join-error'), `${error.code ?? 'ERROR'}: ${error.message}`);
  }
  const { messaging } = room;
  messaging.on('participant_added', (p) => {
    addLine({ system: true, text: `${nameOf(p)} joined` });
    renderParticipants();
  });
  messaging.on('participant_removed', (p) => {
    rtts.delete(p.id);
    if (room.state !== 'closed') addLine({ system: true, text: `${nameOf(p)} left` });
    renderParticipants();
  });
  messaging.on('participant_attributes_updated', renderParticipants);
  messaging.on('peer_authentication_failed', ({ name, participantId, reason }) => {
    addLine({ system: true, text: `${name ?? participantId} was refused: ${reason}` });
  });
  const kinds = new Map();
  messaging.on('participant_added', (p) => kinds.set(p.id, p.link));
  messaging.on('participant_link_changed', (p) => {
    // Also fired for a new candidate pair within a direct link: the picture shows it; the log tells kind changes only.
    const changed = kinds.get(p.id) !== p.link;
    kinds.set(p.id, p.link);
    if (!changed) return renderParticipants();
    addLine({ system: true, text: p.link === 'relayed' ? `${nameOf(p)} is now relayed through the service` : `${nameOf(p)} is peer to peer again` });
    renderParticipants();
  });
  messaging.onRequest(PING, () => ({ message: {} }));
  messaging.on('incoming_progress', ({ from, messageId, receivedBytes, totalBytes }) => {
    let line = incoming.get(messageId);
    if (line === undefined) {
      line = addLine({ who: nameOf(from), text: 'sending a file…' });
      line.bar = document.createElement('progress');
      line.item.append(line.bar);
      incoming.set(messageId, line);
    }
    line.bar.max = totalBytes;
    line.bar.value = receivedBytes;
    line.status(`${Math.floor((100 * receivedBytes) / totalBytes)}% of ${formatSize(totalBytes)}`);
  });
  const ended = { cancelled: 'cancelled by the sender', sender_left: 'the sender left before it arrived', disabled: 'not received: you left' };
  messaging.on('incoming_aborted', ({ messageId, reason }) => {
    const line = incoming.get(messageId);
    incoming.delete(messageId);
    line?.bar.remove();
    line?.status(ended[reason] ?? 'not received');
  });
  messaging.on('message', (m) => {
    if (isCursor(m.type)) return; // drawn by cursors.js
    // A file whose progress was shown: its line gives way to the message itself.
    incoming.get(m.messageId)?.item.remove();
    incoming.delete(m.messageId);
    const file = m.attachment ? fileOf(m) : undefined;
    const { text, data } = describe(m.type, m.message, m.attachment !== undefined);
    addLine({ who: nameOf(m.from), text, data, file, broadcast: m.broadcast });
  });
  room.on('disconnected', () => {
    serviceLost = true;
    renderParticipants();
  });
  room.on('reconnected', () => {
    serviceLost = false;
    renderParticipants();
  });
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
  $('you').title = `Your fingerprint: ${room.localParticipant.fingerprint}`;
  $('room-name').textContent = roomName;
  $('join-panel').hidden = true;
  $('room-panel').hidden = false;
  renderParticipants();
  stopCursors = startCursors(messaging, $('room-panel'), nameOf);
  clearInterval(pinger);
  pinger = setInterval(() => void measure(), PING_EVERY_MS);
  void measure();
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
  const chosen = to ? room.messaging.getParticipant(to) : undefined;
  const recipient = to ? (chosen ? nameOf(chosen) : to) : 'everyone';
  // The line appears at once; its status follows the end-to-end receipts (and, for files, the progress).
  const line = addLine({ who: `You → ${recipient}`, text, file: file ? { name: file.name, size: file.size } : undefined, mine: true });
  line.status('sending…');
  const controller = new AbortController();
  if (file && file.size > 1024 * 1024) {
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'link';
    cancel.textContent = 'cancel';
    cancel.addEventListener('click', () => controller.abort());
    line.item.append(cancel);
    controller.signal.addEventListener('abort', () => cancel.remove());
  }
  const onProgress = ({ sentBytes, totalBytes }) => line.status(`sending… ${Math.floor((100 * sentBytes) / totalBytes)}%`);
  const payload = { type: 'chat', message, ...(attachment ? { attachment, onProgress, signal: controller.signal } : {}) };
  $('text').value = '';
  $('file').value = '';
  $('file-name').textContent = 'Attach';
  try {
    if (to) {
      await room.messaging.sendMessage({ to, ...payload });
      line.status('delivered');
    } else {
      const outcomes = await room.messaging.broadcastMessage(payload);
      const failed = outcomes.filter((o) => !o.ok);
      line.status(failed.length === 0 ? `delivered to ${outcomes.length}` : `not delivered to ${failed.map((o) => nameOf(o.participant)).join(', ')}`);
    }
  } catch (error) {
    line.status(error.code === 'ABORTED' ? 'cancelled' : 'not delivered');
    if (error.code !== 'ABORTED') show($('send-error'), `${error.code ?? 'ERROR'}: ${error.message}`);
  } finally {
    controller.abort(); // removes the cancel button; too late to affect a delivered message
  }
}

async function leave() {
  clearInterval(pinger);
  stopCursors();
  stopCursors = () => {};
  serviceLost = false;
  await room?.close();
  rtts.clear();
  incoming.clear();
  published = '';
  $('room-panel').hidden = true;
  $('join-panel').hidden = false;
  $('join').disabled = false;
  $('messages').replaceChildren();
  setStatus('Not joined');
}

$('file').addEventListener('change', () => {
  const file = $('file').files[0];
  $('file-name').textContent = file ? file.name : 'Attach';
});
$('join-form').addEventListener('submit', (event) => void join(event).catch((error) => {
  show($('join-error'), `${error.code ?? 'ERROR'}: ${error.message}`);
  setStatus('Not joined');
  $('join').disabled = false;
}));
$('send-form').addEventListener('submit', (event) => void send(event));
$('leave').addEventListener('click', () => void leave());
addEventListener('pagehide', () => void room?.close());
