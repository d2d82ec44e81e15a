/**
 * The mysql backend (docs/backends.md): InnoDB on MySQL 8 or MariaDB through a `mysql2` pool (yours, or
 * one it makes from a URL), tables in a database of their own, versioned migrations at open.
 *
 * Messages are clustered by `(conversation_id, seq)`, so a page of a conversation is one range scan
 * of the primary key, and each is stored as one JSON body beside the columns queries need. An
 * append is one round trip in the plain case: a stored procedure locks (or creates) the
 * conversation's counter row, takes the next seqs, inserts the messages and missing participants
 * and commits; appends to one conversation serialize on that row only. A call that is not the plain
 * case (a stored duplicate, a stale `expectedLastSeq`, a duplicate racing in) takes the general
 * path: a transaction that locks the same row with `SELECT … FOR UPDATE`, reads the stored matches
 * and lets `planAppend` decide, so the append rules live in one place.
 *
 * The parts: `connect.ts` (opening, migrating, closing), `options.ts` (options and URLs),
 * `context.ts` (what the parts share: the pool, statements, transactions), `append.ts`,
 * `messages.ts`, `search-query.ts` (search; its tokens in `search.ts`), `conversations.ts`,
 * `maintenance.ts` (stats, erasure, export scan); SQL text in `statements.ts`, tables and the append
 * procedure in `schema.ts` (applied under a lock by `migrate.ts`), rows in `rows.ts`, error mapping in `errors.ts`.
 */
import type { Backend } from '../../backend.js';
import { appendOperations } from './append.js';
import { connect, connectionOperations, migrationPlan } from './connect.js';
import { conversationOperations } from './conversations.js';
import { maintenanceOperations } from './maintenance.js';
import { messageOperations } from './messages.js';
import type { MysqlMigrationPlan } from './migrate.js';
import type { MysqlOptions } from './options.js';
import type { MysqlLayout } from './schema.js';
import { searchOperations } from './search-query.js';

export { mergePatches } from './conversations.js';
export { type MysqlOptions, mysqlUrlOptions } from './options.js';
export type { MysqlPool, MysqlPoolConnection, MysqlResult } from './pool.js';

/**
 * The mysql backend: a `Backend` plus the layout its database was created with.
 * @example const backend = await mysqlBackend({ url }); backend.layout.collation;
 */
export interface MysqlBackend extends Backend {
  /** The database, its collation and the FULLTEXT token sizes search tokens are made for. */
  readonly layout: Readonly<MysqlLayout>;
}

/**
 * Opens chatstore's database on MySQL or MariaDB, creating or upgrading its schema first.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { mysqlBackend } from 'chatstore/mysql';
 * const store = new ChatStore(await mysqlBackend({ url: process.env.MYSQL_URL }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function mysqlBackend(options: MysqlOptions): Promise<MysqlBackend> {
  const ctx = await connect(options);
  return {
    name: 'mysql',
    layout: ctx.layout,
    ...appendOperations(ctx),
    ...messageOperations(ctx),
    ...searchOperations(ctx),
    ...conversationOperations(ctx),
    ...maintenanceOperations(ctx),
    ...connectionOperations(ctx),
  };
}

/**
 * The migration plan of a database: what opening would apply (`dryRun`), or applies it now.
 * @example const { statements } = await mysqlMigrations({ url, dryRun: true });
 */
export async function mysqlMigrations(options: MysqlOptions & { dryRun?: boolean }): Promise<MysqlMigrationPlan> {
  return migrationPlan(options);
}
