/**
 * `search`: the full-text index (see `PgTextSearch` in `statements.ts`: a word too long for a
 * lexeme is looked for as the token it was indexed as), one prepared statement per search shape,
 * hits scored by the store-wide BM25 of docs/api.md (see `search` in `statements.ts`) and paged on
 * (score, id).
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
        // Every term one quoted word (never an operator), joined by `&`: all must match.
        query: ctx.fullText.queryValue(search.terms),
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
