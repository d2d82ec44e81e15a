/**
 * The search score of docs/api.md ("Search score"): Okapi BM25 as SQLite FTS5's bm25() computes it,
 * in the same floating-point operations in the same order, for the engines that score in
 * JavaScript (memory; the Cloudflare directory, whose shards each hold part of the index and score
 * with the statistics of all of them).
 */

/** What the score needs of the whole index: its messages, their words, and how many have each query term. */
export interface CorpusStatistics {
  documents: number;
  words: number;
  /** Per query term, in the query's order: how many indexed messages have it. */
  containing: number[];
}

/** The statistics of an index held in memory: each message's terms. */
export function corpusStatistics(
  corpus: readonly { terms: readonly string[] }[],
  queryTerms: readonly string[],
): CorpusStatistics {
  let words = 0;
  for (const doc of corpus) words += doc.terms.length;
  const containing = queryTerms.map((term) => {
    let count = 0;
    for (const doc of corpus) if (doc.terms.includes(term)) count += 1;
    return count;
  });
  return { documents: corpus.length, words, containing };
}

/** The score of one message's terms for `queryTerms`, over an index with `statistics`. */
export function bm25(
  statistics: CorpusStatistics,
  queryTerms: readonly string[],
): (docTerms: readonly string[]) => number {
  const k1 = 1.2;
  const b = 0.75;
  const averageLength = statistics.words / statistics.documents;
  const idf = statistics.containing.map((containing) => {
    const value = Math.log((statistics.documents - containing + 0.5) / (containing + 0.5));
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
