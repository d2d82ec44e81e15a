/**
 * What every part of the mysql backend shares: the pool, the statements of its database, the closed
 * flag, the statement texts built per query shape, and the two ways statements run (one on the pool,
 * or a transaction on one connection), both with driver errors mapped. `connect.ts` builds it once
 * per backend; each `…Operations(ctx)` factory reads it.
 */
import { ChatStoreError } from '../../errors.js';
import type { Message } from '../../model.js';
import type { ShapedSql } from '../sql/shapes.js';
import { errorCode, toChatStoreError } from './errors.js';
import type { MysqlPool, MysqlPoolConnection } from './pool.js';
import { type MessageRow, toMessage } from './rows.js';
import type { MysqlLayout } from './schema.js';
import type { TokenLimits } from './search.js';
import { type MysqlSql, mysqlSql } from './statements.js';

/** Attempts of one transaction that InnoDB chose as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 8;

/** Runs a statement on the transaction's connection; resolves to the rows or the result header. */
export type Run = (sql: string, values?: unknown[]) => Promise<unknown>;

/** The result header of a write. */
export interface ResultHeader {
  affectedRows: number;
}

/** Shared by every part of one backend; only `close` changes it. */
export interface MysqlLifecycle {
  closed: boolean;
}

export interface MysqlContext {
  readonly pool: MysqlPool;
  /** The backend made the pool from a URL, so `close` ends it (a pool of yours stays open). */
  readonly ownsPool: boolean;
  readonly layout: MysqlLayout;
  readonly sql: MysqlSql;
  /** The FULLTEXT token sizes search tokens are made for (`layout.tokens`). */
  readonly tokens: TokenLimits;
  readonly lifecycle: MysqlLifecycle;
  /** `updateConversation`'s statement text by number of merge patches (see `mergePatches`). */
  readonly conversationUpdates: Map<number, string>;

  /** Throws `UNAVAILABLE` once the backend is closed. */
  ensureOpen(): void;
  /** One statement on the pool; resolves to the rows or the result header. */
  execute(text: string, values?: unknown[]): Promise<unknown>;
  rows<R>(text: string, values?: unknown[]): Promise<R[]>;
  messages(text: string, values: unknown[]): Promise<Message[]>;
  /**
   * `work` in one transaction on one connection; a deadlock victim runs again (InnoDB rolled it back
   * whole), up to DEADLOCK_ATTEMPTS times. Errors leave mapped.
   */
  transaction<T>(work: (run: Run) => Promise<T>): Promise<T>;
  /** The statement of one query shape, built on first use and kept for the backend's life. */
  shape(key: string, build: () => ShapedSql): ShapedSql;
  /** Locks a conversation's counter row inside a transaction; false when it does not exist. */
  lock(run: Run, id: string): Promise<boolean>;
}

export function createContext(pool: MysqlPool, ownsPool: boolean, layout: MysqlLayout): MysqlContext {
  const sql = mysqlSql(layout);
  const lifecycle: MysqlLifecycle = { closed: false };
  const shaped = new Map<string, ShapedSql>();

  const ensureOpen = (): void => {
    if (lifecycle.closed) throw new ChatStoreError('UNAVAILABLE', 'the mysql backend is closed');
  };

  const execute = async (text: string, values: unknown[] = []): Promise<unknown> => {
    ensureOpen();
    try {
      return (await pool.execute(text, values))[0];
    } catch (error) {
      throw toChatStoreError(error);
    }
  };

  const rows = async <R>(text: string, values: unknown[] = []): Promise<R[]> => (await execute(text, values)) as R[];

  return {
    pool,
    ownsPool,
    layout,
    sql,
    tokens: layout.tokens,
    lifecycle,
    conversationUpdates: new Map<number, string>(),
    ensureOpen,
    execute,
    rows,
    messages: async (text, values) => (await rows<MessageRow>(text, values)).map(toMessage),
    async transaction(work) {
      ensureOpen();
      return inTransaction(pool, work);
    },
    shape(key, build) {
      let built = shaped.get(key);
      if (built === undefined) {
        built = build();
        shaped.set(key, built);
      }
      return built;
    },
    lock: async (run, id) => ((await run(sql.lockConversation, [id])) as unknown[]).length > 0,
  };
}

/** A shaped statement's values in the order of its parameters; an absent value is NULL. */
export function bind(statement: ShapedSql, values: Record<string, unknown>): unknown[] {
  return statement.params.map((name) => values[name] ?? null);
}

async function inTransaction<T>(pool: MysqlPool, work: (run: Run) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let connection: MysqlPoolConnection;
    try {
      connection = await pool.getConnection();
    } catch (error) {
      throw toChatStoreError(error);
    }
    let broken = false;
    try {
      await connection.query('START TRANSACTION');
      const result = await work(async (text, values = []) => (await connection.execute(text, values))[0]);
      await connection.query('COMMIT');
      return result;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (attempt < DEADLOCK_ATTEMPTS && errorCode(error) === 'ER_LOCK_DEADLOCK') continue;
      throw toChatStoreError(error);
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }
}
