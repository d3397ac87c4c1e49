/** Prints the benchmark table and writes bench/results/latest.json and latest.svg. */
import { mkdirSync, writeFileSync } from 'node:fs';

export interface Figure {
  median: number;
  min: number;
  max: number;
  reps: number;
}

export interface Row {
  scenario: string;
  unit: string;
  better: 'higher' | 'lower';
  rm: Figure | string | undefined;
  raw: Figure | string | undefined;
  relay?: Figure | string | undefined;
  /** roommesh's target against `vs`: at most `ratio` × its time, or at least `ratio` × its rate. */
  goal?: { vs: 'raw' | 'relay'; ratio: number };
}

const isFigure = (value: Figure | string | undefined): value is Figure => typeof value === 'object';
const fmt = (n: number): string => (n >= 1000 ? Math.round(n).toLocaleString('en') : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const cell = (value: Figure | string | undefined): string =>
  isFigure(value) ? (value.reps > 1 ? `${fmt(value.median)} (${fmt(value.min)}–${fmt(value.max)})` : fmt(value.median)) : (value ?? '–');

/** roommesh ÷ other, for the row's own unit. */
export function ratio(row: Row, other: 'raw' | 'relay'): number | undefined {
  const a = row.rm;
  const b = row[other];
  return isFigure(a) && isFigure(b) && b.median !== 0 ? a.median / b.median : undefined;
}

export function goalMet(row: Row): boolean | undefined {
  if (row.goal === undefined) return undefined;
  const r = ratio(row, row.goal.vs);
  if (r === undefined) return isFigure(row.rm) && !isFigure(row[row.goal.vs]) ? true : undefined; // the other failed outright
  return row.better === 'higher' ? r >= row.goal.ratio : r <= row.goal.ratio;
}

function svg(rows: Row[], machine: string): string {
  const plotted = rows.filter((row) => ratio(row, 'raw') !== undefined);
  const width = 980;
  const valueColumn = 760; // labels sit in their own column, clear of the bars
  const rowHeight = 34;
  const left = 330;
  const top = 56;
  const height = top + plotted.length * rowHeight + 46;
  // Log scale of "how many times better than raw": > 1 means roommesh is ahead.
  const advantage = (row: Row): number => {
    const r = ratio(row, 'raw') ?? 1;
    return row.better === 'higher' ? r : 1 / r;
  };
  const span = Math.max(8, ...plotted.map((row) => Math.max(advantage(row), 1 / advantage(row))));
  const x = (value: number): number => left + ((Math.log(value) / Math.log(span) + 1) / 2) * (valueColumn - left - 20);
  const bars = plotted
    .map((row, i) => {
      const y = top + i * rowHeight;
      const a = advantage(row);
      const x0 = x(1);
      const x1 = x(a);
      const met = goalMet(row);
      const color = met === false ? '#d9822b' : a >= 1 ? '#2f7d4a' : '#b3403a';
      const label = a >= 1 ? `${a.toFixed(2)}× better` : `${(1 / a).toFixed(2)}× worse`;
      return `<text x="${left - 10}" y="${y + 21}" text-anchor="end">${escape(row.scenario)}</text>
<rect x="${Math.min(x0, x1)}" y="${y + 8}" width="${Math.max(2, Math.abs(x1 - x0))}" height="18" fill="${color}" rx="2"/>
<text x="${valueColumn}" y="${y + 21}" class="v">${label}${met === undefined ? '' : met ? ' ✓ goal met' : ' · goal missed'}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">
<style>text{fill:#1c2230}.v{font-size:12px}.m{fill:#6b7385;font-size:12px}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="26" font-size="16" font-weight="600">roommesh relative to raw simple-peer data channels</text>
<text x="16" y="44" class="m">${escape(machine)}. Right of the line: roommesh is ahead.</text>
<line x1="${x(1)}" y1="${top}" x2="${x(1)}" y2="${height - 40}" stroke="#9aa1b1"/>
${bars}
<text x="${x(1)}" y="${height - 20}" text-anchor="middle" class="m">same as raw</text>
</svg>
`;
}

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

export async function writeReport(rows: Row[], meta: Record<string, unknown> & { machine: string }): Promise<void> {
  const header = ['scenario', 'unit', 'roommesh', 'raw simple-peer', 'Socket.IO relay', 'rm/raw', 'rm/relay', 'goal'];
  const lines = rows.map((row) => {
    const r = ratio(row, 'raw');
    const q = ratio(row, 'relay');
    const met = goalMet(row);
    const goal = row.goal === undefined ? '' : `${row.better === 'higher' ? '≥' : '≤'} ${row.goal.ratio}× ${row.goal.vs}: ${met === undefined ? '?' : met ? 'met' : 'missed'}`;
    return [row.scenario, row.unit, cell(row.rm), cell(row.raw), cell(row.relay), r === undefined ? '' : `${r.toFixed(2)}×`, q === undefined ? '' : `${q.toFixed(2)}×`, goal];
  });
  const table = [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  console.log(`\n${meta.machine}\n\n${table}\n`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', `${JSON.stringify({ date: new Date().toISOString(), ...meta, rows }, null, 2)}\n`);
  writeFileSync('bench/results/latest.md', `${table}\n`);
  writeFileSync('bench/results/latest.svg', svg(rows, meta.machine));
  console.log('wrote bench/results/latest.json, latest.md and latest.svg');
}
