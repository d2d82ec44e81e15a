/**
 * Compaction (`compact`, and `compact: true` on removals): rewriting the store's tables so that the
 * bytes of removed rows leave PostgreSQL's data files now (docs/backends.md, "Erasure on disk").
 *
 * A DELETE only marks row versions dead. Their bytes stay in the table, its TOAST table and every
 * index until VACUUM reclaims the space, and plain VACUUM (autovacuum) leaves them in the freed part
 * of the page until a later write lands there; only pages emptied at the end of a table are cut off.
 * `VACUUM (FULL)` writes a new copy of a table, its TOAST table and its indexes from the live rows and
 * truncates the old files when it commits: the removed bytes are gone from the relation files when it
 * returns (the test reads them). It holds an ACCESS EXCLUSIVE lock on each table while it rewrites it
 * (reads and writes of that table wait), needs room for the copy, and cannot run in a transaction.
 *
 * Statistics too: ANALYZE keeps sampled values (most common values, histogram bounds) in
 * `pg_statistic`, so removed ids and words can sit there. Each rewritten table is analyzed again
 * (`VACUUM (FULL, ANALYZE)`), and so is the partitioned `messages` when it has statistics of its own.
 * PostgreSQL keeps the old statistics of a table ANALYZE finds empty: a superuser deletes those rows.
 * Then `pg_statistic`, whose dead row versions hold the old values, is rewritten too, when the role
 * may (superuser or database owner); otherwise the report says it was skipped.
 *
 * No CHECKPOINT: the rewritten files are written and synced by VACUUM FULL itself, and a checkpoint
 * does not scrub WAL segments either (it only lets old ones be recycled, not overwritten).
 */
import type { CompactionReport } from '../../backend.js';
import { elapsedMs } from '../compaction.js';
import type { PgContext } from './context.js';
import { toChatStoreError } from './errors.js';
import type { PgPoolClient } from './types.js';

interface TableRow {
  oid: string;
  /** Qualified and quoted, for statements. */
  name: string;
  relname: string;
  kind: string;
  /** A partition of `messages` (any level). */
  message_part: boolean;
}

/**
 * Rewrites every table of the store's schema, but of `messages`' partitions (monthly layout) only
 * those named in `parts` (oids as text, from the removal's RETURNING), unless `parts` is `all`.
 */
export async function compactTables(ctx: PgContext, parts: readonly string[] | 'all'): Promise<CompactionReport> {
  ctx.ensureOpen();
  const start = performance.now();
  let client: PgPoolClient;
  try {
    client = await ctx.pool.connect();
  } catch (error) {
    throw toChatStoreError(error);
  }
  let broken: Error | undefined;
  try {
    return await compactOn(client, ctx.layout.schema, parts, start);
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw toChatStoreError(error);
  } finally {
    client.release(broken);
  }
}

async function compactOn(
  client: PgPoolClient,
  schema: string,
  parts: readonly string[] | 'all',
  start: number,
): Promise<CompactionReport> {
  const tables = (
    await client.query(
      `SELECT c.oid::text AS oid, format('%I.%I', n.nspname, c.relname) AS name, c.relname::text AS relname, c.relkind::text AS kind,
         c.relispartition AND pg_partition_root(c.oid) = to_regclass(format('%I.messages', n.nspname)) AS message_part
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
       ORDER BY c.relname`,
      [schema],
    )
  ).rows as unknown as TableRow[];
  const wanted = new Set(parts === 'all' ? [] : parts);
  const rewrite = tables.filter(
    (table) => table.kind === 'r' && (parts === 'all' || !table.message_part || wanted.has(table.oid)),
  );
  const rewritten: string[] = [];
  const skipped: string[] = [];
  if (rewrite.length > 0) {
    await untilEarlierTransactionsEnd(client, skipped);
    // One statement; PostgreSQL rewrites (and analyzes) the tables one after another, each in a
    // transaction of its own, so each lock is held only while that table is rewritten.
    await client.query(`VACUUM (FULL, ANALYZE) ${rewrite.map((table) => table.name).join(', ')}`);
    rewritten.push(...rewrite.map((table) => table.name));
  }
  for (const parent of tables.filter((table) => table.kind === 'p')) {
    // A partitioned table's own statistics (over all partitions) exist only if someone analyzed it.
    const analyzed = await client.query(
      'SELECT 1 FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND inherited LIMIT 1',
      [schema, parent.relname],
    );
    if (analyzed.rows.length > 0) await client.query(`ANALYZE ${parent.name}`);
  }
  const [role] = (
    await client.query(
      `SELECT r.rolsuper AS superuser, pg_has_role(current_user, d.datdba, 'USAGE') AS owner
       FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
    )
  ).rows as { superuser: boolean; owner: boolean }[];
  if (role?.superuser === true) {
    // ANALYZE replaces no statistics from an empty sample: an emptied table would keep naming what it held.
    await client.query(
      `DELETE FROM pg_catalog.pg_statistic s USING pg_class c
       WHERE s.starelid = c.oid AND c.oid = ANY($1::oid[]) AND c.reltuples <= 0`,
      [rewrite.map((table) => table.oid)],
    );
  } else if (rewrite.length > 0) {
    skipped.push('statistics of tables left empty: PostgreSQL keeps them, and only a superuser may delete them');
  }
  if (role?.superuser === true || role?.owner === true) {
    await untilEarlierTransactionsEnd(client, skipped);
    await client.query('VACUUM (FULL) pg_catalog.pg_statistic');
    rewritten.push('pg_catalog.pg_statistic');
  } else {
    skipped.push('pg_catalog.pg_statistic: rewriting it needs a superuser or the database owner');
  }
  return { rewritten, skipped, ms: elapsedMs(start) };
}

/** How long compaction waits for transactions that began before it (see below). */
const EARLIER_TRANSACTIONS_WAIT_MS = 20_000;

/**
 * VACUUM FULL copies the row versions that a transaction still running may see ("recently dead"),
 * so removed rows (and old statistics) survive a rewrite that runs while a transaction that began
 * before their removal is open in another session. Waits, bounded, until every client session's
 * snapshot is newer than now; on timeout the rewrite runs anyway and `skipped` says what it may keep.
 */
async function untilEarlierTransactionsEnd(client: PgPoolClient, skipped: string[]): Promise<void> {
  const horizon = `(SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint % 4294967296)::text::xid)`;
  const [mark] = (await client.query(`SELECT ${horizon}::text AS xid`)).rows as { xid: string }[];
  const deadline = performance.now() + EARLIER_TRANSACTIONS_WAIT_MS;
  for (;;) {
    const [older] = (
      await client.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND backend_xmin IS NOT NULL
           AND age(backend_xmin) > age($1::xid)`,
        [mark?.xid],
      )
    ).rows as { n: number }[];
    if ((older?.n ?? 0) === 0) return;
    if (performance.now() > deadline) {
      skipped.push(
        `${older?.n} transaction(s) that began before compaction were still open after ${EARLIER_TRANSACTIONS_WAIT_MS / 1000} s: rows they may still see were kept; run compact again`,
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
