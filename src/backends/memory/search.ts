/** The memory engine's search: every message scored in process with the engines' one BM25. */
import type { Backend, BackendSearchHit, SearchQuery } from '../../backend.js';
import type { Message } from '../../model.js';
import { compareUtf8, searchTerms } from '../../text.js';
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
      const score = bm25(index, query.terms);
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

/**
 * The score of docs/api.md ("Search score"): Okapi BM25 as SQLite FTS5's bm25() computes it, over
 * the whole index (`corpus`), in the same floating-point operations in the same order, so that every
 * engine comes to the same number. Returns the score of one document's terms.
 */
function bm25(corpus: { terms: string[] }[], queryTerms: string[]): (docTerms: string[]) => number {
  const k1 = 1.2;
  const b = 0.75;
  const documents = corpus.length;
  let totalTerms = 0;
  for (const doc of corpus) totalTerms += doc.terms.length;
  const averageLength = totalTerms / documents;
  const idf = queryTerms.map((term) => {
    let containing = 0;
    for (const doc of corpus) if (doc.terms.includes(term)) containing += 1;
    const value = Math.log((documents - containing + 0.5) / (containing + 0.5));
    return value <= 0 ? 1e-6 : value;
  });
  return (docTerms) => {
    let score = 0;
    queryTerms.forEach((term, i) => {
      let frequency = 0;
      for (const t of docTerms) if (t === term) frequency += 1;
      score +=
        (idf[i] as number) *
        ((frequency * (k1 + 1.0)) / (frequency + k1 * (1 - b + (b * docTerms.length) / averageLength)));
    });
    return score;
  };
}
