/**
 * Monthly partitions of `messages` by `created_at` (UTC months), for the `monthly` layout. The store
 * makes them ahead of time (the previous month to three months ahead, at open) and for every month
 * an append brings (history imports, clock skew), so the default partition stays (nearly) empty.
 * With pg_partman installed when the schema was created, pg_partman makes them ahead of time
 * (its premake and maintenance) and the store asks pg_partman (`create_partition_time`) for any
 * other month an append brings, so every partition is pg_partman's, named and registered its way.
 * Retention drops whole partitions: no row-by-row DELETE of the big table, no vacuum debt.
 */
import { ChatStoreError } from '../../errors.js';
import { lockSchema, partmanInstall } from './migrate.js';
import { ident, type PgLayout, searchLengthSql } from './schema.js';
import { inTransaction, type PgCheckedOut, type PgQueryable } from './transaction.js';

/** One partition of `messages` and its range (ISO times; `from` inclusive, `to` exclusive). */
export interface PgPartition {
  name: string;
  from: string;
  to: string;
}

/** What `dropPartitionsBefore` removed. */
export interface PartitionDrop {
  /** Partitions dropped, oldest first. */
  dropped: string[];
  messagesDeleted: number;
}

/** The part of a pool the partition manager needs: one client for a transaction. */
export interface PgClientSource {
  connect(): Promise<PgCheckedOut>;
}

/** The monthly partitions of one schema. */
export interface PgPartitions {
  /** Makes sure a partition covers each of these times (ISO strings); a no-op for known months. */
  ensureFor(times: readonly string[]): Promise<void>;
  /** The partitions with a range (the default partition is not listed), oldest first. */
  list(): Promise<PgPartition[]>;
  /** Drops every partition whose whole range is before `before`, keeping the other tables in step. */
  dropBefore(before: string): Promise<PartitionDrop>;
}

const PREMAKE_MONTHS = 3;

/** `YYYY-MM` of an ISO time. */
export function monthOf(time: string): string {
  return time.slice(0, 7);
}

/** The first instant of the month after `month` (`YYYY-MM`), as an ISO time. */
function nextMonthStart(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const next = monthNumber === 12 ? `${pad(year + 1, 4)}-01` : `${pad(year, 4)}-${pad(monthNumber + 1, 2)}`;
  return `${next}-01T00:00:00.000Z`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** The months from `before` months before to `after` months after the month of `now`. */
function monthsAround(now: Date, before: number, after: number): string[] {
  const months: string[] = [];
  for (let delta = -before; delta <= after; delta++) {
    const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + delta, 1));
    months.push(monthOf(at.toISOString()));
  }
  return months;
}

/**
 * The partition manager of one `monthly` schema. At open it makes the months around `now` (when
 * the store makes partitions) or finds pg_partman's install (when pg_partman does).
 */
export async function pgPartitions(pool: PgClientSource, layout: PgLayout, now = new Date()): Promise<PgPartitions> {
  const s = ident(layout.schema);
  const managedByStore = layout.partitionManager === 'chatstore';
  const known = new Set<string>();
  let partman: string | undefined;

  const withClient = async <T>(work: (client: PgQueryable) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    return inTransaction(client, async () => {
      await lockSchema(client, layout.schema);
      return work(client);
    });
  };

  const ensureMonths = async (months: readonly string[]): Promise<void> => {
    const missing = [...new Set(months)].filter((month) => !known.has(month));
    if (missing.length === 0) return;
    await withClient(async (client) => {
      const existing = new Set((await listPartitions(client, s)).map((partition) => monthOf(partition.from)));
      const target: PartitionTarget = { s, schema: layout.schema, partman };
      for (const month of missing) {
        if (!existing.has(month)) await createPartition(target, client, month);
      }
    });
    for (const month of missing) known.add(month);
  };

  const list = (): Promise<PgPartition[]> => withClient((client) => listPartitions(client, s));

  if (layout.partitionManager === 'pg_partman') {
    const client = await pool.connect();
    try {
      const install = await partmanInstall(client);
      if (install === undefined) {
        throw new ChatStoreError(
          'UNSUPPORTED',
          `postgres schema ${layout.schema} is partitioned by pg_partman, which is not installed in this database any more`,
        );
      }
      partman = ident(install.schema);
    } finally {
      client.release();
    }
  }
  if (managedByStore) await ensureMonths(monthsAround(now, 1, PREMAKE_MONTHS));

  return {
    async ensureFor(times) {
      await ensureMonths(times.map(monthOf));
    },

    list,

    async dropBefore(before) {
      const result: PartitionDrop = { dropped: [], messagesDeleted: 0 };
      const candidates = (await list()).filter((partition) => partition.to <= before);
      for (const candidate of candidates) {
        await withClient(async (client) => {
          const partition = `${s}.${ident(candidate.name)}`;
          // Nothing is written to the partition while its rows are uncounted and unindexed.
          await client.query(`LOCK TABLE ${partition} IN ACCESS EXCLUSIVE MODE`);
          const { rows } = await client.query(
            `WITH counts AS (
               SELECT conversation_id, count(*) AS n,
                 sum(${searchLengthSql(layout, 'search_vector', 'search_length')}) AS terms
               FROM ${partition} GROUP BY conversation_id
             ), uncounted AS (
               UPDATE ${s}.conversations c
               SET message_count = c.message_count - counts.n, search_terms = c.search_terms - counts.terms
               FROM counts WHERE c.conversation_id = counts.conversation_id
             )
             SELECT coalesce(sum(n), 0)::bigint AS n FROM counts`,
          );
          await client.query(`DELETE FROM ${s}.message_ids i USING ${partition} p WHERE i.id = p.id`);
          await client.query(
            `DELETE FROM ${s}.message_external_ids e USING ${partition} p
             WHERE e.conversation_id = p.conversation_id AND e.external_id = p.external_id`,
          );
          await client.query(`DROP TABLE ${partition}`);
          result.messagesDeleted += Number(rows[0]?.n ?? 0);
          result.dropped.push(candidate.name);
        });
        known.delete(monthOf(candidate.from));
      }
      return result;
    },
  };
}

