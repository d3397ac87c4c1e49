/** "Did you mean": the nearest of some names to a mistyped one, for the client's option checks and the command's flags. Pure. */

/** How many single-character edits (insertions, deletions, substitutions, swaps of neighbours) turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The first of `names` within a quarter of its length (at least one) in edits of `word`, ignoring case; undefined when none is near. */
export function nearestName(word: string, names: readonly string[]): string | undefined {
  return names.find((name) => editDistance(word.toLowerCase(), name.toLowerCase()) <= Math.max(1, Math.floor(name.length / 4)));
}
