/**
 * The sqlite backend (docs/backends.md): one file through better-sqlite3, WAL, `synchronous=FULL` unless
 * asked otherwise, FTS5 for search. Several OS processes may share the file: every write runs in
 * `BEGIN IMMEDIATE` and waits up to `busyTimeoutMs` for another process's lock. Writes made in the
 * same event-loop turn share one transaction (group commit), so N concurrent appends cost one
 * fsync instead of N, while each call still succeeds or fails on its own (one SAVEPOINT per call).
 *
 * The parts: `connect.ts` (options, opening, closing), `transactions.ts` (reads and the group
 * commit), `append.ts`, `messages.ts`, `search.ts` (search and index upkeep), `conversations.ts`,
 * `maintenance.ts` (stats, erasure, export scan), `erasure.ts` and `residue.ts` (what an erasure or a
 * hard delete does so that none of the erased bytes stays on disk); SQL text in `statements.ts`,
 * tables in `schema.ts`.
 */
import type { Backend } from '../../backend.js';
import { appendOperations } from './append.js';
import { connect, connectionOperations } from './connect.js';
import { conversationOperations } from './conversations.js';
import { finishErasures } from './erasure.js';
import { maintenanceOperations } from './maintenance.js';
import { messageOperations } from './messages.js';
import type { SqliteOptions } from './options.js';
import { searchOperations } from './search.js';

export type { SqliteOptions } from './options.js';
export { sqliteUrlOptions } from './url.js';

/**
 * Opens (or creates) a chatstore sqlite file and brings its schema up to date.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { sqliteBackend } from 'chatstore/sqlite';
 * const store = new ChatStore(await sqliteBackend({ path: './data/chat.db' }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function sqliteBackend(options: SqliteOptions): Promise<Backend> {
  const ctx = await connect(options);
  return {
    name: 'sqlite',
    ...appendOperations(ctx),
    ...messageOperations(ctx),
    ...searchOperations(ctx),
    ...conversationOperations(ctx),
    ...maintenanceOperations(ctx),
    ...connectionOperations(ctx),
    finishRemovals: ({ thorough }) => finishErasures(ctx, thorough),
  };
}
