/** Prints the benchmark table (one column group per stack) and writes latest.json, latest.md and latest.svg to test-artifacts/bench/ (bench/out.ts). */
import { RESULTS_DIR, writeResult } from './out.js';
import { SHORT, type Stack } from './stack.js';

export interface Figure {
  median: number;
  min: number;
  max: number;
  reps: number;
}

export type Value = Figure | string | undefined;

/** roommesh's target against raw on the same stack: at most `ratio` × its time, or at least `ratio` × its rate. */
export type Goal = number;

export interface Row {
  scenario: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Per stack: roommesh, raw simple-peer and Trystero (`ty`) on it, and the goal for roommesh ÷ raw. */
  stacks: Partial<Record<Stack, { rm: Value; raw: Value; ty?: Value; goal?: Goal }>>;
  /** The plain Socket.IO relay (no WebRTC stack). */
  relay?: Value;
}

const isFigure = (value: Value): value is Figure => typeof value === 'object';
const fmt = (n: number): string => (n >= 1000 ? Math.round(n).toLocaleString('en') : n >= 10 ? n.toFixed(1) : n.toFixed(2));
export const cell = (value: Value): string =>
  isFigure(value) ? (value.reps > 1 ? `${fmt(value.median)} (${fmt(value.min)}–${fmt(value.max)})` : fmt(value.median)) : (value ?? '–');

const divide = (a: Value, b: Value): number | undefined => (isFigure(a) && isFigure(b) && b.median !== 0 ? a.median / b.median : undefined);

/** roommesh ÷ raw on `stack`, in the row's own unit. */
export function ratio(row: Row, stack: Stack): number | undefined {
  const s = row.stacks[stack];
  return s === undefined ? undefined : divide(s.rm, s.raw);
}

/** `party` (roommesh or Trystero) ÷ raw on `stack`. */
const overRaw = (row: Row, stack: Stack, party: Party): number | undefined => {
  const s = row.stacks[stack];
  return s === undefined ? undefined : divide(s[party], s.raw);
};

/** roommesh ÷ Trystero on `stack`, in the row's own unit. */
export function versusTrystero(row: Row, stack: Stack): number | undefined {
  const s = row.stacks[stack];
  return s === undefined ? undefined : divide(s.rm, s.ty);
}

/** Whether roommesh is ahead of Trystero on the row (the goal on every row). */
export function aheadOfTrystero(row: Row, stack: Stack): boolean | undefined {
  const r = versusTrystero(row, stack);
  return r === undefined ? undefined : ahead(r, row.better);
}

const ahead = (ratio: number, better: Row['better']): boolean => (better === 'higher' ? ratio >= 1 : ratio <= 1);

/** `a` ÷ `b` and which is ahead by the row's direction ("0.80× (ahead)"); '' when either is not a figure. */
export function versusText(a: Value, b: Value, better: Row['better']): string {
  const r = divide(a, b);
  return r === undefined ? '' : `${r.toFixed(2)}× ${ahead(r, better) ? '(ahead)' : '(behind)'}`;
}

type Party = 'rm' | 'ty';

export function goalMet(row: Row, stack: Stack): boolean | undefined {
  const s = row.stacks[stack];
  if (s?.goal === undefined) return undefined;
  const r = ratio(row, stack);
  if (r === undefined) return isFigure(s.rm) && !isFigure(s.raw) ? true : undefined; // raw failed outright
  return row.better === 'higher' ? r >= s.goal : r <= s.goal;
}

const goalText = (row: Row, stack: Stack): string => {
  const goal = row.stacks[stack]?.goal;
  if (goal === undefined) return '';
  const met = goalMet(row, stack);
  return `${row.better === 'higher' ? '≥' : '≤'} ${goal}×: ${met === undefined ? '?' : met ? 'met' : 'missed'}`;
};

const COLORS: Record<Party, Record<Stack, string>> = {
  rm: { '@roamhq/wrtc': '#3b6fb6', 'node-datachannel': '#8a4fb0' },
  ty: { '@roamhq/wrtc': '#e08a2c', 'node-datachannel': '#c9603a' },
};
const NAME: Record<Party, string> = { rm: 'roommesh', ty: 'Trystero' };

