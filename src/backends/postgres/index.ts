/**
 * The postgres backend (docs/backends.md), the production default: a `pg` pool (yours, or one it makes
 * from a URL), tables in their own schema, versioned migrations at open.
 *
 * An append is one round trip: one statement locks or creates the conversation's counter row, takes
 * the next seqs, checks that nothing of the call is stored yet and inserts the rows; appends to one
 * conversation serialize on that row only. The rare call that is
 * not that plain case (a stored duplicate, an `expectedLastSeq` that does not hold, a duplicate
 * racing in) takes the general path: a transaction that locks the same row, reads the stored
 * matches and lets `planAppend` decide, so the append rules live in one place.
 *
 * The parts: `types.ts` (the public types, re-exported here), `options.ts` (options and URLs),
 * `connect.ts` (opening, migrating, closing), `context.ts` (what the parts share: the pool,
 * statements, transactions), `append.ts`, `messages.ts`, `search.ts`, `conversations.ts`,
 * `maintenance.ts` (stats, erasure, export scan), `history.ts` (the old log's queries) and
 * `retention.ts` (partition listing and dropping), `change-feed.ts` (LISTEN/NOTIFY for caches of
 * other instances); SQL text in `statements.ts` (the
 * full-text vectors and queries in `text-search.ts`), tables in
 * `schema.ts` and their upkeep in `migrate.ts`, monthly partitions in `partitions.ts`, error
 * mapping in `errors.ts`.
 */

import { appendOperations } from './append.js';
import { pgChangeFeed } from './change-feed.js';
import { connect, connectionOperations, migrationPlan } from './connect.js';
import { conversationOperations } from './conversations.js';
import { historyOperations } from './history.js';
import { maintenanceOperations } from './maintenance.js';
import { messageOperations } from './messages.js';
import type { PgMigrationPlan } from './migrate.js';
import { urlOptions } from './options.js';
import { expireInPartitions, retentionOperations } from './retention.js';
import { searchOperations } from './search.js';
import type { PostgresBackend, PostgresOptions } from './types.js';

export type {
  HistoryOptions,
  PgPool,
  PgPoolClient,
  PgQueryConfig,
  PgQueryResult,
  PostgresBackend,
  PostgresOptions,
} from './types.js';

/**
 * Opens a chatstore schema on PostgreSQL, creating or upgrading it first.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { postgresBackend } from 'chatstore/postgres';
 * const store = new ChatStore(await postgresBackend({ url: process.env.DATABASE_URL }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function postgresBackend(options: PostgresOptions): Promise<PostgresBackend> {
  const ctx = await connect(options);
  const backend: PostgresBackend = {
    name: 'postgres',
    layout: ctx.layout,
    ...appendOperations(ctx),
    ...messageOperations(ctx),
    ...searchOperations(ctx),
    ...conversationOperations(ctx),
    ...maintenanceOperations(ctx),
    ...connectionOperations(ctx),
    ...historyOperations(ctx),
    ...retentionOperations(ctx),
    changeFeed: () => pgChangeFeed(ctx),
  };
  if (ctx.partitions !== undefined) backend.expireMessages = (request) => expireInPartitions(ctx, backend, request);
  return backend;
}

/**
 * The migration plan of a schema: what opening would apply (`dryRun`), or applies it now.
 * `chatstore schema --url … [--dry-run]` prints its statements.
 * @example const { statements } = await postgresMigrations({ url, dryRun: true });
 */
export async function postgresMigrations(options: PostgresOptions & { dryRun?: boolean }): Promise<PgMigrationPlan> {
  return migrationPlan(options);
}

/**
 * Options from a store URL's parts (what `openStore('postgres://…')` passes): chatstore's own
 * parameters become options, the rest stay in the URL for the driver.
 * @example postgresUrlOptions('app:secret@db:5432/chat', new URLSearchParams('schema=bot1&sslmode=require'))
 */
export function postgresUrlOptions(location: string, params: URLSearchParams): PostgresOptions {
  return urlOptions(location, params);
}
