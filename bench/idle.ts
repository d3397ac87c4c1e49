/** A party's idle cost, measured in its own process: CPU over `ms` (% of a core) and its RSS after. */
export async function idle(ms: number): Promise<{ type: 'idle'; cpuPercent: number; rss: number }> {
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return { type: 'idle', cpuPercent: ((used.user + used.system) / 1000 / (performance.now() - started)) * 100, rss: process.memoryUsage().rss };
}
