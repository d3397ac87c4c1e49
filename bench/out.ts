/**
 * Where the benchmarks write their results: test-artifacts/bench/ (not tracked: the figures
 * are this machine's and go stale with every change), or ROOMMESH_BENCH_OUT. Dated snapshots
 * worth keeping go into docs/performance.md by hand.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RESULTS_DIR = process.env['ROOMMESH_BENCH_OUT'] ?? 'test-artifacts/bench';

/** Writes one result file (e.g. `latest.md`) and returns its path. */
export function writeResult(file: string, content: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, file);
  writeFileSync(path, content);
  return path;
}
