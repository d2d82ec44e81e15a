/**
 * Full-text search (FTS5) and the upkeep of its index. Appends write nothing for search: messages
 * above the high-water mark in `search_indexed` are not indexed yet, and edits of indexed ones are
 * noted in `search_pending` (see `schema.ts`). The indexer adds both to `messages_fts` in batches,
 * in the background when writes pause (or every few seconds while they go on), and `search` adds
 * whatever is still pending before it runs.
 */
import type { Backend, BackendSearchHit, SearchQuery } from '../../backend.js';
import { ftsMatch } from '../fts5.js';
import type { SearchIndexer, SqliteContext, SqliteLifecycle, SqliteTransactions } from './context.js';
import type { SqliteStatements } from './prepared.js';
import { toMessage } from './rows.js';

/**
 * When the background indexer runs: once writes have paused this long, or at the latest this long
 * after the first write it has not indexed. Writes in bursts (an import) then pay for the index
 * after the burst, in bigger batches, and a steady stream of writes still gets indexed every few
 * seconds. A run indexes everything pending, batch after batch, each in its own transaction.
 */
const INDEX_WHEN_IDLE_MS = 200;
const INDEX_AT_LATEST_MS = 5_000;
/** Messages indexed per transaction: the write queue takes other writes between two batches. */
const INDEX_BATCH = 5_000;

/** The indexer of one backend; its writes go through the backend's group commit. */
export function searchIndexer(
  sql: SqliteStatements,
  write: SqliteTransactions['write'],
  lifecycle: SqliteLifecycle,
): SearchIndexer {
  let timer: NodeJS.Timeout | undefined;
  /** A run is indexing batch after batch (appends then only note the time). */
  let draining = false;
  /** When the first write not indexed yet and the last write were noted (Date.now()). */
  let firstWriteAt = 0;
  let lastWriteAt = 0;

  const indexPendingBatch = (): void => {
    // Edited messages first (all at or below the mark), then appended ones above it.
    const edited = sql.pendingBatchEnd.get(INDEX_BATCH)?.pk;
    if (edited !== null && edited !== undefined) {
      sql.indexPending.run(edited);
      sql.clearPending.run(edited);
    }
    const appended = sql.unindexedBatchEnd.get(INDEX_BATCH)?.pk;
    if (appended !== null && appended !== undefined) {
      sql.indexUnindexed.run(appended);
      sql.markIndexed.run(appended);
    }
  };

  const arm = (delay: number): void => {
    timer = setTimeout(run, delay);
    timer.unref();
  };

  /** Waits while writes go on (up to the latest time), then indexes batch after batch until nothing is pending. */
  const run = (): void => {
    timer = undefined;
    if (lifecycle.closed) return;
    const startedAt = Date.now();
    if (!draining) {
      const due = Math.min(lastWriteAt + INDEX_WHEN_IDLE_MS, firstWriteAt + INDEX_AT_LATEST_MS);
      if (startedAt < due) {
        arm(due - startedAt);
        return;
      }
      draining = true;
    }
    const settle = (more: boolean): void => {
      if (lifecycle.closed) return;
      if (more) {
        arm(0);
        return;
      }
      draining = false;
      // An append queued behind this batch noted its time while the run went on: wait for it too.
      if (lastWriteAt >= startedAt) {
        firstWriteAt = lastWriteAt;
        arm(INDEX_WHEN_IDLE_MS);
      }
    };
    write(() => {
      indexPendingBatch();
      return sql.anyPending.get() !== undefined;
    }).then(
      settle,
      // A busy file or a full disk: the rows stay pending, for the next write's run or a search.
      () => settle(false),
    );
  };

  return {
    indexPendingBatch,
    schedule(): void {
      lastWriteAt = Date.now();
      if (timer !== undefined || draining || lifecycle.closed) return;
      firstWriteAt = lastWriteAt;
      arm(INDEX_WHEN_IDLE_MS);
    },
    stop: (): void => {
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

export function searchOperations({ sql, read, write, indexer }: SqliteContext): Pick<Backend, 'search'> {
  return {
    async search(query: SearchQuery): Promise<BackendSearchHit[]> {
      // Messages appended moments ago may still wait for the index: add them first, so a search
      // never misses a stored message (the common case, nothing pending, costs one lookup).
      while (read(() => sql.anyPending.get()) !== undefined) await write(indexer.indexPendingBatch);
      return read(() =>
        sql.search
          .all({
            // Quoted, every term is a plain word to FTS5 (never an operator); space-separated terms must all match.
            match: ftsMatch(query.terms),
            conversationId: query.conversationId ?? null,
            senderId: query.senderId ?? null,
            from: query.from ?? null,
            to: query.to ?? null,
            afterScore: query.after?.score ?? null,
            afterId: query.after?.id ?? null,
            limit: query.limit,
          })
          .map((row) => ({ message: toMessage(row), score: row.score })),
      );
    },
  };
}
