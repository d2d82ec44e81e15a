/** Full-text search on the engine's own index (`search` in docs/api.md; invariant 8 in docs/ARCHITECTURE.md). */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { Message, SearchHit } from '../../src/model.js';
import type { SearchOptions } from '../../src/store.js';
import { compareUtf8, searchTerms } from '../../src/text.js';
import { backends } from './backends.js';
import { atT0, expectError, expectWithinQueryLimit, freshStore, hasSearch, range } from './harness.js';

const ids = (hits: SearchHit[]): string[] => hits.map((h) => h.message.id);

async function searchAll(store: ChatStoreApi, query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
  const hits: SearchHit[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.search(query, { ...options, ...(cursor === undefined ? {} : { cursor }) });
    hits.push(...page.hits);
    if (page.next === undefined) return hits;
    cursor = page.next;
  }
  throw new Error('search never ended');
}

describe.each(backends.filter(hasSearch))('search on $name', (entry) => {
  test('finds whole words regardless of case and accents; every word must match', async () => {
    const store = await freshStore(entry, atT0);
    const [cafe, tea, other] = (
      await store.append('c1', [
        { role: 'user', content: 'Un Café au lait et mon RÉSUMÉ, por favor' },
        { role: 'user', content: 'green tea for the resume review' },
        { role: 'assistant', content: 'nothing to see here' },
      ])
    ).map((r) => r.message) as [Message, Message, Message];

    const { hits } = await store.search('cafe');
    expect(hits).toStrictEqual([{ message: cafe, snippet: expect.any(String), score: expect.any(Number) }]);
    expect(ids((await store.search('CAFÉ')).hits)).toEqual([cafe.id]);
    expect(ids((await store.search('résumé café')).hits)).toEqual([cafe.id]);
    expect(ids((await store.search('Resume')).hits).sort()).toEqual([cafe.id, tea.id].sort());
    expect(ids((await store.search('resume tea')).hits)).toEqual([tea.id]);
    expect((await store.search('cafe tea')).hits).toEqual([]);
    expect((await store.search('caf')).hits).toEqual([]);
    expect((await store.search('zebra')).hits).toEqual([]);
    expect(ids((await store.search('nothing, to see!')).hits)).toEqual([other.id]);
  });

  test('a word is found as written, in any script', async () => {
    const store = await freshStore(entry, atT0);
    const words = [
      'naïve', // Latin with a diaeresis
      'łódź', // Polish
      'çağrı', // Turkish
      'Tiếng', // Vietnamese, two diacritics
      'Привет', // Russian
      'ёжик', // Russian ё
      'йогурт', // Russian й
      'Ελληνικά', // Greek with tonos
      'नमस्ते', // Hindi: vowel signs and virama are combining marks
      'ภาษาไทย', // Thai
      'ありがとう', // Japanese with dakuten (が)
      '한국어', // Korean Hangul syllables
      'مرحبا', // Arabic
      'مَرْحَبًا', // Arabic with harakat
      'שָׁלוֹם', // Hebrew with niqqud
    ];
    const ids = new Map<string, string>();
    for (const word of words) {
      const [result] = await store.append('c1', { role: 'user', content: `before ${word} after` });
      ids.set(word, result?.message.id as string);
    }
    const found: Record<string, boolean> = {};
    for (const word of words) {
      const { hits } = await store.search(word);
      found[word] = hits.some((hit) => hit.message.id === ids.get(word));
    }
    expect(found).toEqual(Object.fromEntries(words.map((word) => [word, true])));
  });

  test('a more relevant message ranks above a weaker one', async () => {
    const store = await freshStore(entry, atT0);
    const [weak, strong] = (
      await store.append('c1', [
        {
          role: 'user',
          content:
            'I wanted to ask about many things today, the weather, the delivery times, and maybe a refund at some point later on',
        },
        { role: 'user', content: 'refund refund refund please' },
        { role: 'user', content: 'unrelated message about shipping' },
        { role: 'user', content: 'another unrelated message' },
      ])
    ).map((r) => r.message) as [Message, Message];
    const { hits } = await store.search('refund');
    expect(ids(hits)).toEqual([strong.id, weak.id]);
    expect(hits[0]?.score).toBeGreaterThan(hits[1]?.score as number);
  });

  test('the snippet marks the matched words', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'Hello, your Refund for order 42 is on its way' });
    const [hit] = (await store.search('refund order')).hits;
    const snippet = hit?.snippet.toLowerCase() ?? '';
    expect(snippet).toContain('<mark>refund</mark>');
    expect(snippet).toContain('<mark>order</mark>');
    expect(snippet).not.toContain('<mark>hello</mark>');
  });

  test('the snippet is safe HTML: the text is escaped, only the <mark> tags are markup', async () => {
    const store = await freshStore(entry, atT0);
    const content = `<script>alert(1)</script> refund <img src=x onerror=alert(1)> & "q" 'x' &amp;`;
    const [appended] = await store.append('c1', { role: 'user', content });
    const { hits } = await store.search('refund');
    expect(hits).toStrictEqual([
      {
        message: appended?.message,
        snippet:
          '&lt;script&gt;alert(1)&lt;/script&gt; <mark>refund</mark> &lt;img src=x onerror=alert(1)&gt; &amp; ' +
          '&quot;q&quot; &#39;x&#39; &amp;amp;',
        score: expect.any(Number),
      },
    ]);
    // The message itself is returned as stored, unescaped.
    expect(hits[0]?.message.content).toBe(content);
    // Without the <mark> tags, no markup is left.
    expect(hits[0]?.snippet.replaceAll('<mark>', '').replaceAll('</mark>', '')).not.toMatch(/[<>"']/);
    // A matched word next to markup, and a long text cut around the match, are escaped alike.
    await store.append('c1', {
      role: 'user',
      content: `${'<b>filler</b> '.repeat(12)}<i>invoice</i>${' <u>tail</u>'.repeat(12)}`,
    });
    const [long] = (await store.search('invoice')).hits;
    const snippet = long?.snippet ?? '';
    expect(snippet).toContain('&lt;i&gt;<mark>invoice</mark>&lt;/i&gt; &lt;u&gt;tail&lt;/u&gt;');
    expect([snippet.startsWith('…'), snippet.endsWith('…')]).toEqual([true, true]);
    expect(snippet.replaceAll('<mark>', '').replaceAll('</mark>', '')).not.toMatch(/[<>"']/);
  });

  test('hits of equal score are ordered by id bytes (UTF-8), on every page', async () => {
    const store = await freshStore(entry, atT0);
    // UTF-16 code units would put '😀' (0xD83D…) first; UTF-8 bytes and code points put it last.
    for (const id of ['\u{1F600}', '\uFFFD', '\uE000']) {
      await store.append('c1', { id, role: 'user', content: 'tie breaker' });
    }
    const found = await searchAll(store, 'breaker', { limit: 1 });
    expect(ids(found)).toEqual(['\uE000', '\uFFFD', '\u{1F600}']);
    expect(new Set(found.map((hit) => hit.score)).size).toBe(1);
  });

  test('filters by conversation, sender and time', async () => {
    const store = await freshStore(entry, atT0);
    const at = (d: number) => `2026-04-0${d}T12:00:00.000Z`;
    const put = async (conversationId: string, senderId: string, d: number) =>
      (
        await store.append(conversationId, {
          role: 'user',
          content: `invoice from ${senderId} on day ${d}`,
          senderId,
          createdAt: at(d),
        })
      )[0]?.message as Message;
    const a1 = await put('a', 'ana', 1);
    const a2 = await put('a', 'bob', 2);
    const b3 = await put('b', 'ana', 3);
    const b4 = await put('b', 'bob', 4);
    const sorted = (hits: SearchHit[]) => ids(hits).sort();

    expect(sorted(await searchAll(store, 'invoice'))).toEqual([a1.id, a2.id, b3.id, b4.id].sort());
    expect(sorted(await searchAll(store, 'invoice', { conversationId: 'a' }))).toEqual([a1.id, a2.id].sort());
    expect(sorted(await searchAll(store, 'invoice', { senderId: 'ana' }))).toEqual([a1.id, b3.id].sort());
    expect(sorted(await searchAll(store, 'invoice', { conversationId: 'b', senderId: 'bob' }))).toEqual([b4.id]);
    expect(sorted(await searchAll(store, 'invoice', { from: at(2), to: at(4) }))).toEqual([a2.id, b3.id].sort());
    expect(sorted(await searchAll(store, 'invoice', { from: new Date(at(3)) }))).toEqual([b3.id, b4.id].sort());
    expect(sorted(await searchAll(store, 'invoice', { to: Date.parse(at(2)) }))).toEqual([a1.id]);
    expect(await searchAll(store, 'invoice', { conversationId: 'nobody' })).toEqual([]);
  });

  test('pages with a cursor are disjoint and cover every hit in score order', async () => {
    const store = await freshStore(entry, atT0);
    const appended = await store.append(
      'c1',
      range(1, 25).map((i) => ({
        role: 'user' as const,
        content: `${'order '.repeat(1 + (i % 4))}number ${i}${' filler'.repeat(i % 5)}`,
      })),
    );
    await store.append('c2', { role: 'user', content: 'no match here' });
    const first = await store.search('order', { limit: 10 });
    expect(first.hits).toHaveLength(10);
    const second = await store.search('order', { limit: 10, cursor: first.next as string });
    expect(second.hits).toHaveLength(10);
    const third = await store.search('order', { limit: 10, cursor: second.next as string });
    expect(third.hits).toHaveLength(5);
    expect(third.next).toBeUndefined();
    const all = [...first.hits, ...second.hits, ...third.hits];
    expect(new Set(ids(all)).size).toBe(25);
    expect(ids(all).sort()).toEqual(appended.map((r) => r.message.id).sort());
    const scores = all.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    // The same pages with one page of everything.
    expect(ids((await store.search('order', { limit: 25 })).hits)).toEqual(ids(all));
  });

  test('deleted messages are never found', async () => {
    const store = await freshStore(entry, atT0);
    const [soft, hard, kept] = (
      await store.append('c1', [
        { role: 'user', content: 'parcel one' },
        { role: 'user', content: 'parcel two' },
        { role: 'user', content: 'parcel three' },
      ])
    ).map((r) => r.message) as [Message, Message, Message];
    await store.append('gone', { role: 'user', content: 'parcel four' });
    await store.delete(soft.id);
    await store.delete(hard.id, { hard: true });
    await store.deleteConversation('gone');
    expect(ids(await searchAll(store, 'parcel'))).toEqual([kept.id]);
    expect(await searchAll(store, 'parcel two')).toEqual([]);
    await store.deleteConversation('c1', { hard: true });
    expect(await searchAll(store, 'parcel')).toEqual([]);
  });

  test('an edit is searchable by its new words only', async () => {
    const store = await freshStore(entry, atT0);
    const [message] = (await store.append('c1', { role: 'user', content: 'original wording' })).map((r) => r.message);
    await store.edit(message?.id as string, { content: 'corrected phrasing' });
    expect(await searchAll(store, 'original')).toEqual([]);
    expect(ids(await searchAll(store, 'phrasing'))).toEqual([message?.id]);
  });

  test('a query without words, a bad limit or a bad cursor is INVALID_ARGUMENT', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'something' });
    await expectError(store.search(''), 'INVALID_ARGUMENT', 'query');
    await expectError(store.search('   '), 'INVALID_ARGUMENT', 'query');
    await expectError(store.search('?! ...'), 'INVALID_ARGUMENT', 'query');
    await expectError(store.search('something', { limit: 0 }), 'INVALID_ARGUMENT', 'limit');
    await expectError(store.search('something', { limit: 1001 }), 'INVALID_ARGUMENT', 'limit');
    await expectError(store.search('something', { cursor: 'garbage' }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.search('something', { from: 'tomorrow' }), 'INVALID_ARGUMENT', 'from');
  });
});

