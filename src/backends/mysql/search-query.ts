/**
 * The search operation: a FULLTEXT boolean query over the tokens of `search.ts`, scored by the
 * store-wide BM25 of docs/api.md (each term's document count is one more boolean query of that
 * token alone) and paged by the statement of its shape (see `statements.ts`).
 */
import type { Backend, BackendSearchHit, SearchQuery } from '../../backend.js';
import { bind, type MysqlContext } from './context.js';
import { datetime, type MessageRow, toMessage } from './rows.js';
import { booleanQuery, frequencyNeedle } from './search.js';
import type { SearchShape } from './statements.js';

export function searchOperations(ctx: MysqlContext): Pick<Backend, 'search'> {
  const { sql, tokens } = ctx;
  return {
    async search(search: SearchQuery): Promise<BackendSearchHit[]> {
      const searchShape: SearchShape = {
        terms: search.terms.length,
        conversation: search.conversationId !== undefined,
        sender: search.senderId !== undefined,
        from: search.from !== undefined,
        to: search.to !== undefined,
        after: search.after !== undefined,
      };
      const statement = ctx.shape(`search:${JSON.stringify(searchShape)}`, () => sql.search(searchShape));
      const values: Record<string, unknown> = {
        query: booleanQuery(search.terms, tokens),
        conversationId: search.conversationId,
        senderId: search.senderId,
        from: search.from === undefined ? undefined : datetime(search.from),
        to: search.to === undefined ? undefined : datetime(search.to),
        afterScore: search.after?.score,
        afterId: search.after?.id,
        limit: search.limit,
      };
      search.terms.forEach((term, index) => {
        values[`needle${index}`] = frequencyNeedle(term, tokens);
        values[`term${index}`] = booleanQuery([term], tokens);
      });
      const found = await ctx.rows<MessageRow & { score: number }>(statement.text, bind(statement, values));
      return found.map((row) => ({ message: toMessage(row), score: Number(row.score) }));
    },
  };
}
