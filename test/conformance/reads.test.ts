/** Reads: list with cursors, recent, around and context (docs/api.md; invariant 5 in docs/ARCHITECTURE.md). */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { ContextMessage, Message, NewMessage } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, described, expectError, freshStore, listAll, range, seqs } from './harness.js';

/** Appends `n` messages one call each; returns them as stored. */
async function fill(store: ChatStoreApi, conversationId: string, n: number, from = 1): Promise<Message[]> {
  const stored: Message[] = [];
  for (let i = from; i < from + n; i++) {
    const [result] = await store.append(conversationId, {
      role: i % 2 === 0 ? 'assistant' : 'user',
      content: `message ${i}`,
    });
    stored.push(result?.message as Message);
  }
  return stored;
}

const day = (d: number): string => `2026-03-${String(d).padStart(2, '0')}T00:00:00.000Z`;

describe.each(backends)('reads on $name', (entry) => {
  test('list pages ascending and descending with cursors; the last page has no next', async () => {
    const store = await freshStore(entry, atT0);
    const all = await fill(store, 'c1', 10);

    const first = await store.list('c1', { limit: 4 });
    expect(first.messages).toStrictEqual(all.slice(0, 4));
    expect(first.next).toEqual(expect.any(String));
    const second = await store.list('c1', { limit: 4, cursor: first.next as string });
    expect(second.messages).toStrictEqual(all.slice(4, 8));
    const third = await store.list('c1', { limit: 4, cursor: second.next as string });
    expect(third).toStrictEqual({ messages: all.slice(8) });

    const exact = await store.list('c1', { limit: 5, order: 'desc' });
    expect(exact.messages).toStrictEqual(all.slice(5).reverse());
    const rest = await store.list('c1', { limit: 5, order: 'desc', cursor: exact.next as string });
    expect(rest).toStrictEqual({ messages: all.slice(0, 5).reverse() });

    // The cursor carries the order.
    expect((await store.list('c1', { limit: 4, cursor: exact.next as string })).messages).toStrictEqual(
      all.slice(1, 5).reverse(),
    );
    expect(await store.list('c1', { limit: 1000 })).toStrictEqual({ messages: all });
    expect(await store.list('c1')).toStrictEqual({ messages: all });
  });

  test('list bounds: before, after and the createdAt window', async () => {
    const store = await freshStore(entry, atT0);
    const all = (
      await store.append(
        'c1',
        range(1, 10).map((d) => ({ role: 'user' as const, content: `day ${d}`, createdAt: day(d) })),
      )
    ).map((r) => r.message);
    expect((await store.list('c1', { after: 3, before: 7 })).messages).toStrictEqual(all.slice(3, 6));
    expect((await store.list('c1', { after: 3, before: 7, order: 'desc' })).messages).toStrictEqual(
      all.slice(3, 6).reverse(),
    );
    expect((await store.list('c1', { from: day(3), to: day(6) })).messages).toStrictEqual(all.slice(2, 5));
    expect((await store.list('c1', { from: new Date(day(9)) })).messages).toStrictEqual(all.slice(8));
    expect((await store.list('c1', { to: Date.parse(day(2)) })).messages).toStrictEqual(all.slice(0, 1));
    expect((await store.list('c1', { from: '2026-03-05T02:00:00+02:00', limit: 2 })).messages).toStrictEqual(
      all.slice(4, 6),
    );
    const windowed = await listAll(store, 'c1', { from: day(2), to: day(9), limit: 2, order: 'desc' });
    expect(windowed).toStrictEqual(all.slice(1, 8).reverse());
    expect(await store.list('c1', { after: 10 })).toStrictEqual({ messages: [] });
    expect(await store.list('nobody')).toStrictEqual({ messages: [] });
  });

  test('pages read while appends and deletes happen in between skip and repeat nothing, ascending', async () => {
    const store = await freshStore(entry, atT0);
    await fill(store, 'c1', 30);
    const seen: Message[] = [];
    let cursor: string | undefined;
    let round = 0;
    for (;;) {
      const page = await store.list('c1', { limit: 7, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.messages);
      round += 1;
      if (round <= 4) await fill(store, 'c1', 3, 100 + round * 10);
      if (round === 2) {
        // Deleting a message already read and one not read yet must not shift the pages.
        await store.delete((seen[0] as Message).id);
        await store.delete((await store.list('c1', { after: 20, limit: 1 })).messages[0]?.id as string, { hard: true });
      }
      if (page.next === undefined) break;
      cursor = page.next;
    }
    const expected = await listAll(store, 'c1');
    // Everything stored now, plus the one soft-deleted after it was read (as it was when read).
    expect(seqs(seen)).toEqual([1, ...seqs(expected)]);
    expect(seqs(seen)).toEqual([...range(1, 20), ...range(22, 42)]);
    expect(seen.slice(1)).toStrictEqual(expected);
  });

  test('pages read while appends happen in between skip and repeat nothing, descending', async () => {
    const store = await freshStore(entry, atT0);
    const original = await fill(store, 'c1', 30);
    const seen: Message[] = [];
    let cursor: string | undefined;
    let round = 0;
    for (;;) {
      const page = await store.list('c1', {
        limit: 7,
        order: 'desc',
        ...(cursor === undefined ? {} : { cursor }),
      });
      seen.push(...page.messages);
      round += 1;
      await fill(store, 'c1', 3, 100 + round * 10);
      if (page.next === undefined) break;
      cursor = page.next;
    }
    expect(seen).toStrictEqual([...original].reverse());
    expect((await store.getConversation('c1'))?.lastSeq).toBe(30 + 3 * round);
  });

  test('cursors are checked: another conversation, garbage, another kind or order is INVALID_ARGUMENT', async () => {
    const store = await freshStore(entry, atT0);
    await fill(store, 'c1', 5);
    await fill(store, 'c2', 5);
    const page = await store.list('c1', { limit: 2 });
    const cursor = page.next as string;
    await expectError(store.list('c2', { limit: 2, cursor }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.list('c1', { cursor: 'not a cursor!' }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.list('c1', { cursor: 'eyJ4IjoxfQ' }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.list('c1', { cursor: '' }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.list('c1', { cursor: `${cursor}x` }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.list('c1', { cursor, order: 'desc' }), 'INVALID_ARGUMENT', 'order');
    const conversations = await store.listConversations({ limit: 1 });
    await expectError(store.list('c1', { cursor: conversations.next as string }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.search('message', { cursor }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.listConversations({ cursor }), 'INVALID_ARGUMENT', 'cursor');
    await expectError(store.list('c1', { order: 'sideways' as 'asc' }), 'INVALID_ARGUMENT', 'order');
    await expectError(store.list('c1', { after: -1 }), 'INVALID_ARGUMENT', 'after');
    await expectError(store.list('c1', { before: 1.5 }), 'INVALID_ARGUMENT', 'before');
    await expectError(store.list('c1', { from: 'soon' }), 'INVALID_ARGUMENT', 'from');
    // The cursor is still good for its own conversation.
    expect(seqs((await store.list('c1', { limit: 2, cursor })).messages)).toEqual([3, 4]);
  });

  test('export walks every conversation in id order, each in seq order, page by page', async () => {
    const store = await freshStore(entry, atT0);
    const b = (
      await store.append(
        'b',
        range(1, 1000).map((i) => ({ role: 'user' as const, content: `b${i}`, createdAt: day(1 + (i % 9)) })),
      )
    ).map((r) => r.message);
    b.push(...(await store.append('b', { role: 'user', content: 'b1001', createdAt: day(1) })).map((r) => r.message));
    const c = await fill(store, 'c', 2);
    const a = await fill(store, 'a', 3);
    await store.delete(a[1]?.id as string);
    const exported = async (filter: Parameters<ChatStoreApi['export']>[0]) => {
      const all: Message[] = [];
      for await (const message of store.export(filter)) all.push(message);
      return all;
    };
    expect(await exported({})).toStrictEqual([a[0], a[2], ...b, ...c]);
    expect(seqs(await exported({ includeDeleted: true })).slice(0, 3)).toEqual([1, 2, 3]);
    expect(await exported({ conversationId: 'b' })).toStrictEqual(b);
    expect(await exported({ conversationId: 'b', from: day(3), to: day(5) })).toStrictEqual(
      b.filter((m) => m.createdAt >= day(3) && m.createdAt < day(5)),
    );
    expect(await exported({ conversationId: 'nobody' })).toStrictEqual([]);
  });

  test('recent returns the last n oldest first, without deleted messages', async () => {
    const store = await freshStore(entry, atT0);
    const all = await fill(store, 'c1', 30);
    expect(await store.recent('c1', 5)).toStrictEqual(all.slice(25));
    expect(await store.recent('c1', 1)).toStrictEqual(all.slice(29));
    expect(await store.recent('c1')).toStrictEqual(all.slice(10));
    expect(await store.recent('c1', 1000)).toStrictEqual(all);
    await store.delete(all[29]?.id as string);
    await store.delete(all[27]?.id as string, { hard: true });
    expect(await store.recent('c1', 3)).toStrictEqual([all[25], all[26], all[28]]);
    expect(await store.recent('nobody', 5)).toStrictEqual([]);
  });

  test('around a seq or an id, with before and after', async () => {
    const store = await freshStore(entry, atT0);
    const all = await fill(store, 'c1', 20);
    await fill(store, 'c2', 20);
    const at = (...s: number[]) => s.map((n) => all[n - 1]);
    expect(await store.around('c1', 10, { before: 3, after: 2 })).toStrictEqual(at(7, 8, 9, 10, 11, 12));
    expect(await store.around('c1', all[9]?.id as string, { before: 3, after: 2 })).toStrictEqual(
      at(7, 8, 9, 10, 11, 12),
    );
    expect(await store.around('c1', 2, { before: 5, after: 1 })).toStrictEqual(at(1, 2, 3));
    expect(await store.around('c1', 19, { before: 1, after: 5 })).toStrictEqual(at(18, 19, 20));
    expect(await store.around('c1', 20)).toStrictEqual(at(15, 16, 17, 18, 19, 20));
    expect(await store.around('c1', 10, { before: 0, after: 0 })).toStrictEqual(at(10));

    const [deleted] = at(11);
    await store.delete(deleted?.id as string);
    expect(await store.around('c1', 10, { before: 1, after: 2 })).toStrictEqual(at(9, 10, 12, 13));
    expect(await store.around('c1', 10, { before: 1, after: 2, includeDeleted: true })).toStrictEqual([
      ...at(9, 10),
      { ...deleted, deletedAt: expect.any(String) },
      ...at(12),
    ]);

    await expectError(store.around('c1', 'no-such-id'), 'NOT_FOUND');
    const [elsewhere] = await store.recent('c2', 1);
    await expectError(store.around('c1', elsewhere?.id as string), 'NOT_FOUND');
    await expectError(store.around('c1', 10, { before: 1001 }), 'INVALID_ARGUMENT');
    await expectError(store.around('c1', -1), 'INVALID_ARGUMENT', 'seqOrId');
  });

  test('around seq 0 (before the first message) is the start of the conversation', async () => {
    const store = await freshStore(entry, atT0);
    const all = await fill(store, 'c1', 5);
    expect(await store.around('c1', 0, { before: 2, after: 2 })).toStrictEqual(all.slice(0, 3));
    expect(await store.around('c1', 0, { before: 0, after: 0 })).toStrictEqual(all.slice(0, 1));
  });

  describe('context', () => {
    const messages: NewMessage[] = [
      { role: 'user', content: 'x' },
      { role: 'user', content: 'a'.repeat(10) },
      { role: 'assistant', content: 'b'.repeat(20) },
      { role: 'user', content: '', media: [{ url: 'https://cdn.example/p.jpg', type: 'image' }] },
      { role: 'user', content: 'c'.repeat(5) },
      { id: 'to-delete', role: 'assistant', content: 'd'.repeat(3) },
      { role: 'system', content: 'e'.repeat(7) },
    ];
    const ctx = (...picked: (keyof typeof byLetter)[]): ContextMessage[] => picked.map((letter) => byLetter[letter]);
    const byLetter = {
      x: { role: 'user', content: 'x' },
      a: { role: 'user', content: 'a'.repeat(10) },
      b: { role: 'assistant', content: 'b'.repeat(20) },
      c: { role: 'user', content: 'c'.repeat(5) },
      e: { role: 'system', content: 'e'.repeat(7) },
    } as const satisfies Record<string, ContextMessage>;
    const length = (m: ContextMessage) => m.content.length;

    async function filled(countTokens?: (m: ContextMessage) => number): Promise<ChatStoreApi> {
      const store = await freshStore(entry, { ...atT0, ...(countTokens === undefined ? {} : { countTokens }) });
      await store.append('c1', messages);
      await store.delete('to-delete');
      return store;
    }

    test('the newest messages that fit the budget, oldest first, contiguous', async () => {
      const store = await filled();
      expect(await store.context('c1', { maxTokens: 12, countTokens: length })).toStrictEqual(ctx('c', 'e'));
      // 'x' alone would still fit 33, but the window stops at the first message that does not.
      expect(await store.context('c1', { maxTokens: 33, countTokens: length })).toStrictEqual(ctx('b', 'c', 'e'));
      expect(await store.context('c1', { maxTokens: 42, countTokens: length })).toStrictEqual(ctx('a', 'b', 'c', 'e'));
      expect(await store.context('c1', { maxTokens: 43, countTokens: length })).toStrictEqual(
        ctx('x', 'a', 'b', 'c', 'e'),
      );
      expect(await store.context('c1', { maxTokens: 6, countTokens: length })).toStrictEqual([]);
      expect(await store.context('c1', { maxTokens: 0 })).toStrictEqual([]);
      expect(await store.context('c1')).toStrictEqual(ctx('x', 'a', 'b', 'c', 'e'));
      expect(await store.context('nobody')).toStrictEqual([]);
    });

    test('maxMessages, the default counter and the store-wide counter are honored', async () => {
      const store = await filled();
      expect(await store.context('c1', { maxMessages: 2 })).toStrictEqual(ctx('c', 'e'));
      expect(await store.context('c1', { maxMessages: 3, countTokens: length, maxTokens: 1000 })).toStrictEqual(
        ctx('b', 'c', 'e'),
      );
      // Default: ceil(chars / 4) + 4 per message → e 6, c 6, b 9, a 7, x 5.
      expect(await store.context('c1', { maxTokens: 20 })).toStrictEqual(ctx('c', 'e'));
      expect(await store.context('c1', { maxTokens: 21 })).toStrictEqual(ctx('b', 'c', 'e'));
      const flat = await filled(described(() => 1, { constant: 1 }));
      expect(await flat.context('c1', { maxTokens: 3 })).toStrictEqual(ctx('b', 'c', 'e'));
      expect(await flat.context('c1', { maxTokens: 3, countTokens: () => 2 })).toStrictEqual(ctx('e'));
      await expectError(store.context('c1', { maxMessages: 0 }), 'INVALID_ARGUMENT', 'maxMessages');
      await expectError(store.context('c1', { maxTokens: -1 }), 'INVALID_ARGUMENT', 'maxTokens');
    });

    test('long histories are read back page by page without deleted or empty messages', async () => {
      const store = await freshStore(entry, atT0);
      const all = await fill(store, 'c1', 250);
      for (let i = 0; i < 250; i += 10) await store.delete(all[i]?.id as string);
      const visible = all.filter((_, i) => i % 10 !== 0).map((m) => ({ role: m.role, content: m.content }));
      expect(await store.context('c1')).toStrictEqual(visible.slice(-50));
      expect(await store.context('c1', { maxMessages: 200 })).toStrictEqual(visible.slice(-200));
      expect(await store.context('c1', { maxMessages: 1000 })).toStrictEqual(visible);
    });
  });
});