function svg(rows: Row[], stacks: readonly Stack[], machine: string): string {
  const plotted = rows.filter((row) => stacks.some((s) => ratio(row, s) !== undefined));
  const bars = stacks.flatMap((stack) => (['rm', 'ty'] as const).map((party) => ({ stack, party })));
  const width = 1040;
  const valueColumn = 780;
  const bar = 14;
  const rowHeight = 8 + bar * bars.length + 8;
  const left = 340;
  const top = 76;
  const height = top + plotted.length * rowHeight + 46;
  // Log scale of "how many times better than raw on the same stack": > 1 means ahead of raw.
  const advantage = (row: Row, stack: Stack, party: Party): number | undefined => {
    const r = overRaw(row, stack, party);
    return r === undefined ? undefined : row.better === 'higher' ? r : 1 / r;
  };
  const all = plotted.flatMap((row) => bars.map((b) => advantage(row, b.stack, b.party)).filter((a): a is number => a !== undefined));
  const span = Math.max(8, ...all.map((a) => Math.max(a, 1 / a)));
  const x = (value: number): number => left + ((Math.log(value) / Math.log(span) + 1) / 2) * (valueColumn - left - 20);
  const drawn = plotted
    .map((row, i) => {
      const y = top + i * rowHeight;
      const perBar = bars
        .map(({ stack, party }, k) => {
          const a = advantage(row, stack, party);
          if (a === undefined) return '';
          const yy = y + 6 + k * bar;
          const met = party === 'rm' ? goalMet(row, stack) : undefined;
          const label = `${NAME[party]} ${SHORT[stack]}: ${a >= 1 ? `${a.toFixed(2)}× better` : `${(1 / a).toFixed(2)}× worse`}${met === undefined ? '' : met ? ' ✓ goal met' : ' · goal missed'}`;
          return `<rect x="${Math.min(x(1), x(a))}" y="${yy}" width="${Math.max(2, Math.abs(x(a) - x(1)))}" height="${bar - 3}" fill="${COLORS[party][stack]}" opacity="${met === false ? 0.55 : 1}" rx="2"/>
<text x="${valueColumn}" y="${yy + 10}" class="v">${escape(label)}</text>`;
        })
        .join('\n');
      return `<text x="${left - 10}" y="${y + 6 + (bar * bars.length) / 2 + 4}" text-anchor="end">${escape(row.scenario)}</text>\n${perBar}`;
    })
    .join('\n');
  const legend = bars
    .map(({ stack, party }, k) => `<rect x="${16 + k * 200}" y="54" width="12" height="12" fill="${COLORS[party][stack]}"/><text x="${34 + k * 200}" y="64" class="m">${escape(`${NAME[party]} on ${SHORT[stack]}`)}</text>`)
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">
<style>text{fill:#1c2230}.v{font-size:11px}.m{fill:#6b7385;font-size:12px}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="26" font-size="16" font-weight="600">roommesh and Trystero relative to raw simple-peer data channels on the same stack</text>
<text x="16" y="44" class="m">${escape(machine)}. Right of the line: ahead of raw. Faded: roommesh's goal missed.</text>
${legend}
<line x1="${x(1)}" y1="${top}" x2="${x(1)}" y2="${height - 40}" stroke="#9aa1b1"/>
${drawn}
<text x="${x(1)}" y="${height - 20}" text-anchor="middle" class="m">same as raw</text>
</svg>
`;
}

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

export function table(rows: Row[], stacks: readonly Stack[]): string {
  const first = stacks[0];
  const header = [
    'scenario',
    'unit',
    ...stacks.flatMap((s) => [`roommesh (${SHORT[s]})`, `Trystero (${SHORT[s]})`, `raw (${SHORT[s]})`, `rm/raw (${SHORT[s]})`, `goal (${SHORT[s]})`, `rm/Trystero (${SHORT[s]})`]),
    'Socket.IO relay',
    `rm/relay${first ? ` (${SHORT[first]})` : ''}`,
  ];
  const lines = rows.map((row) => {
    const perStack = stacks.flatMap((s) => {
      const r = ratio(row, s);
      return [
        cell(row.stacks[s]?.rm),
        cell(row.stacks[s]?.ty),
        cell(row.stacks[s]?.raw),
        r === undefined ? '' : `${r.toFixed(2)}×`,
        goalText(row, s),
        versusText(row.stacks[s]?.rm, row.stacks[s]?.ty, row.better),
      ];
    });
    const q = first === undefined ? undefined : divide(row.stacks[first]?.rm, row.relay);
    return [row.scenario, row.unit, ...perStack, row.relay === undefined ? '' : cell(row.relay), q === undefined ? '' : `${q.toFixed(2)}×`];
  });
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Writes the report; `extra`, more markdown (the browser table), follows the table. */
export async function writeReport(rows: Row[], stacks: readonly Stack[], meta: Record<string, unknown> & { machine: string }, extra = ''): Promise<void> {
  const text = `${table(rows, stacks)}${extra === '' ? '' : `\n\n${extra}`}`;
  console.log(`\n${meta.machine}\n\n${text}\n`);
  writeResult('latest.json', `${JSON.stringify({ date: new Date().toISOString(), stacks, ...meta, rows }, null, 2)}\n`);
  writeResult('latest.md', `${text}\n`);
  writeResult('latest.svg', svg(rows, stacks, meta.machine));
  console.log(`wrote latest.json, latest.md and latest.svg to ${RESULTS_DIR}`);
}
