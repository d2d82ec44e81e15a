/**
 * The bench runner behind `npm run bench` and `chatstore bench`: picks the contenders, runs every
 * chosen workload on each (fresh storage each time, in a temp dir and a fresh Redis key prefix,
 * both removed at the end), checks the targets, and writes the report.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WORKLOADS, WORKLOADS, type WorkloadId, type Workspace } from './contender.js';
import {
  connectRedis,
  DEFAULT_REDIS_URL,
  deletePrefix,
  describeRedis,
  KEY_ROOT,
  type RedisDurability,
} from './contenders/_redis.js';
import {
  BENCH_BACKENDS,
  type BenchBackend,
  backendContenders,
  NAIVE_DESIGNS,
  type NaiveDesign,
  naiveContenders,
} from './contenders/index.js';
import { machineInfo, now } from './harness.js';
import { type BenchReport, type ReportFiles, writeReport } from './report.js';
import { evaluateTargets } from './targets.js';
import type { Row, Sizes, WorkloadContext, WorkloadResult } from './workload.js';
import { loadWorkloads } from './workloads/index.js';

/** The sizes of a full run: about 10 minutes for `--backend sqlite` on a 2-core machine. */
export const FULL_SIZES: Readonly<Sizes> = {
  w1Appends: 5000,
  w1Warmup: 200,
  w1lAppends: 200_000,
  w1lBlock: 10_000,
  w1lConversations: 200,
  w2Writers: 8,
  w2PerWriter: 500,
  w2SpreadConversations: 200,
  w3Sizes: [100, 1000, 10_000, 100_000, 1_000_000],
  w3Reads: 1000,
  w4Messages: 10_000,
  w4Page: 50,
  w4Passes: 5,
  w5Messages: 1_000_000,
  w5Conversations: 1000,
  w5Queries: 300,
  w6Messages: 100_000,
  w6Conversations: 100,
  w6Batch: 500,
  w7Conversations: 10_000,
  w7Messages: 5,
  w7Reads: 20_000,
  archiveConversations: 1000,
  archiveMessages: 50,
  migrateMessages: 1_000_000,
  webhookRequests: 300,
  httpConnections: 64,
  httpSeconds: 10,
  workerAppends: 500,
  workerReads: 500,
  workerRounds: 5,
  workerWarmup: 50,
  workerHistory: 200,
  workerDirect: 200,
  workerCallers: 8,
  sampleBudgetMs: 10_000,
  fillLimitMs: 180_000,
  w5FillLimitMs: 300_000,
};

/** `--quick`: tiny sizes, so CI runs every code path in seconds. Numbers from it mean nothing. */
export const QUICK_SIZES: Readonly<Sizes> = {
  w1Appends: 200,
  w1Warmup: 20,
  w1lAppends: 2000,
  w1lBlock: 500,
  w1lConversations: 200,
  w2Writers: 8,
  w2PerWriter: 50,
  w2SpreadConversations: 20,
  w3Sizes: [100, 1000],
  w3Reads: 100,
  w4Messages: 1000,
  w4Page: 50,
  w4Passes: 2,
  w5Messages: 10_000,
  w5Conversations: 100,
  w5Queries: 50,
  w6Messages: 5000,
  w6Conversations: 10,
  w6Batch: 500,
  w7Conversations: 200,
  w7Messages: 3,
  w7Reads: 500,
  archiveConversations: 20,
  archiveMessages: 10,
  migrateMessages: 5000,
  webhookRequests: 5,
  httpConnections: 10,
  httpSeconds: 1,
  workerAppends: 60,
  workerReads: 60,
  workerRounds: 2,
  workerWarmup: 5,
  workerHistory: 200,
  workerDirect: 20,
  workerCallers: 8,
  sampleBudgetMs: 2000,
  fillLimitMs: 30_000,
  w5FillLimitMs: 30_000,
};

/** Naive contenders stop each measurement after this long (full run / quick run). */
const NAIVE_CAP_MS = { full: 20_000, quick: 5000 } as const;

/** @example await runBench({ backends: ['memory'], quick: true, out: '/tmp/bench' }); */

export interface BenchOptions {
  /** Backends to bench (default `['sqlite']`). */
  backends?: readonly string[];
  quick?: boolean;
  /** Directory for the report files (default `bench/results` of this checkout). */
  out?: string;
  /** Workloads to run (`W1` … `W6`, and the opt-in `W1L` and `http`; default W1–W6). */
  workloads?: readonly string[];
  /** Naive designs to include (default all three; `[]` for none). */
  naive?: readonly string[];
  /** Overrides of the chosen size set (tests make it smaller still). */
  sizes?: Partial<Sizes>;
  /** Redis for the naive Redis designs (default `$REDIS_URL`, else DB 11 on localhost). */
  redisUrl?: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** @example const { report, files } = await runBench({ quick: true }); */
export async function runBench(options: BenchOptions = {}): Promise<{ report: BenchReport; files: ReportFiles }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const quick = options.quick === true;
  const backends = pick(options.backends ?? ['sqlite'], BENCH_BACKENDS, 'backend') as BenchBackend[];
  const designs = pick(options.naive ?? NAIVE_DESIGNS, NAIVE_DESIGNS, 'naive design') as NaiveDesign[];
  const workloadIds = pick(
    (options.workloads ?? DEFAULT_WORKLOADS).map(normalizeWorkload),
    WORKLOADS,
    'workload',
  ) as WorkloadId[];
  const sizes: Sizes = { ...(quick ? QUICK_SIZES : FULL_SIZES), ...options.sizes };
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const startedAt = new Date();
  const started = now();

