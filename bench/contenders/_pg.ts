/**
 * PostgreSQL for the bench: the server (`POSTGRES_URL`), one schema per workspace (derived from its
 * fresh key prefix, so no workload's data affects another's) and its removal afterwards. Nothing
 * outside the `chatstore_bench_` schemas is touched.
 */
import { createHash } from 'node:crypto';
import type { Contender, Workspace } from '../contender.js';
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
    const { rows: [row] } = await c.query("SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit");
    process.stdout.write(JSON.stringify(row));
    await c.end();`;
  const server = probeInChild<{ version: string; fsync: string; synchronous_commit: string }>(script);
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
  return { label: `${label} (${settings})`, sentence: `PostgreSQL ${server.version}, ${settings}: ${lost}` };
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
