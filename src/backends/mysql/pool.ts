/** The part of mysql2 the backend uses, typed structurally so that a pool of your own fits and mysql2 stays optional. */

/** What `execute` and `query` resolve to: the rows (or a result header) and the fields. */
export type MysqlResult = [unknown, unknown];

/** A connection checked out of a pool (the part of mysql2's `PoolConnection` the backend uses). */
export interface MysqlPoolConnection {
  execute(sql: string, values?: unknown[]): Promise<MysqlResult>;
  query(sql: string): Promise<MysqlResult>;
  release(): void;
  /** Closes the connection instead of returning it to the pool (after a failed ROLLBACK). */
  destroy(): void;
}

/**
 * A connection pool (the part of mysql2's promise `Pool` the backend uses); yours stays open after
 * `close()`. It must talk utf8mb4 (mysql2's default charset).
 */
export interface MysqlPool {
  execute(sql: string, values?: unknown[]): Promise<MysqlResult>;
  getConnection(): Promise<MysqlPoolConnection>;
  end(): Promise<void>;
}
