/**
 * Opening and closing the mysql backend: the options checked, the driver loaded on first use, the
 * pool made from a URL (or yours, checked for utf8mb4), the schema migrated, and the context every
 * other part shares built around it.
 */
import type { Backend } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import { lazyDriver } from '../lazy-driver.js';
import { createContext, type MysqlContext } from './context.js';
import { toChatStoreError } from './errors.js';
import { type MysqlMigrationPlan, migrate } from './migrate.js';
import type { MysqlOptions } from './options.js';
import { type ConnectionSettings, checkOptions, type MysqlSettings } from './options.js';
import type { MysqlPool, MysqlPoolConnection } from './pool.js';
import type { MysqlLayout } from './schema.js';

type MysqlDriver = typeof import('mysql2/promise');

const CONNECT_TIMEOUT_MS = 10_000;
const MISSING_DRIVER_MESSAGE = 'the mysql backend needs mysql2: npm install mysql2';

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(
  () =>
    import('mysql2/promise').then((module) => ((module as { default?: MysqlDriver }).default ?? module) as MysqlDriver),
  MISSING_DRIVER_MESSAGE,
);

/** Opens the pool (unless it is yours), migrates the database and builds the shared context. */
export async function connect(options: MysqlOptions): Promise<MysqlContext> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  const ownsPool = settings.pool === undefined;
  let layout: MysqlLayout;
  try {
    const database = settings.database ?? (await currentDatabase(pool));
    layout = (await migrateWith(pool, database, ownsPool)).layout;
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw toChatStoreError(error);
  }
  return createContext(pool, ownsPool, layout);
}

/** `mysqlMigrations`: plans (or applies) the migrations on a pool that lives for this call only. */
export async function migrationPlan(options: MysqlOptions & { dryRun?: boolean }): Promise<MysqlMigrationPlan> {
  const settings = checkOptions(options);
  const pool = settings.pool ?? (await makePool(settings));
  try {
    const database = settings.database ?? (await currentDatabase(pool));
    return await migrateWith(pool, database, settings.pool === undefined, options.dryRun === true);
  } catch (error) {
    throw toChatStoreError(error);
  } finally {
    if (settings.pool === undefined) await pool.end().catch(() => undefined);
  }
}

export function connectionOperations(ctx: MysqlContext): Pick<Backend, 'close'> {
  return {
    async close(): Promise<void> {
      if (ctx.lifecycle.closed) return;
      ctx.lifecycle.closed = true;
      if (ctx.ownsPool) await ctx.pool.end().catch(() => undefined);
    },
  };
}

async function makePool(settings: MysqlSettings): Promise<MysqlPool> {
  const mysql = await loadDriver();
  const connection = settings.connection as ConnectionSettings;
  return mysql.createPool({
    ...connection.extra,
    host: connection.host,
    port: connection.port,
    ...(connection.user === undefined ? {} : { user: connection.user }),
    ...(connection.password === undefined ? {} : { password: connection.password }),
    // Emoji and every other 4-byte character travel as they are.
    charset: 'utf8mb4',
    connectionLimit: settings.poolSize,
    maxIdle: settings.poolSize,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableKeepAlive: true,
  }) as unknown as MysqlPool;
}

async function currentDatabase(pool: MysqlPool): Promise<string> {
  const [result] = await pool.execute('SELECT DATABASE() AS name');
  const name = (result as { name: string | null }[])[0]?.name;
  if (typeof name !== 'string') {
    throw new ChatStoreError(
      'INVALID_ARGUMENT',
      "give the mysql backend a database (the pool's connections have none)",
      {
        path: 'database',
      },
    );
  }
  return name;
}

async function migrateWith(
  pool: MysqlPool,
  database: string,
  ownsPool: boolean,
  dryRun = false,
): Promise<MysqlMigrationPlan> {
  const connection = await pool.getConnection();
  try {
    if (!ownsPool) await checkCharset(connection);
    return await migrate(connection, database, { dryRun });
  } finally {
    connection.release();
  }
}

/** A pool of yours must talk utf8mb4, or 4-byte characters would be lost on the way. */
async function checkCharset(connection: MysqlPoolConnection): Promise<void> {
  const [result] = await connection.execute(
    'SELECT @@character_set_client AS client, @@character_set_connection AS conn, @@character_set_results AS results',
  );
  const row = (result as Record<string, string | null>[])[0] ?? {};
  const wrong = Object.values(row).filter((charset) => charset !== 'utf8mb4');
  if (wrong.length > 0) {
    throw new ChatStoreError('INVALID_ARGUMENT', `the mysql pool must use charset utf8mb4, not ${wrong.join(', ')}`, {
      path: 'pool',
    });
  }
}