describe.each(backends.filter(hasSearch))('search words of any length on $name', (entry) => {
  test('every word is found, however long, and only by itself; no query word is too long', async () => {
    const store = await freshStore(entry, atT0);
    // 2,047 bytes: past PostgreSQL's 2,046 of old; 3,000 bytes as ASCII, 2-byte and 3-byte letters
    // ('é' folds to 'e': 1,500 bytes as a term); 40,000 bytes: past FTS5's 32,768-byte tokens.
    const words = [
      'b'.repeat(2047),
      `${'a'.repeat(2999)}z`,
      'é'.repeat(1500),
      'ж'.repeat(1500),
      '中'.repeat(1000),
      `${'q'.repeat(39_999)}r`,
    ];
    const messageIds: string[] = [];
    for (const word of words) {
      const [result] = await store.append('c1', { role: 'user', content: `before ${word} after` });
      messageIds.push(result?.message.id as string);
    }
    // Over HTTP a query travels in the URL: one longer than the entry carries must fail as too large.
    const found = (query: string, check: (hits: SearchHit[]) => void) =>
      expectWithinQueryLimit(entry, query, () => searchAll(store, query), check);
    for (const [i, word] of words.entries()) {
      await found(word, (hits) => expect(ids(hits), `word ${i}`).toEqual([messageIds[i]]));
      await found(`after ${word} before`, (hits) =>
        expect(ids(hits), `word ${i} with others`).toEqual([messageIds[i]]),
      );
      // The same word but its last character: no match, however long the common prefix.
      const other = `${word.slice(0, -1)}${word.endsWith('z') ? 'y' : word.endsWith('r') ? 's' : 'x'}`;
      await found(other, (hits) => expect(hits, `word ${i} changed at the end`).toEqual([]));
    }
    // Long query words that match nothing are no error either.
    await found('ы'.repeat(4000), (hits) => expect(hits).toEqual([]));
    await found(`before ${'x'.repeat(60_000)}`, (hits) => expect(hits).toEqual([]));
  });
});

