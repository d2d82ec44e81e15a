/**
 * What every part of the sqlite backend shares: the one connection, its prepared statements, the
 * closed flag, the way statements run (reads now, writes in the next group commit) and the search
 * indexer. `connect.ts` builds it once per backend; each `…Operations(ctx)` factory reads it.
 */
import type Database from 'better-sqlite3';
import type { SqliteStatements } from './prepared.js';

/** Shared by every part of one backend; only `close` changes it. */
export interface SqliteLifecycle {
  closed: boolean;
}

/** How statements run (see `transactions.ts`). Each throws `UNAVAILABLE` once the backend is closed. */
export interface SqliteTransactions {
  /** A synchronous read, with driver errors mapped. */
  read<T>(body: () => T): T;
  /** A read of several statements that sees one snapshot, even while other processes commit. */
  snapshot<T>(body: () => T): T;
  /** Queues a synchronous write for the group commit of this event-loop turn. */
  write<T>(run: () => T): Promise<T>;
  /** Commits the writes already queued now rather than at the end of this event-loop turn. */
  commitQueued(): void;
}

/** The background upkeep of the full-text index (see `search.ts`). */
export interface SearchIndexer {
  /** Adds one batch of pending messages to the search index (inside a write transaction). */
  indexPendingBatch(): void;
  /** After writes, index their messages in the background soon, in one transaction for many appends. */
  schedule(): void;
  /** Cancels a scheduled run (on close). */
  stop(): void;
}

export interface SqliteContext extends SqliteTransactions {
  readonly db: Database.Database;
  readonly sql: SqliteStatements;
  readonly lifecycle: SqliteLifecycle;
  readonly indexer: SearchIndexer;
}
