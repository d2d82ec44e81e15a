/**
 * PostgreSQL for the bench: the server (`POSTGRES_URL`), one schema per workspace (derived from its
 * fresh key prefix, so no workload's data affects another's) and its removal afterwards. Nothing
 * outside the `chatstore_bench_` schemas is touched.
 */
import { createHash } from 'node:crypto';
import type { Contender, Workspace } from '../contender.js';
import { cleaningUp } from './_cleanup.js';

/** The server the bench uses. */
export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** What an acknowledged write survives on a default PostgreSQL server. */
export const PG_DURABILITY = {
  label: 'WAL fsync/commit',
  sentence:
    'PostgreSQL with synchronous_commit=on and fsync=on (the defaults): every commit is flushed to the WAL; an acknowledged message survives a crash or power loss',
};

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
