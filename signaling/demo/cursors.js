// Live cursors: each page broadcasts its pointer as a `latest` message (only the newest unsent
// value per recipient is kept, and never an older one shown after a newer one), at most once a
// frame, as a fraction of the room panel; the others draw it with the sender's name.

const CURSOR = 'roommesh-demo:cursor';
/** A cursor not moved for this long fades out. */
const IDLE_MS = 4_000;

/** Starts sending this page's cursor and drawing the others'; returns the function that stops both. */
export function startCursors(messaging, panel, nameOf) {
  messaging.setDelivery(CURSOR, 'latest');
  const layer = document.createElement('div');
  layer.className = 'cursors';
  layer.setAttribute('aria-hidden', 'true');
  panel.append(layer);
  /** participant id → { element, timer } */
  const shown = new Map();
  let pending;
  let frame = 0;

  const onMove = (event) => {
    const box = panel.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;
    pending = { x: (event.clientX - box.left) / box.width, y: (event.clientY - box.top) / box.height };
    if (frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const message = pending;
      if (message === undefined || messaging.getParticipants().length === 0) return;
      // Resolves once written; never waits for anyone. A failure (nobody left, say) changes nothing here.
      messaging.broadcastMessage({ type: CURSOR, message }).catch(() => {});
    });
  };
  panel.addEventListener('pointermove', onMove);

  const offMessage = messaging.on('message', (m) => {
    if (m.type !== CURSOR) return;
    const x = Number(m.message.x);
    const y = Number(m.message.y);
    if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return; // another page's values are not trusted
    let entry = shown.get(m.fromParticipantId);
    if (entry === undefined) {
      const element = document.createElement('span');
      element.className = 'cursor';
      element.dataset.participant = m.fromParticipantId;
      element.textContent = nameOf(m.from);
      element.style.setProperty('--hue', String(hue(m.fromParticipantId)));
      layer.append(element);
      entry = { element, timer: undefined };
      shown.set(m.fromParticipantId, entry);
    }
    entry.element.hidden = false;
    entry.element.style.left = `${(x * 100).toFixed(2)}%`;
    entry.element.style.top = `${(y * 100).toFixed(2)}%`;
    clearTimeout(entry.timer);
    const { element } = entry;
    entry.timer = setTimeout(() => (element.hidden = true), IDLE_MS);
  });
  const offRemoved = messaging.on('participant_removed', (p) => {
    const entry = shown.get(p.id);
    shown.delete(p.id);
    clearTimeout(entry?.timer);
    entry?.element.remove();
  });

  return () => {
    panel.removeEventListener('pointermove', onMove);
    cancelAnimationFrame(frame);
    offMessage();
    offRemoved();
    for (const { timer } of shown.values()) clearTimeout(timer);
    shown.clear();
    layer.remove();
  };
}

/** A hue of the participant's own, the same on every page. */
function hue(id) {
  let h = 0;
  for (const char of id) h = (h * 31 + char.charCodeAt(0)) % 360;
  return h;
}

export const isCursor = (type) => type === CURSOR;
