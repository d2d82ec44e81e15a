/**
 * PostgreSQL for the bench: the server (`POSTGRES_URL`), one schema per workspace (derived from its
 * fresh key prefix, so no workload's data affects another's) and its removal afterwards. Nothing
 * outside the `chatstore_bench_` schemas is touched.
 */
import { createHash } from 'node:crypto';
import type { Contender, Footprint, Workspace } from '../contender.js';
import { byteSize, plural } from '../workload.js';
import { cleaningUp } from './_cleanup.js';
import { probeInChild, type ServerDurability } from './_probe.js';

/** The server the bench uses. */
export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * What the server makes durable, read from it when the contenders are listed (they are listed
 * synchronously, so in a child process): `fsync` and `synchronous_commit` decide whether an
 * acknowledged commit is on disk.
 */
export function probePgDurability(): ServerDurability {
  const script = `
    import pg from 'pg';
    const c = new pg.Client({ connectionString: ${JSON.stringify(POSTGRES_URL)}, connectionTimeoutMillis: 3000 });
    await c.connect();
    const { rows: [row] } = await c.query("SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit, current_setting('autovacuum') AS autovacuum");
    process.stdout.write(JSON.stringify(row));
    await c.end();`;
  const server = probeInChild<{ version: string; fsync: string; synchronous_commit: string; autovacuum: string }>(
    script,
  );
  if (server === undefined) return { label: 'unknown', sentence: 'unknown (PostgreSQL not reachable)' };
  const settings = `fsync=${server.fsync}, synchronous_commit=${server.synchronous_commit}`;
  const [label, lost] =
    server.fsync !== 'on'
      ? ['no fsync', 'nothing is flushed to disk: a crash or power loss can lose or corrupt anything']
      : server.synchronous_commit === 'off'
        ? ['WAL flushed in the background', 'up to about 3 × wal_writer_delay of acknowledged commits lost on a crash']
        : [
            'WAL fsync/commit',
            'every commit is flushed to the WAL; an acknowledged message survives a crash or power loss',
          ];
  // Not durability, but it shapes every number: without autovacuum, dead rows stay and statistics never refresh.
  const vacuum =
    server.autovacuum === 'on'
      ? ''
      : '; autovacuum=off on this server: nothing is vacuumed or analyzed, dead rows stay and statistics are never refreshed';
  return { label: `${label} (${settings})`, sentence: `PostgreSQL ${server.version}, ${settings}: ${lost}${vacuum}` };
}

/** The schema of a workspace. @example benchSchema(workspace) // 'chatstore_bench_3fa9…' */
export function benchSchema(workspace: Workspace): string {
  return `chatstore_bench_${createHash('sha1').update(workspace.keyPrefix).digest('hex').slice(0, 16)}`;
}

/** Drops a bench schema and everything in it. */
export async function dropBenchSchema(schema: string): Promise<void> {
  if (!schema.startsWith('chatstore_bench_')) throw new Error(`refusing to drop ${schema}: not a bench schema`);
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A contender whose instances drop their workspace's schema when closed.
 * @example dropsSchemaOnClose(chatstoreContender({ … url: (ws) => storeUrl(ws) }))
 */
export function dropsSchemaOnClose(contender: Contender): Contender {
  return cleaningUp(contender, (workspace) => dropBenchSchema(benchSchema(workspace)));
}

/** The chatstore URL of a workspace. @example pgStoreUrl(workspace, 'monthly') */
export function pgStoreUrl(workspace: Workspace, partitioning: 'none' | 'monthly' = 'none'): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', benchSchema(workspace));
  if (partitioning !== 'none') url.searchParams.set('partitioning', partitioning);
  return url.toString();
}