/** Where partitions are made: the quoted and plain schema name, and pg_partman's quoted schema when it makes them. */
interface PartitionTarget {
  s: string;
  schema: string;
  partman: string | undefined;
}

/** The partitions of `<schema>.messages` with a range, oldest first. */
async function listPartitions(client: PgQueryable, s: string): Promise<PgPartition[]> {
  const { rows } = await client.query(
    `SELECT c.relname AS name,
         (extract(epoch FROM (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz) * 1000)::float8 AS from_ms,
         (extract(epoch FROM (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz) * 1000)::float8 AS to_ms
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = to_regclass($1)`,
    [`${s}.messages`],
  );
  return rows
    .filter((row) => row.from_ms !== null && row.to_ms !== null)
    .map((row) => ({
      name: String(row.name),
      from: new Date(Number(row.from_ms)).toISOString(),
      to: new Date(Number(row.to_ms)).toISOString(),
    }))
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}

/** The partition table of `month`: the store's own, or pg_partman's (its name, its registry). */
async function createTable(target: PartitionTarget, client: PgQueryable, month: string, from: string, to: string) {
  const { s, schema, partman } = target;
  if (partman === undefined) {
    const partition = `${s}.${ident(`messages_y${month.replace('-', 'm')}`)}`;
    await client.query(`CREATE TABLE ${partition} PARTITION OF ${s}.messages FOR VALUES FROM ('${from}') TO ('${to}')`);
    return;
  }
  await client.query(`SELECT ${partman}.create_partition_time($1, ARRAY[$2::timestamptz])`, [
    `${schema}.messages`,
    from,
  ]);
}

/** The partition of `month`, with the rows of that month the default partition holds moved into it. */
async function createPartition(target: PartitionTarget, client: PgQueryable, month: string): Promise<void> {
  const { s } = target;
  const from = `${month}-01T00:00:00.000Z`;
  const to = nextMonthStart(month);
  const { rows } = await client.query(
    `SELECT EXISTS (SELECT 1 FROM ${s}.messages_default WHERE created_at >= $1 AND created_at < $2) AS moving`,
    [from, to],
  );
  if (rows[0]?.moving !== true) {
    await createTable(target, client, month, from, to);
    return;
  }
  // Rows of this month already sit in the default partition: move them into the new one.
  const { rows: columns } = await client.query(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS list FROM pg_attribute
       WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attgenerated = ''`,
    [`${s}.messages`],
  );
  const list = String(columns[0]?.list);
  await client.query(`ALTER TABLE ${s}.messages DETACH PARTITION ${s}.messages_default`);
  await createTable(target, client, month, from, to);
  await client.query(
    `INSERT INTO ${s}.messages (${list}) SELECT ${list} FROM ${s}.messages_default WHERE created_at >= $1 AND created_at < $2`,
    [from, to],
  );
  await client.query(`DELETE FROM ${s}.messages_default WHERE created_at >= $1 AND created_at < $2`, [from, to]);
  await client.query(`ALTER TABLE ${s}.messages ATTACH PARTITION ${s}.messages_default DEFAULT`);
}

/** The error for retention on a schema without partitions. */
export function notPartitioned(schema: string): ChatStoreError {
  return new ChatStoreError(
    'UNSUPPORTED',
    `postgres schema ${schema} is not partitioned: create it with partitioning 'monthly' to drop partitions`,
  );
}