describe.each(backends.filter(hasSearch))('search score on $name (docs/api.md "Search score")', (entry) => {
  // `apple` is in most messages, `banana` in few: BM25 ranks by how often the rarer word occurs.
  const corpus = async (store: ChatStoreApi) => {
    const put = async (conversationId: string, contents: string[]) =>
      (
        await store.append(
          conversationId,
          contents.map((content) => ({ role: 'user' as const, content })),
        )
      ).map((result) => result.message);
    const c1 = await put('c1', [
      'apple banana banana banana',
      'apple apple apple banana',
      'apple banana kiwi kiwi kiwi kiwi',
      'apple apple banana banana mango',
      'banana split',
      'banana banana apple soon deleted',
    ]);
    const c2 = await put('c2', [
      'apple banana banana pear',
      'apple apple apple apple banana pear plum',
      ...range(0, 11).map((k) => `apple${' word'.repeat(k)}`),
    ]);
    const c3 = await put('c3', ['apple banana in a deleted conversation', 'banana alone']);
    // Soft-deleted messages are never found but stay in the index: they count in the statistics.
    await store.delete(c1[5]?.id as string);
    await store.deleteConversation('c3');
    return [...c1, ...c2, ...c3];
  };

  // Every message stored (soft-deleted ones too), as the score sees them.
  const everyMessage = async (store: ChatStoreApi): Promise<StoredText[]> => {
    const all: StoredText[] = [];
    for (const c of ['c1', 'c2', 'c3', 'c4', 'c5']) {
      all.push(...(await store.list(c, { limit: 1000, includeDeleted: true })).messages.map(storedText));
    }
    return all;
  };

  const expectRanking = async (store: ChatStoreApi, stored: readonly StoredText[], query: string, options = {}) => {
    const expected = referenceHits(stored, query, options);
    for (const limit of [2, 20]) {
      const hits = await searchAll(store, query, { ...options, limit });
      expect(ids(hits), `${query} ${JSON.stringify(options)} limit ${limit}`).toEqual(expected.map((hit) => hit.id));
      hits.forEach((hit, i) => {
        const score = expected[i]?.score as number;
        expect(Math.abs(hit.score - score), `score of hit ${i}: ${hit.score} vs ${score}`).toBeLessThanOrEqual(
          1e-9 * Math.abs(score),
        );
      });
    }
    return expected;
  };

  test('hits rank by BM25 over the whole store: the rarer word counts most; pages and filters keep the order', async () => {
    const store = await freshStore(entry, atT0);
    await corpus(store);
    const stored = await everyMessage(store);
    const both = await expectRanking(store, stored, 'apple banana');
    expect(both).toHaveLength(6);
    // banana three times beats apple three times: apple is in nearly every message.
    expect(both[0]?.content).toBe('apple banana banana banana');
    await expectRanking(store, stored, 'banana apple');
    await expectRanking(store, stored, 'apple');
    await expectRanking(store, stored, 'banana');
    await expectRanking(store, stored, 'kiwi');
    // A filter chooses hits; the statistics stay the whole store's.
    await expectRanking(store, stored, 'apple banana', { conversationId: 'c1' });
    await expectRanking(store, stored, 'apple banana', { conversationId: 'c2' });
    await expectRanking(store, stored, 'banana', { conversationId: 'c1' });
  });

  test('the statistics follow appends, edits, hard deletes and erasure', async () => {
    const store = await freshStore(entry, atT0);
    const messages = await corpus(store);
    const [edited, removed] = [messages[1], messages[6]] as [Message, Message];
    await store.edit(edited.id, { content: 'banana banana banana banana banana banana and more words' });
    await store.delete(removed.id, { hard: true });
    await store.append('c4', [
      { role: 'user', content: 'apple banana from ann', senderId: 'ann' },
      { role: 'user', content: 'banana banana banana from ann', senderId: 'ann' },
    ]);
    await store.append('c2', { role: 'user', content: 'banana apple from ann', senderId: 'ann' });
    await store.append('c5', { role: 'user', content: `banana ${'filler '.repeat(30)}` });
    const live = () => everyMessage(store);
    await expectRanking(store, await live(), 'apple banana');
    await expectRanking(store, await live(), 'banana');
    await store.eraseSubject('ann');
    await expectRanking(store, await live(), 'apple banana');
    await store.deleteConversation('c5', { hard: true });
    await expectRanking(store, await live(), 'banana');
    await expectRanking(store, await live(), 'apple banana', { conversationId: 'c2' });
  });
});

