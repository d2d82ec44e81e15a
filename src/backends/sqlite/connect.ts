/**
 * Opening and closing the sqlite backend's one connection: the options checked, the driver loaded on
 * first use, the file created with its directory, the pragmas set, the schema migrated, and the
 * context every other part shares built around it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { Backend } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import { lazyDriver } from '../lazy-driver.js';
import type { SqliteContext, SqliteLifecycle } from './context.js';
import { toChatStoreError } from './errors.js';
import type { SqliteOptions } from './options.js';
import { prepareStatements } from './prepared.js';
import { migrateSqlite } from './schema.js';
import { searchIndexer } from './search.js';
import { transactions } from './transactions.js';

type SqliteDriver = typeof Database;

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

const MISSING_DRIVER_MESSAGE = 'the sqlite backend needs better-sqlite3: npm install better-sqlite3@12';

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(() => import('better-sqlite3').then((module) => module.default), MISSING_DRIVER_MESSAGE);

interface SqliteSettings {
  path: string;
  durability: 'full' | 'normal';
  busyTimeoutMs: number;
}

/** Checks the options, opens the file and builds the context of one backend. */
export async function connect(options: SqliteOptions): Promise<SqliteContext> {
  const settings = checkOptions(options);
  const Driver = await loadDriver();
  const db = openDatabase(Driver, settings);
  const sql = prepareStatements(db);
  const lifecycle: SqliteLifecycle = { closed: false };
  const run = transactions(db, lifecycle);
  const indexer = searchIndexer(sql, run.write, lifecycle);
  return { db, sql, lifecycle, indexer, ...run };
}

export function connectionOperations({ db, lifecycle, indexer, commitQueued }: SqliteContext): Pick<Backend, 'close'> {
  return {
    async close(): Promise<void> {
      if (lifecycle.closed) return;
      lifecycle.closed = true;
      indexer.stop();
      // Writes already queued were accepted before close: commit them first.
      commitQueued();
      db.close();
    },
  };
}

function checkOptions(options: SqliteOptions): SqliteSettings {
  if (typeof options?.path !== 'string' || options.path === '') {
    throw new ChatStoreError('INVALID_ARGUMENT', 'the sqlite path must be a file path or :memory:', { path: 'path' });
  }
  const durability = options.durability ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new ChatStoreError('INVALID_ARGUMENT', "sqlite durability must be 'full' or 'normal'", {
      path: 'durability',
    });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'busyTimeoutMs must be a non-negative integer', {
      path: 'busyTimeoutMs',
    });
  }
  return { path: options.path, durability, busyTimeoutMs };
}

function openDatabase(Driver: SqliteDriver, settings: SqliteSettings): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (settings.path !== ':memory:') mkdirSync(dirname(settings.path), { recursive: true });
    // `timeout` is SQLite's busy_timeout: how long a statement waits for another connection's lock.
    db = new Driver(settings.path, { timeout: settings.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${settings.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    // Deleted rows are zeroed on pages being written anyway, at no extra I/O: erasure leaves less behind.
    db.pragma('secure_delete = FAST');
    migrateSqlite(db);
    return db;
  } catch (error) {
    db?.close();
    throw toChatStoreError(error);
  }
}
