/**
 * Which contenders a run has: for each chosen backend, chatstore on it and the raw driver floor of
 * the same engine; then, once per run, the naive designs of the old systems.
 */
import { type Contender, type NotRun, WORKLOADS, type WorkloadId } from '../contender.js';
import type { RedisDurability } from './_redis.js';
import { L1_PARAMETERS, PASSED_THROUGH_BY_TIERS } from './_tiers.js';
import { chatstoreContender } from './chatstore.js';
import { mysqlContenders } from './mysql.js';
import { naiveJsonFileContender } from './naive-json-file.js';
import { naiveRedisBlobContender } from './naive-redis-blob.js';
import { naiveRedisChunksContender } from './naive-redis-chunks.js';
import { postgresContenders } from './postgres.js';
import { rawSqliteContender, SQLITE_DURABILITY } from './raw-sqlite.js';
import { redisContenders } from './redis.js';

/** Backends the bench knows how to run. @example BENCH_BACKENDS.includes('sqlite') */
export const BENCH_BACKENDS = ['memory', 'sqlite', 'redis', 'redis-cluster', 'mysql', 'postgres'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** The naive designs, by the name `--naive` takes. */
export const NAIVE_DESIGNS = ['redis-blob', 'json-file', 'redis-chunks'] as const;
export type NaiveDesign = (typeof NAIVE_DESIGNS)[number];

/** Search over the memory backend is a linear scan with per-document scoring; beyond this it takes minutes. */
const MEMORY_SEARCH_LIMIT = 10_000;

/** Reads do not touch `synchronous`: the NORMAL twin of a FULL contender skips them instead of repeating them. */
const READS_AS_FULL: NotRun = {
  status: 'skipped',
  reason: 'reads do not depend on synchronous mode: see the FULL row',
};
const READ_WORKLOADS: readonly WorkloadId[] = ['W3', 'W4', 'W5'];

function readsAsFull(extra: Partial<Record<WorkloadId, NotRun>> = {}): Partial<Record<WorkloadId, NotRun>> {
  return { ...Object.fromEntries(READ_WORKLOADS.map((id) => [id, READS_AS_FULL])), ...extra };
}

/**
 * @example const contenders = backendContenders('sqlite');
 */
export function backendContenders(backend: BenchBackend): Contender[] {
  switch (backend) {
    case 'memory':
      return [
        chatstoreContender({
          name: 'chatstore memory',
          engine: 'memory',
          durabilityLabel: 'none (memory)',
          durability: 'process memory only: nothing survives the process',
          maxSize: { W5: MEMORY_SEARCH_LIMIT },
          url: () => 'memory://',
        }),
      ];
    case 'sqlite':
      return [
        chatstoreContender({
          name: 'chatstore sqlite FULL',
          engine: 'sqlite',
          durabilityLabel: SQLITE_DURABILITY.full.label,
          durability: SQLITE_DURABILITY.full.sentence,
          url: (workspace) => `sqlite://${workspace.dir}/chat.db?durability=full`,
        }),
        rawSqliteContender('full'),
        chatstoreContender({
          name: 'chatstore sqlite FULL + L1',
          engine: 'sqlite',
          durabilityLabel: SQLITE_DURABILITY.full.label,
          durability: SQLITE_DURABILITY.full.sentence,
          notRun: PASSED_THROUGH_BY_TIERS,
          url: (workspace) => `sqlite://${workspace.dir}/chat.db?durability=full&${L1_PARAMETERS}`,
        }),
        chatstoreContender({
          name: 'chatstore sqlite NORMAL',
          engine: 'sqlite',
          durabilityLabel: SQLITE_DURABILITY.normal.label,
          durability: SQLITE_DURABILITY.normal.sentence,
          notRun: readsAsFull(),
          url: (workspace) => `sqlite://${workspace.dir}/chat.db?durability=normal`,
        }),
        rawSqliteContender('normal', {
          notRun: readsAsFull({ W5: { status: 'n/a', reason: 'the minimal table has no full-text index' } }),
        }),
      ];
    case 'redis':
    case 'redis-cluster':
      return redisContenders(backend);
    case 'mysql':
      return mysqlContenders();
    case 'postgres':
      return postgresContenders();
  }
}

/**
 * The naive designs, capped at `capMs` per measurement. Redis ones are skipped (with the reason)
 * when Redis cannot be reached.
 * @example naiveContenders(['json-file'], { capMs: 20_000, redis: undefined })
 */
export function naiveContenders(
  designs: readonly NaiveDesign[],
  options: { capMs: number; redis: { durability: RedisDurability } | { unreachable: string } },
): Contender[] {
  const unreachable = 'unreachable' in options.redis ? options.redis.unreachable : undefined;
  const redisSkip: Partial<Contender> =
    unreachable === undefined
      ? {}
      : {
          notRun: Object.fromEntries(
            WORKLOADS.map((id): [WorkloadId, NotRun] => [id, { status: 'skipped', reason: unreachable }]),
          ),
        };
  const redisDurability: RedisDurability =
    'durability' in options.redis
      ? options.redis.durability
      : { label: 'unknown', sentence: 'unknown (Redis unreachable)' };
  const capped: Partial<Contender> = { capMs: options.capMs };
  const make: Record<NaiveDesign, () => Contender> = {
    'redis-blob': () => naiveRedisBlobContender(redisDurability, { ...capped, ...redisSkip }),
    'json-file': () => naiveJsonFileContender(capped),
    'redis-chunks': () => naiveRedisChunksContender(redisDurability, { ...capped, ...redisSkip }),
  };
  return designs.map((design) => make[design]());
}