describe.each(backends.filter((entry) => !hasSearch(entry)))('search on $name (no full-text index)', (entry) => {
  test('search answers UNSUPPORTED and says why; bad input is still INVALID_ARGUMENT', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'something to find' });
    const error = await expectError(store.search('x'), 'UNSUPPORTED');
    expect(error.message).toMatch(/full-text index/);
    await expectError(store.search('something', { conversationId: 'c1', limit: 5 }), 'UNSUPPORTED');
    await expectError(store.search(''), 'INVALID_ARGUMENT', 'query');
  });
});

/** A stored message as the score sees it: soft-deleted ones count in the statistics, never as hits. */
interface StoredText {
  id: string;
  conversationId: string;
  content: string;
  deleted: boolean;
}

const storedText = (message: Message): StoredText => ({
  id: message.id,
  conversationId: message.conversationId,
  content: message.content,
  deleted: message.deletedAt !== undefined,
});

/**
 * The score of docs/api.md ("Search score"), from its definition: Okapi BM25 as SQLite FTS5's
 * bm25() computes it (k1 = 1.2, b = 0.75, idf floored at 1e-6), N, n and the average length over
 * every stored message (soft-deleted ones too), whatever the filter. The hits every engine must
 * return, best first, ties by id bytes.
 */
function referenceHits(
  stored: readonly StoredText[],
  query: string,
  filter: { conversationId?: string } = {},
): { id: string; content: string; score: number }[] {
  const k1 = 1.2;
  const b = 0.75;
  const queryTerms = [...new Set(searchTerms(query))];
  const docs = stored.map((doc) => ({ ...doc, terms: searchTerms(doc.content) }));
  const documents = docs.length;
  const averageLength = docs.reduce((sum, doc) => sum + doc.terms.length, 0) / documents;
  const idf = queryTerms.map((term) => {
    const n = docs.filter((doc) => doc.terms.includes(term)).length;
    const value = Math.log((documents - n + 0.5) / (n + 0.5));
    return value <= 0 ? 1e-6 : value;
  });
  return docs
    .filter((doc) => !doc.deleted && queryTerms.every((term) => doc.terms.includes(term)))
    .filter((doc) => filter.conversationId === undefined || doc.conversationId === filter.conversationId)
    .map((doc) => {
      let score = 0;
      queryTerms.forEach((term, i) => {
        const tf = doc.terms.filter((t) => t === term).length;
        score += (idf[i] as number) * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.terms.length) / averageLength)));
      });
      return { id: doc.id, content: doc.content, score };
    })
    .sort((x, y) => y.score - x.score || compareUtf8(x.id, y.id));
}
