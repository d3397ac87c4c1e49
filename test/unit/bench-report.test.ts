// The benchmark's report (bench/report.ts) is pure: its table and chart from rows, three parties per stack.
import { describe, expect, it } from 'vitest';
import { aheadOfTrystero, ratio, table, versusTrystero, type Row } from '../../bench/report.js';

const fig = (median: number) => ({ median, min: median, max: median, reps: 1 });

const rows: Row[] = [
  { scenario: 'round trip', unit: 'ms', better: 'lower', stacks: { 'node-datachannel': { rm: fig(0.4), ty: fig(0.5), raw: fig(0.2), goal: 1.3 } } },
  { scenario: 'small messages', unit: 'msgs/s', better: 'higher', stacks: { 'node-datachannel': { rm: fig(100), ty: fig(200), raw: fig(100) } } },
  { scenario: 'attachment', unit: 'MB/s', better: 'higher', stacks: { 'node-datachannel': { rm: fig(100), ty: 'failed: chunks dropped', raw: fig(120) } } },
];

describe('the benchmark report', () => {
  it('gives roommesh ÷ raw and roommesh ÷ Trystero, and who is ahead by the row’s own direction', () => {
    const [rtt, small, bulk] = rows as [Row, Row, Row];
    expect(ratio(rtt, 'node-datachannel')).toBeCloseTo(2);
    expect(versusTrystero(rtt, 'node-datachannel')).toBeCloseTo(0.8);
    expect(aheadOfTrystero(rtt, 'node-datachannel')).toBe(true); // lower is better: 0.4 ms against 0.5
    expect(aheadOfTrystero(small, 'node-datachannel')).toBe(false); // higher is better: 100/s against 200
    expect(aheadOfTrystero(bulk, 'node-datachannel')).toBeUndefined(); // Trystero failed: no ratio
  });

  it('shows the three parties, the ratios and a failure’s reason in the table', () => {
    const text = table(rows, ['node-datachannel']);
    const header = text.split('\n')[0] ?? '';
    expect(header).toContain('Trystero (ndc)');
    expect(header).toContain('rm/Trystero (ndc)');
    expect(text).toContain('| 2.00× | ≤ 1.3×: missed | 0.80× (ahead) |');
    expect(text).toContain('0.50× (behind)');
    expect(text).toContain('failed: chunks dropped');
  });
});