/**
 * A session publishes its table counters (`pg_stat_user_tables`) at the end of a transaction at most
 * once a second; what it did in its last second before going idle is published up to 10 s later
 * (PostgreSQL 15: PGSTAT_MIN_INTERVAL, PGSTAT_IDLE_INTERVAL). So `pgFootprint` waits this long, lets
 * the contender run one query on each of its connections (which then publish everything), and reads.
 */
const STATS_FLUSH_WAIT_MS = 1100;
/** Then it reads until two reads 200 ms apart agree, for at most this long. */
const STATS_SETTLE_MS = 3000;

interface TableStats {
  table: string;
  live: string;
  dead: string;
  updated: string;
  hot: string;
  /** Rows inserted, updated or deleted since the table was created. */
  writes: string | null;
  total: string;
  heap: string;
  indexes: { name: string; bytes: number | string }[] | null;
}

/**
 * What a bench schema holds: the bytes of every table with its TOAST and indexes
 * (`pg_total_relation_size`, all forks), and per table its live and dead tuples, updates (HOT ones)
 * and every index's size. `touch` runs a query on each of the contender's connections, so that
 * their counters are published before they are read (see STATS_FLUSH_WAIT_MS).
 * @example const { bytes, detail } = await pgFootprint(benchSchema(workspace), () => pool.query('SELECT 1'));
 */
export async function pgFootprint(schema: string, touch: () => Promise<unknown>): Promise<Footprint> {
  await new Promise((resolve) => setTimeout(resolve, STATS_FLUSH_WAIT_MS));
  await touch();
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const read = async (): Promise<TableStats[]> =>
      (
        await client.query<TableStats>(
          `SELECT c.relname AS "table",
            s.n_live_tup AS live, s.n_dead_tup AS dead, s.n_tup_upd AS updated, s.n_tup_hot_upd AS hot,
            s.n_tup_ins + s.n_tup_upd + s.n_tup_del AS writes,
            pg_total_relation_size(c.oid) AS total, pg_table_size(c.oid) AS heap,
            (SELECT json_agg(json_build_object('name', i.relname, 'bytes', pg_relation_size(i.oid)) ORDER BY i.relname)
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = c.oid) AS indexes
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')
          ORDER BY pg_total_relation_size(c.oid) DESC, c.relname`,
          [schema],
        )
      ).rows;
    let tables = await read();
    for (const settleBy = Date.now() + STATS_SETTLE_MS; Date.now() < settleBy; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await read();
      const same = JSON.stringify(again) === JSON.stringify(tables);
      tables = again;
      if (same) break;
    }
    const bytes = tables.reduce((sum, table) => sum + Number(table.total), 0);
    const number = (text: string) => Number(text).toLocaleString('en-US');
    // Tables never written (empty partitions, unused side tables) take one line together.
    const untouched = (table: TableStats) => Number(table.writes ?? 0) === 0;
    const lines = tables
      .filter((table) => !untouched(table))
      .map((table) => {
        const indexes = (table.indexes ?? []).map((index) => `${index.name} ${byteSize(Number(index.bytes))}`);
        return `${table.table}: ${number(table.live)} live, ${number(table.dead)} dead tuples, ${number(table.updated)} updated (${number(table.hot)} HOT); ${byteSize(Number(table.total))} (heap with TOAST ${byteSize(Number(table.heap))}); indexes: ${indexes.length === 0 ? 'none' : indexes.join(', ')}`;
      });
    const empty = tables.filter(untouched);
    if (empty.length > 0) {
      const emptyBytes = empty.reduce((sum, table) => sum + Number(table.total), 0);
      lines.push(
        `${plural(empty.length, 'table')} never written, ${byteSize(emptyBytes)} with their indexes: ${empty.map((table) => table.table).join(', ')}`,
      );
    }
    return {
      bytes,
      detail: [
        `schema ${schema}: ${byteSize(bytes)} in ${plural(tables.length, 'table')} (tables, TOAST and indexes)`,
        ...lines,
      ].join('\n'),
    };
  } finally {
    await client.end();
  }
}
