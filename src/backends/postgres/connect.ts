/**
 * Opening and closing the postgres backend: the options checked, the driver loaded on first use, the
 * pool made from a URL (or yours), the schema created or upgraded, the partition manager of a
 * `monthly` layout started, and the context every other part shares built around them.
 */
import type pg from 'pg';
import type { Backend } from '../../backend.js';
import { lazyDriver } from '../lazy-driver.js';
import { createContext, type PgContext } from './context.js';
import { toChatStoreError } from './errors.js';
import { migrate, type PgMigrationPlan } from './migrate.js';
import { checkOptions, type PgSettings } from './options.js';
import { type PgPartitions, pgPartitions } from './partitions.js';
import type { PgLayout } from './schema.js';
import type { PgPool, PostgresOptions } from './types.js';

type PgDriver = typeof pg;

const CONNECT_TIMEOUT_MS = 10_000;
const MISSING_DRIVER_MESSAGE = 'the postgres backend needs pg: npm install pg';

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(
  () => import('pg').then((module) => (module.default ?? module) as PgDriver),
  MISSING_DRIVER_MESSAGE,
);

/** Opens the pool (unless it is yours), migrates the schema and builds the shared context. */
export async function connect(options: PostgresOptions): Promise<PgContext> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  const ownsPool = settings.pool === undefined;
  let layout: PgLayout;
  let partitions: PgPartitions | undefined;
  try {
    layout = (await migrateWith(pool, settings)).layout;
    if (layout.partitioning === 'monthly') partitions = await pgPartitions(pool, layout);
  } catch (error) {
    if (ownsPool) await pool.end?.().catch(() => undefined);
    throw toChatStoreError(error);
  }
  return createContext(pool, ownsPool, layout, partitions);
}

/** `postgresMigrations`: plans (or applies) the migrations on a pool that lives for this call only. */
export async function migrationPlan(options: PostgresOptions & { dryRun?: boolean }): Promise<PgMigrationPlan> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  try {
    return await migrateWith(pool, settings, options.dryRun === true);
  } catch (error) {
    throw toChatStoreError(error);
  } finally {
    if (settings.pool === undefined) await pool.end?.().catch(() => undefined);
  }
}

export function connectionOperations(ctx: PgContext): Pick<Backend, 'close'> {
  return {
    async close(): Promise<void> {
      if (ctx.lifecycle.closed) return;
      ctx.lifecycle.closed = true;
      if (ctx.ownsPool) await ctx.pool.end?.().catch(() => undefined);
    },
  };
}

async function makePool(settings: PgSettings): Promise<PgPool> {
  const { Pool } = await loadDriver();
  const pool = new Pool({
    connectionString: settings.connectionString,
    max: settings.poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client whose server went away (restart, failover) errors here; the pool drops it and
  // connects again on demand. Without a listener the error would end the process.
  pool.on('error', () => undefined);
  return pool as unknown as PgPool;
}

async function migrateWith(pool: PgPool, settings: PgSettings, dryRun = false): Promise<PgMigrationPlan> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await migrate(
      { query: (text, values) => client.query(text, values) },
      {
        schema: settings.schema,
        ...(settings.partitioning === undefined ? {} : { partitioning: settings.partitioning }),
        ...(settings.textSearchConfig === undefined ? {} : { textSearchConfig: settings.textSearchConfig }),
      },
      { dryRun },
    );
  } catch (error) {
    if (toChatStoreError(error) !== error && error instanceof Error) broken = error;
    throw error;
  } finally {
    client.release(broken);
  }
}