  const machine = machineInfo();
  const usesRedis = designs.some((design) => design.startsWith('redis'));
  let redis: { durability: RedisDurability } | { unreachable: string } = { unreachable: 'Redis not used' };
  if (usesRedis) {
    try {
      const described = await describeRedis(redisUrl);
      machine.redis = described.version;
      redis = { durability: described.durability };
    } catch (error) {
      redis = { unreachable: `Redis unreachable at ${redactUrl(redisUrl)} (${errorText(error)})` };
      log(`warning: ${redis.unreachable}; the naive Redis designs are skipped`);
    }
  }
  if (backends.includes('sqlite')) machine.sqlite = await sqliteVersion();

  const contenders = [
    ...backends.flatMap(backendContenders),
    ...naiveContenders(designs, { capMs: quick ? NAIVE_CAP_MS.quick : NAIVE_CAP_MS.full, redis }),
  ];
  const workloads = (await loadWorkloads()).filter((workload) => workloadIds.includes(workload.id));
  const missing = workloadIds.filter((id) => !workloads.some((workload) => workload.id === id));
  if (missing.length > 0) throw new Error(`workload ${missing.join(', ')} is not available in this checkout`);

  const root = await mkdtemp(join(tmpdir(), 'chatstore-bench-'));
  const runPrefix = `${KEY_ROOT}${randomBytes(4).toString('hex')}:`;
  let opened = 0;
  const freshWorkspace = async () => {
    opened += 1;
    const dir = join(root, String(opened));
    await mkdir(dir);
    const workspace: Workspace = { dir, keyPrefix: `${runPrefix}${opened}:`, redisUrl };
    return { workspace, dispose: () => rm(dir, { recursive: true, force: true }) };
  };
  const context: WorkloadContext = {
    sizes,
    quick,
    log: (line) => log(`  ${line}`),
    workspace: freshWorkspace,
    async open(contender) {
      const { workspace, dispose: remove } = await freshWorkspace();
      try {
        const instance = await contender.open(workspace);
        return {
          instance,
          async dispose() {
            try {
              await instance.close();
            } finally {
              await remove();
            }
          },
        };
      } catch (error) {
        await remove();
        throw error;
      }
    },
  };

  const results: WorkloadResult[] = [];
  try {
    for (const workload of workloads) {
      log(`${workload.title}`);
      const rows: Row[] = [];
      for (const contender of contenders) {
        const described = { contender: contender.name, durability: contender.durabilityLabel };
        const notRun = contender.notRun?.[workload.id];
        if (notRun !== undefined) {
          rows.push({ ...described, status: notRun.status, note: notRun.reason, cells: {} });
          continue;
        }
        const began = now();
        try {
          for (const row of await workload.run(contender, context)) rows.push({ ...described, ...row });
          log(`  ${contender.name}: ${((now() - began) / 1000).toFixed(1)} s`);
        } catch (error) {
          log(`  ${contender.name}: error: ${errorText(error)}`);
          rows.push({ ...described, status: 'error', note: errorText(error), cells: {} });
        }
      }
      results.push({
        id: workload.id,
        title: workload.title,
        method: workload.method(sizes),
        columns: workload.columns,
        rows,
      });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
    if (usesRedis && 'durability' in redis) await sweepRedis(redisUrl, runPrefix);
  }

  const finishedAt = new Date();
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((now() - started) / 100) / 10,
    quick,
    command: commandLine(backends, quick, workloadIds, designs),
    backends,
    machine,
    sizes,
    contenders: contenders.map((contender) => ({
      name: contender.name,
      kind: contender.kind,
      engine: contender.engine,
      durabilityLabel: contender.durabilityLabel,
      durability: contender.durability,
      ...(contender.capMs === undefined ? {} : { cap: `${contender.capMs / 1000} s per measurement` }),
    })),
    targets: [],
    workloads: results,
  };
  report.targets = evaluateTargets(report);
  const out = options.out ?? fileURLToPath(new URL('./results/', import.meta.url));
  const files = await writeReport(report, out);
  return { report, files };
}

function normalizeWorkload(name: string): string {
  return /^w\d+l?$/i.test(name.trim()) ? name.toUpperCase() : name.toLowerCase();
}

function pick(names: readonly string[], known: readonly string[], what: string): string[] {
  const chosen = [...new Set(names.map((name) => name.trim()).filter((name) => name !== ''))];
  for (const name of chosen) {
    if (!known.includes(name)) throw new Error(`unknown ${what} "${name}" (known: ${known.join(', ')})`);
  }
  return chosen;
}

async function sqliteVersion(): Promise<string> {
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(':memory:');
    try {
      return (db.prepare('SELECT sqlite_version() AS version').get() as { version: string }).version;
    } finally {
      db.close();
    }
  } catch (error) {
    return `unavailable (${errorText(error)})`;
  }
}

/** Removes whatever keys this run left behind (a contender that failed before its own cleanup). */
async function sweepRedis(url: string, prefix: string): Promise<void> {
  try {
    const redis = await connectRedis(url);
    try {
      await deletePrefix(redis, prefix);
    } finally {
      redis.disconnect();
    }
  } catch {
    // Redis went away during the run: nothing can be removed, and the rows already say why
  }
}

function commandLine(backends: string[], quick: boolean, workloads: string[], designs: string[]): string {
  const parts = ['npm run bench --', `--backend ${backends.join(',')}`];
  if (quick) parts.push('--quick');
  const isDefault =
    workloads.length === DEFAULT_WORKLOADS.length && DEFAULT_WORKLOADS.every((id) => workloads.includes(id));
  if (!isDefault) parts.push(`--workloads ${workloads.join(',')}`);
  if (designs.length !== NAIVE_DESIGNS.length)
    parts.push(designs.length === 0 ? '--no-naive' : `--naive ${designs.join(',')}`);
  return parts.join(' ');
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
