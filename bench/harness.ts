/**
 * Timing, percentiles and machine facts, the same for every workload and contender. Latencies are
 * `performance.now()` differences in milliseconds; percentiles are nearest-rank over the sorted
 * samples of the measured iterations (warm-up iterations are run and thrown away).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** A distribution of latencies, in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Nearest-rank percentile of ascending `sorted` samples: the smallest sample such that at least
 * `p` percent of the samples are ≤ it (rank ⌈p/100 · n⌉). No interpolation: every reported value
 * was actually observed.
 * @example percentile([1, 2, 3, 4], 50) === 2
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** @example summarize([3, 1, 2]).p50 === 2 */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, sample) => total + sample, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution. */
export const now = (): number => performance.now();

/** How a timed loop is bounded. */
export interface SampleOptions {
  /** Iterations run first and discarded (JIT, caches, connection setup); at most half the budget. */
  warmup: number;
  /** Measured iterations wanted. */
  iterations: number;
  /** Stop measuring after this many milliseconds, keeping what was measured (at least `minimum`). */
  budgetMs?: number;
  /** Measured iterations always taken, even past the budget. Default 5. */
  minimum?: number;
}

/**
 * Times `operation(i)` once per iteration and returns the measured latencies (ms), in order.
 * @example const samples = await sample((i) => store.recent('c', 20), { warmup: 50, iterations: 500 });
 */
export async function sample(
  operation: (iteration: number) => Promise<unknown>,
  options: SampleOptions,
): Promise<number[]> {
  const budget = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const warmupEnd = now() + budget / 2;
  let warmed = 0;
  while (warmed < options.warmup && (warmed === 0 || now() < warmupEnd)) await operation(warmed++);
  const samples: number[] = [];
  const minimum = options.minimum ?? 5;
  const deadline = now() + budget;
  for (let i = 0; i < options.iterations; i++) {
    if (i >= minimum && now() > deadline) break;
    const start = now();
    await operation(warmed + i);
    samples.push(now() - start);
  }
  return samples;
}

/** Resident set size of this process, in MiB, after a full GC when `--expose-gc` is on. */
export function rssMiB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

/** Gives the event loop (and the engines' background work) a moment between measurements. */
export function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  return new Promise((resolve) => setTimeout(resolve, 50));
}

/** What every report prints about where it ran, so two reports are comparable or visibly not. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine shows here. */
  loadAverage: number[];
  os: string;
  node: string;
  packages: Record<string, string>;
  sqlite?: string;
  redis?: string;
  gitCommit?: string;
  gcExposed: boolean;
}

/** @example const machine = machineInfo(); machine.cores; */
export function machineInfo(): MachineInfo {
  const processors = cpus();
  const packages: Record<string, string> = {};
  for (const name of ['better-sqlite3', 'ioredis', 'vega', 'vega-lite']) packages[name] = packageVersion(name);
  const info: MachineInfo = {
    cpu: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    loadAverage: loadavg().map((load) => round(load, 2)),
    os: `${process.platform} ${release()} ${process.arch}`,
    node: process.version,
    packages,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: 'pipe' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8', stdio: 'pipe' }).trim() !== '';
    info.gitCommit = `${commit}${dirty ? ' (uncommitted changes)' : ''}`;
  } catch {
    // not a git checkout: the report just says nothing about the commit
  }
  return info;
}

/** The installed version of a package (its package.json may not be exported, so it is found on disk). */
function packageVersion(name: string): string {
  try {
    const entry = createRequire(import.meta.url).resolve(name);
    for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
      const manifest = join(dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === name) return parsed.version ?? 'unknown';
    }
    return 'unknown';
  } catch {
    return 'not installed';
  }
}

/** @example round(3.14159, 2) === 3.14 */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
