/**
 * `search`: the full-text index (see `PgTextSearch` in `statements.ts`), one prepared statement per
 * search shape, hits scored by BM25 (see `search` in `statements.ts`) and paged on (score, id).
 */
import type { Backend, BackendSearchHit, SearchQuery } from '../../backend.js';
import { fromStoredMessage, type StoredMessageRow } from '../sql/rows.js';
import type { SearchShape } from '../sql/shapes.js';
import type { PgContext } from './context.js';

export function searchOperations(ctx: PgContext): Pick<Backend, 'search'> {
  return {
    async search(search: SearchQuery): Promise<BackendSearchHit[]> {
      const searchShape: SearchShape = {
        conversation: search.conversationId !== undefined,
        sender: search.senderId !== undefined,
        from: search.from !== undefined,
        to: search.to !== undefined,
        after: search.after !== undefined,
      };
      const { text, params } = ctx.shape(`search:${JSON.stringify(searchShape)}`, () => ctx.sql.search(searchShape));
      const values: Record<string, unknown> = {
        // Quoted, every term is one word to_tsquery sees (never an operator); `&`: all must match.
        query: search.terms.map((term) => `'${term.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`).join(' & '),
        words: ctx.fullText.wordsValue(search.terms),
        conversationId: search.conversationId,
        senderId: search.senderId,
        from: search.from,
        to: search.to,
        afterScore: search.after?.score,
        afterId: search.after?.id,
        limit: search.limit,
      };
      const found = await ctx.rows<StoredMessageRow & { score: number }>(
        text,
        params.map((name) => values[name]),
      );
      return found.map((row) => ({ message: fromStoredMessage(row), score: Number(row.score) }));
    },
  };
}
