/**
 * Compaction (`compact`, and `compact: true` on removals): rebuilding the store's tables so that the
 * bytes of removed rows leave InnoDB's tablespace files now (docs/backends.md, "Erasure on disk").
 *
 * A DELETE marks records deleted; purge removes them soon after the transaction (seconds), but their
 * bytes stay in the page's free space, and the overflow pages of a long message are freed without
 * being overwritten (measured: the words stay in `messages.ibd` after purge). The FULLTEXT index keeps
 * the words of deleted rows in its auxiliary tables (`FTS_…_INDEX_1..6.ibd`), with their doc ids in
 * `FTS_…_DELETED`, until an `OPTIMIZE TABLE` under `innodb_optimize_fulltext_only` merges them out.
 *
 * `ALTER TABLE … FORCE` copies the live rows into a new tablespace, builds every index (FULLTEXT
 * included, into new auxiliary tables) and drops the old files: the removed bytes are gone from the
 * database's `.ibd` files when it returns (the test reads them). It is what `OPTIMIZE TABLE` does on
 * InnoDB, written out, because `OPTIMIZE TABLE` does something else under
 * `innodb_optimize_fulltext_only=ON` (only the FULLTEXT index) or `innodb_defragment=ON` (no rebuild).
 * A table with a FULLTEXT index is rebuilt with a shared lock: reads go on, writes wait (InnoDB cannot
 * build a FULLTEXT index online); the others rebuild online. It needs room for the copy.
 *
 * The redo log (`ib_logfile0`), the undo logs and the doublewrite buffer (`ibdata1` here) keep copies
 * until InnoDB overwrites them; nothing in SQL rewrites those.
 */
import type { CompactionReport } from '../../backend.js';
import { elapsedMs } from '../compaction.js';
import type { MysqlContext } from './context.js';
import { toChatStoreError } from './errors.js';
import type { MysqlPoolConnection } from './pool.js';
import { ident } from './schema.js';

/** Rebuilds every table of the store's database, one after another. */
export async function compactTables(ctx: MysqlContext): Promise<CompactionReport> {
  ctx.ensureOpen();
  const start = performance.now();
  const database = ctx.layout.database;
  const tables = await ctx.rows<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [database],
  );
  let connection: MysqlPoolConnection;
  try {
    connection = await ctx.pool.getConnection();
  } catch (error) {
    throw toChatStoreError(error);
  }
  const rewritten: string[] = [];
  try {
    for (const { name } of tables) {
      const table = `${ident(database)}.${ident(name)}`;
      await connection.query(`ALTER TABLE ${table} FORCE`);
      rewritten.push(table);
    }
  } catch (error) {
    throw toChatStoreError(error);
  } finally {
    connection.release();
  }
  return { rewritten, skipped: [], ms: elapsedMs(start) };
}
