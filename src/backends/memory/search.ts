/** The memory engine's search: every message scored in process with the engines' one BM25. */
import type { Backend, BackendSearchHit, SearchQuery } from '../../backend.js';
import type { Message } from '../../model.js';
import { compareUtf8, searchTerms } from '../../text.js';
import { bm25, corpusStatistics } from '../bm25.js';
import { copy, ensureOpen, inTimeRange, type MemoryState } from './state.js';

export function searchOperations(state: MemoryState): Pick<Backend, 'search'> {
  return {
    async search(query: SearchQuery): Promise<BackendSearchHit[]> {
      ensureOpen(state);
      // The statistics are the whole index's (docs/api.md, "Search score"): every stored message,
      // soft-deleted ones included, as they stay in the engines' full-text indexes; the filters
      // and soft deletes only choose which hits come back.
      const index: { message: Message; terms: string[] }[] = [];
      for (const stored of state.conversations.values()) {
        for (const message of stored.messages.values()) index.push({ message, terms: searchTerms(message.content) });
      }
      const score = bm25(corpusStatistics(index, query.terms), query.terms);
      const scored = index
        .filter(({ message, terms }) => {
          if (message.deletedAt !== undefined) return false;
          if (query.conversationId !== undefined && message.conversationId !== query.conversationId) return false;
          if (query.senderId !== undefined && message.senderId !== query.senderId) return false;
          return inTimeRange(message, query.from, query.to) && query.terms.every((term) => terms.includes(term));
        })
        .map(({ message, terms }) => ({ message, score: score(terms) }));
      scored.sort((a, b) => b.score - a.score || compareUtf8(a.message.id, b.message.id));
      const after = query.after;
      const resumed =
        after === undefined
          ? scored
          : scored.filter(
              (hit) =>
                hit.score < after.score || (hit.score === after.score && compareUtf8(hit.message.id, after.id) > 0),
            );
      return copy(resumed.slice(0, query.limit));
    },
  };
}
