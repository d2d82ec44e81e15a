/**
 * Opening and closing the sqlite backend's one connection: the options checked, the driver loaded on
 * first use, the file created with its directory, the pragmas set, the schema migrated, and the
 * context every other part shares built around it. Several processes may open the same (fresh) file
 * at once: opening waits for the others within the busy timeout, as every statement does.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** The pauses (ms) of SQLite's own busy handler, which `whileBusy` follows; the last one repeats. */
const BUSY_PAUSES_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

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
  const db = await openDatabase(Driver, settings);
  const sql = prepareStatements(db);
  const lifecycle: SqliteLifecycle = { closed: false };
  const run = transactions(db, lifecycle);
  const indexer = searchIndexer(sql, run.write, lifecycle);
  return { db, sql, lifecycle, indexer, ...run };
}

export function connectionOperations({
  db,
  lifecycle,
  indexer,
  commitQueued,
}: SqliteContext): Pick<Backend, 'close' | 'dataVersion'> {
  // Changes when another connection commits to the file; this one's commits leave it.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  return {
    dataVersion(): number {
      if (lifecycle.closed) throw new ChatStoreError('UNAVAILABLE', 'sqlite: the store is closed');
      return dataVersion.get() as number;
    },
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

async function openDatabase(Driver: SqliteDriver, settings: SqliteSettings): Promise<Database.Database> {
  let db: Database.Database | undefined;
  try {
    if (settings.path !== ':memory:') mkdirSync(dirname(settings.path), { recursive: true });
    // `timeout` is SQLite's busy_timeout: how long a statement waits for another connection's lock.
    db = new Driver(settings.path, { timeout: settings.busyTimeoutMs });
    const opened = db;
    // Switching to WAL writes the file's header: SQLite reads it, then takes the write lock, and when
    // another connection took that lock in between (another process creating the same fresh file, or
    // switching it to WAL too) it answers SQLITE_BUSY at once, without waiting in its busy handler.
    // So wait here, within the busy timeout; once the other is done the file is in WAL already.
    await whileBusy(opened, settings.busyTimeoutMs, () => opened.pragma('journal_mode = WAL'));
    db.pragma(`synchronous = ${settings.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    // Deleted rows and freed pages are zeroed in the deleting transaction: erasure leaves nothing (erasure.ts).
    db.pragma('secure_delete = ON');
    // In BEGIN IMMEDIATE, which does wait in the busy handler, reading the version inside it.
    migrateSqlite(db);
    return db;
  } catch (error) {
    db?.close();
    throw toChatStoreError(error);
  }
}

/**
 * Runs `statement`, again after a pause each time it fails with SQLITE_BUSY, for `busyTimeoutMs` in
 * all: for a statement that SQLite may answer with SQLITE_BUSY without calling its busy handler. A
 * try that does wait in the handler waits at most for what is left of the timeout.
 */
async function whileBusy<T>(db: Database.Database, busyTimeoutMs: number, statement: () => T): Promise<T> {
  const deadline = performance.now() + busyTimeoutMs;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return statement();
      } catch (error) {
        const left = deadline - performance.now();
        if (!isBusy(error) || left <= 0) throw error;
        await sleep(Math.min(BUSY_PAUSES_MS[Math.min(attempt, BUSY_PAUSES_MS.length - 1)] as number, left));
        db.pragma(`busy_timeout = ${Math.max(0, Math.ceil(deadline - performance.now()))}`);
      }
    }
  } finally {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}

/** SQLITE_BUSY and its extended codes (`SQLITE_BUSY_RECOVERY`, `SQLITE_BUSY_SNAPSHOT`…). */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}
