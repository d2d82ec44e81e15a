/**
 * MySQL/MariaDB for the bench: the server (`MYSQL_URL`), one database per workspace (derived from
 * its fresh key prefix, so no workload's data affects another's), its removal afterwards, and what
 * the server's InnoDB makes durable. Nothing outside the `chatstore_bench_` databases is touched.
 */
import { createHash } from 'node:crypto';
import type { Contender, Footprint, Workspace } from '../contender.js';
import { byteSize, plural } from '../workload.js';
import { cleaningUp } from './_cleanup.js';
import { probeInChild, type ServerDurability } from './_probe.js';

/** The server the bench uses. */
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** What an acknowledged write survives, as a table label and a sentence. */
export type MysqlDurability = ServerDurability;

/** The database of a workspace. @example benchDatabase(workspace) // 'chatstore_bench_3fa9…' */
export function benchDatabase(workspace: Workspace): string {
  return `chatstore_bench_${createHash('sha1').update(workspace.keyPrefix).digest('hex').slice(0, 16)}`;
}

/** mysql2 connection options for `MYSQL_URL`, without a database. */
export function connectionOptions(): { host: string; port: number; user: string; password: string } {
  const url = new URL(MYSQL_URL);
  return {
    host: url.hostname,
    port: url.port === '' ? 3306 : Number(url.port),
    user: decodeURIComponent(url.username) || 'root',
    password: decodeURIComponent(url.password),
  };
}

/** Drops a bench database and everything in it. */
export async function dropBenchDatabase(database: string): Promise<void> {
  if (!/^chatstore_bench_[0-9a-f]+$/.test(database))
    throw new Error(`refusing to drop ${database}: not a bench database`);
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({ ...connectionOptions(), charset: 'utf8mb4' });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await connection.end();
  }
}

/**
 * A contender whose instances drop their workspace's database when closed.
 * @example dropsDatabaseOnClose(chatstoreContender({ … url: (ws) => mysqlStoreUrl(ws) }))
 */
export function dropsDatabaseOnClose(contender: Contender): Contender {
  return cleaningUp(contender, (workspace) => dropBenchDatabase(benchDatabase(workspace)));
}

/** The chatstore URL of a workspace. @example mysqlStoreUrl(workspace) */
export function mysqlStoreUrl(workspace: Workspace): string {
  const url = new URL(MYSQL_URL);
  url.pathname = `/${benchDatabase(workspace)}`;
  return url.toString();
}

/**
 * What the server's InnoDB makes durable, read from the server when the contenders are listed (they
 * are listed synchronously, so in a child process). `innodb_flush_log_at_trx_commit=1` flushes the
 * redo log at every commit; 2 writes it to the OS at commit and flushes once a second; 0 does both
 * once a second.
 */
export function probeMysqlDurability(): MysqlDurability {
  const script = `
    import mysql from 'mysql2/promise';
    const c = await mysql.createConnection(${JSON.stringify({ ...connectionOptions(), connectTimeout: 3000 })});
    const [[row]] = await c.query('SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush, @@sync_binlog AS sync_binlog, @@log_bin AS log_bin, @@innodb_doublewrite AS doublewrite');
    process.stdout.write(JSON.stringify(row));
    await c.end();`;
  const server = probeInChild<{
    version: string;
    flush: number;
    sync_binlog: number;
    log_bin: number;
    doublewrite: number;
  }>(script);
  if (server === undefined) return { label: 'unknown', sentence: 'unknown (MySQL not reachable)' };
  const binlog = Number(server.log_bin) === 1 ? `binary log on, sync_binlog=${server.sync_binlog}` : 'binary log off';
  const flush = Number(server.flush);
  const [label, lost] =
    flush === 1
      ? [
          'InnoDB redo fsync/commit',
          'every commit is flushed to the redo log; an acknowledged message survives a crash or power loss',
        ]
      : flush === 2
        ? [
            'InnoDB redo written/commit, fsync 1 s',
            'survives a server crash; up to ~1 s of commits lost on an OS crash or power loss',
          ]
        : ['InnoDB redo fsync 1 s', 'up to ~1 s of commits lost on a server crash'];
  return {
    label: `${label} (flush_log_at_trx_commit=${flush})`,
    sentence: `${server.version}, innodb_flush_log_at_trx_commit=${flush}, ${binlog}: ${lost}`,
  };
}

/**
 * What a bench database holds: InnoDB's `data_length + index_length` of every table, after
 * `ANALYZE TABLE` (the figures are InnoDB's statistics, which lag the table until it is analyzed).
 * @example const { bytes, detail } = await mysqlFootprint(benchDatabase(workspace));
 */
export async function mysqlFootprint(database: string): Promise<Footprint> {
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({ ...connectionOptions(), charset: 'utf8mb4' });
  try {
    const query = `SELECT table_name AS name, table_rows AS \`rows\`, data_length AS data, index_length AS \`indexes\`
      FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY data_length + index_length DESC, table_name`;
    type TableRow = { name: string; rows: number | string; data: number | string; indexes: number | string };
    const names = ((await connection.query(query, [database]))[0] as TableRow[]).map((table) => table.name);
    if (names.length > 0) {
      await connection.query(`ANALYZE TABLE ${names.map((name) => `\`${database}\`.\`${name}\``).join(', ')}`);
    }
    const tables = (await connection.query(query, [database]))[0] as TableRow[];
    const bytes = tables.reduce((sum, table) => sum + Number(table.data) + Number(table.indexes), 0);
    return {
      bytes,
      detail: [
        `database ${database}: ${byteSize(bytes)} in ${plural(tables.length, 'table')} (InnoDB data + indexes, after ANALYZE TABLE)`,
        ...tables.map(
          (table) =>
            `${table.name}: about ${plural(Number(table.rows), 'row')}; data ${byteSize(Number(table.data))}, indexes ${byteSize(Number(table.indexes))}`,
        ),
      ].join('\n'),
    };
  } finally {
    await connection.end();
  }
}
