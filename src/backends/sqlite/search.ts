/**
 * Full-text search (FTS5) and the upkeep of its index. Appends write nothing for search: messages
 * above the high-water mark in `search_indexed` are not indexed yet, and edits of indexed ones are
 * noted in `search_pending` (see `schema.ts`). The indexer adds both to `messages_fts` in batches,
 * in the background shortly after writes, and `search` adds whatever is still pending before it runs.
 */
import type { Backend, BackendSearchHit, SearchQuery } from '../../backend.js';
import type { SearchIndexer, SqliteContext, SqliteLifecycle, SqliteTransactions } from './context.js';
import type { SqliteStatements } from './prepared.js';
import { toMessage } from './rows.js';
import { ftsToken } from './schema.js';

/** How long after a write the background indexer runs, and how many messages it indexes at once. */
const INDEX_DELAY_MS = 200;
const INDEX_BATCH = 5_000;

/** The indexer of one backend; its writes go through the backend's group commit. */
export function searchIndexer(
  sql: SqliteStatements,
  write: SqliteTransactions['write'],
  lifecycle: SqliteLifecycle,
): SearchIndexer {
  let timer: NodeJS.Timeout | undefined;

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

  const schedule = (): void => {
    if (timer !== undefined || lifecycle.closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (lifecycle.closed) return;
      write(() => {
        indexPendingBatch();
        return sql.anyPending.get() !== undefined;
      }).then(
        (more) => {
          if (more) schedule();
        },
        // A busy file or a full disk: the rows stay pending and the next search indexes them.
        () => undefined,
      );
    }, INDEX_DELAY_MS);
    timer.unref();
  };

  return {
    indexPendingBatch,
    schedule,
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
            match: query.terms.map((term) => `"${ftsToken(term).replaceAll('"', '""')}"`).join(' '),
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
