/** The benchmarks' one way of summarizing repetitions: a warm-up, then the median and spread. */
import type { Figure } from './report.js';

export const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

export const figure = (values: number[]): Figure => ({ median: median(values), min: Math.min(...values), max: Math.max(...values), reps: values.length });

/** Runs `once` a warm-up time, then `reps` times. */
export async function repeat(once: () => Promise<number>, reps: number): Promise<Figure> {
  await once();
  const values: number[] = [];
  for (let i = 0; i < reps; i++) values.push(await once());
  return figure(values);
}
