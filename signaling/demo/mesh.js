// The demo's picture of the room: every participant on a circle, and each link between two of
// them, solid when direct, dotted when direct through a TURN server, dashed when relayed by the
// service, labelled with its round trip. This page measures
// its own links; the others' come from the `mesh` attribute each demo page publishes.
const SVG = 'http://www.w3.org/2000/svg';
/** A label in a circle holds this many characters (graphemes: an emoji is one, never cut in half). */
const LABEL_GRAPHEMES = 5;
const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : undefined;

/** A node's circle, and the widest label it holds. */
const NODE_RADIUS = 19;
const LABEL_WIDTH = 2 * NODE_RADIUS - 6;

const graphemesOf = (text) => (segmenter ? [...segmenter.segment(text)].map((s) => s.segment) : Array.from(text));

/** `text` cut to `max` graphemes, with an ellipsis when it was longer. */
function shorten(text, max) {
  const graphemes = graphemesOf(text);
  return graphemes.length > max ? `${graphemes.slice(0, max - 1).join('').trimEnd()}…` : text;
}

/** Shortens a drawn label, a grapheme at a time, until it fits its circle (wide glyphs such as emoji take more room). */
function fit(label, full) {
  for (let keep = graphemesOf(label.textContent).length - 1; keep >= 1 && label.getComputedTextLength() > LABEL_WIDTH; keep--) {
    label.textContent = shorten(full, keep);
  }
}

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Whether a participant's direct link goes through a TURN server (either end's candidate is a relay). */
export const viaTurn = (p) => p.link === 'direct' && (p.path?.local === 'relay' || p.path?.remote === 'relay');

/**
 * Draws `svg`: `me` ({ id, name }), `others` (participants, each with `link` and `attributes.mesh`),
 * and `mine` (a Map of id → round trip in ms, measured by this page).
 */
export function drawMesh(svg, me, others, mine) {
  const nodes = [me, ...others];
  const radius = nodes.length === 1 ? 0 : 80;
  const at = new Map(nodes.map((node, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length;
    return [node.id, { x: radius * Math.cos(angle), y: radius * Math.sin(angle) }];
  }));
  const edges = new Map();
  const add = (a, b, link, rtt, turn) => {
    const key = a < b ? `${a} ${b}` : `${b} ${a}`;
    const known = edges.get(key);
    edges.set(key, { a, b, link: known?.link === 'relayed' ? 'relayed' : link, rtt: known?.rtt ?? rtt, turn: known?.turn ?? turn });
  };
  for (const other of others) add(me.id, other.id, other.link, mine.get(other.id), viaTurn(other));
  for (const other of others) {
    const published = other.attributes?.mesh;
    if (published === null || typeof published !== 'object') continue;
    for (const [peer, { link, rtt, turn } = {}] of Object.entries(published)) {
      if (peer !== me.id && at.has(peer) && (link === 'direct' || link === 'relayed')) add(other.id, peer, link, typeof rtt === 'number' ? rtt : undefined, turn === true);
    }
  }
  const parts = [];
  for (const { a, b, link, turn } of edges.values()) {
    const p = at.get(a);
    const q = at.get(b);
    parts.push(element('line', { class: `edge ${link}${turn ? ' turn' : ''}`, x1: p.x, y1: p.y, x2: q.x, y2: q.y, 'data-link': turn ? 'turn' : link }));
  }
  // Round trips after every line, each on a halo of the card's colour, so no line crosses a label.
  for (const { a, b, rtt } of edges.values()) {
    if (rtt === undefined) continue;
    const p = at.get(a);
    const q = at.get(b);
    parts.push(element('text', { class: 'rtt', x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 + 3.5 }, rtt < 10 ? rtt.toFixed(1) : Math.round(rtt)));
  }
  for (const node of nodes) {
    const { x, y } = at.get(node.id);
    const group = element('g', { class: node === me ? 'node me' : 'node', transform: `translate(${x} ${y})` });
    const label = String(node.name || node.id.slice(0, 6));
    const text = element('text', { y: 4, 'data-full': label }, shorten(label, LABEL_GRAPHEMES));
    group.append(element('circle', { r: NODE_RADIUS }), text);
    group.append(element('title', {}, node === me ? `${label} (you)` : label));
    parts.push(group);
  }
  svg.replaceChildren(...parts);
  for (const text of svg.querySelectorAll('g.node text')) fit(text, text.dataset.full ?? text.getAttribute('data-full'));
}
