/** append: shapes, seqs, idempotency, atomic batches and optimistic concurrency (docs/api.md; invariants 1–3 and 6 in docs/ARCHITECTURE.md). */
import { describe, expect, test } from 'vitest';
import type { Message } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, expectError, freshStore, listAll, range, seqs, T0 } from './harness.js';

describe.each(backends)('append on $name', (entry) => {
  test('a message with only role and content comes back with exactly the required keys', async () => {
    const store = await freshStore(entry, atT0);
    const results = await store.append('c1', { role: 'user', content: 'hi' });
    const expected: Message = {
      id: expect.any(String),
      conversationId: 'c1',
      seq: 1,
      role: 'user',
      direction: 'incoming',
      content: 'hi',
      createdAt: T0,
    };
    expect(results).toStrictEqual([{ message: expected, duplicate: false }]);
    const id = results[0]?.message.id as string;
    expect(Object.keys(results[0]?.message ?? {}).sort()).toEqual(
      ['id', 'conversationId', 'seq', 'role', 'direction', 'content', 'createdAt'].sort(),
    );
    expect(await store.get(id)).toStrictEqual({ ...expected, id });
    expect(await store.recent('c1', 10)).toStrictEqual([{ ...expected, id }]);
    expect(await store.list('c1')).toStrictEqual({ messages: [{ ...expected, id }] });
    expect(await store.around('c1', 1, { before: 1, after: 1 })).toStrictEqual([{ ...expected, id }]);
  });

  test('role and direction derive each other and content defaults to empty', async () => {
    const store = await freshStore(entry, atT0);
    const results = await store.append('c1', [
      { direction: 'incoming', content: 'a' },
      { direction: 'outgoing', content: 'b' },
      { role: 'assistant', content: 'c' },
      { role: 'system', content: 'd' },
      { role: 'tool', content: 'e' },
      { role: 'user', direction: 'outgoing', content: 'f' },
      { role: 'user' },
    ]);
    expect(results.map((r) => [r.message.seq, r.message.role, r.message.direction, r.message.content])).toEqual([
      [1, 'user', 'incoming', 'a'],
      [2, 'assistant', 'outgoing', 'b'],
      [3, 'assistant', 'outgoing', 'c'],
      [4, 'system', 'outgoing', 'd'],
      [5, 'tool', 'outgoing', 'e'],
      [6, 'user', 'outgoing', 'f'],
      [7, 'user', 'incoming', ''],
    ]);
    expect(await listAll(store, 'c1')).toStrictEqual(results.map((r) => r.message));
  });

  test('ids come from the newId option when the caller gives none, and are unique by default', async () => {
    let next = 0;
    const store = await freshStore(entry, { ...atT0, newId: () => `gen-${++next}` });
    const results = await store.append('c1', [
      { role: 'user', content: 'a' },
      { id: 'mine', role: 'user' },
    ]);
    expect(results.map((r) => r.message.id)).toEqual(['gen-1', 'mine']);

    const defaults = await freshStore(entry);
    const many = await defaults.append(
      'c1',
      range(1, 50).map((i) => ({ role: 'user' as const, content: `m${i}` })),
    );
    expect(new Set(many.map((r) => r.message.id)).size).toBe(50);
  });

  test('seqs are per conversation and dense across calls', async () => {
    const store = await freshStore(entry, atT0);
    for (let i = 0; i < 3; i++) {
      await store.append('a', { role: 'user', content: `a${i}` });
      await store.append('b', [
        { role: 'user', content: `b${i}x` },
        { role: 'assistant', content: `b${i}y` },
      ]);
    }
    expect(seqs(await listAll(store, 'a'))).toEqual([1, 2, 3]);
    expect(seqs(await listAll(store, 'b'))).toEqual(range(1, 6));
    expect((await listAll(store, 'b')).map((m) => m.content)).toEqual(['b0x', 'b0y', 'b1x', 'b1y', 'b2x', 'b2y']);
  });

  test('re-sending an externalId returns the original unchanged and takes no seq', async () => {
    const store = await freshStore(entry, atT0);
    const [first] = await store.append('c1', { role: 'user', content: 'original', externalId: 'wamid.1' });
    const again = await store.append('c1', { role: 'user', content: 'changed text', externalId: 'wamid.1' });
    expect(again).toStrictEqual([{ message: first?.message, duplicate: true }]);
    const [next] = await store.append('c1', { role: 'user', content: 'next' });
    expect(next?.message.seq).toBe(2);
    expect(await listAll(store, 'c1')).toStrictEqual([first?.message, next?.message]);
    expect((await store.getConversation('c1'))?.messageCount).toBe(2);
  });

  test('re-sending a caller id returns the original, whatever else changed', async () => {
    const store = await freshStore(entry, atT0);
    const [first] = await store.append('c1', { id: 'm-1', role: 'user', content: 'original' });
    const again = await store.append('c1', { id: 'm-1', role: 'assistant', content: 'other', externalId: 'x' });
    expect(again).toStrictEqual([{ message: first?.message, duplicate: true }]);
    expect(await listAll(store, 'c1')).toStrictEqual([first?.message]);
  });

  test('the same externalId in another conversation is a different message', async () => {
    const store = await freshStore(entry, atT0);
    const [a] = await store.append('a', { role: 'user', content: 'in a', externalId: 'ext-1' });
    const [b] = await store.append('b', { role: 'user', content: 'in b', externalId: 'ext-1' });
    expect(b?.duplicate).toBe(false);
    expect(b?.message).toStrictEqual({ ...a?.message, id: expect.any(String), conversationId: 'b', content: 'in b' });
    expect(b?.message.id).not.toBe(a?.message.id);
    expect(await store.getByExternalId('ext-1', 'a')).toStrictEqual(a?.message);
    expect(await store.getByExternalId('ext-1', 'b')).toStrictEqual(b?.message);
    // Without a conversation: the match with the smallest conversation id.
    expect(await store.getByExternalId('ext-1')).toStrictEqual(a?.message);
    expect(await store.getByExternalId('ext-1', 'c')).toBeUndefined();
    expect(await store.getByExternalId('nope')).toBeUndefined();
  });

  test('an id already used in another conversation is CONFLICT and stores nothing', async () => {
    const store = await freshStore(entry, atT0);
    const [a] = await store.append('a', { id: 'shared', role: 'user', content: 'in a' });
    await store.append('b', { role: 'user', content: 'b1' });

    await expectError(store.append('b', { id: 'shared', role: 'user', content: 'in b' }), 'CONFLICT');
    await expectError(
      store.append('b', [
        { role: 'user', content: 'new one' },
        { id: 'shared', role: 'user', content: 'in b' },
      ]),
      'CONFLICT',
    );
    // A conversation the conflicting call would have created is not created either.
    await expectError(store.append('fresh', { id: 'shared', role: 'user', content: 'x' }), 'CONFLICT');

    expect(seqs(await listAll(store, 'b'))).toEqual([1]);
    expect((await store.getConversation('b'))?.lastSeq).toBe(1);
    expect(await store.getConversation('fresh')).toBeUndefined();
    expect(await store.get('shared')).toStrictEqual(a?.message);
  });

  test('a batch gets consecutive seqs and keeps its order', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'first' });
    const results = await store.append(
      'c1',
      range(1, 10).map((i) => ({ role: 'assistant' as const, content: `part ${i}` })),
    );
    expect(results.map((r) => [r.message.seq, r.message.content, r.duplicate])).toEqual(
      range(1, 10).map((i) => [i + 1, `part ${i}`, false]),
    );
    expect(await listAll(store, 'c1', { after: 1 })).toStrictEqual(results.map((r) => r.message));
  });

  test('a batch with duplicates of stored messages and of itself stores only the new ones, consecutively', async () => {
    const store = await freshStore(entry, atT0);
    const [stored] = await store.append('c1', { id: 'm0', role: 'user', content: 'stored', externalId: 'e0' });
    const results = await store.append('c1', [
      { id: 'a', role: 'user', content: 'new a', externalId: 'ea' },
      { role: 'user', content: 'resend of stored by externalId', externalId: 'e0' },
      { id: 'm0', role: 'user', content: 'resend of stored by id' },
      { id: 'b', role: 'assistant', content: 'new b' },
      { id: 'a', role: 'user', content: 'resend of a within the batch' },
      { role: 'user', content: 'resend of a by externalId within the batch', externalId: 'ea' },
      { id: 'c', role: 'user', content: 'new c' },
    ]);
    const a: Message = {
      id: 'a',
      conversationId: 'c1',
      seq: 2,
      externalId: 'ea',
      role: 'user',
      direction: 'incoming',
      content: 'new a',
      createdAt: T0,
    };
    const b: Message = {
      id: 'b',
      conversationId: 'c1',
      seq: 3,
      role: 'assistant',
      direction: 'outgoing',
      content: 'new b',
      createdAt: T0,
    };
    const c: Message = {
      id: 'c',
      conversationId: 'c1',
      seq: 4,
      role: 'user',
      direction: 'incoming',
      content: 'new c',
      createdAt: T0,
    };
    expect(results).toStrictEqual([
      { message: a, duplicate: false },
      { message: stored?.message, duplicate: true },
      { message: stored?.message, duplicate: true },
      { message: b, duplicate: false },
      { message: a, duplicate: true },
      { message: a, duplicate: true },
      { message: c, duplicate: false },
    ]);
    expect(await listAll(store, 'c1')).toStrictEqual([stored?.message, a, b, c]);
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 4, messageCount: 4 });
  });

  test('a batch with one invalid message stores nothing', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'before' });
    const before = await store.getConversation('c1');
    await expectError(
      store.append('c1', [
        { role: 'user', content: 'ok 1' },
        { role: 'user', content: 'ok 2' },
        { role: 'user', content: 'bad \u0000' },
      ]),
      'INVALID_ARGUMENT',
      'messages[2].content',
    );
    await expectError(
      store.append('new', [{ role: 'user', content: 'ok' }, { content: 'no role' }]),
      'INVALID_ARGUMENT',
      'messages[1]',
    );
    expect(await store.getConversation('c1')).toStrictEqual(before);
    expect(seqs(await listAll(store, 'c1'))).toEqual([1]);
    expect(await store.getConversation('new')).toBeUndefined();
  });

  test('expectedLastSeq: the right value appends, a stale one is CONFLICT and stores nothing', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'one' }, { expectedLastSeq: 0 });
    const [two] = await store.append('c1', { role: 'user', content: 'two', externalId: 'e2' }, { expectedLastSeq: 1 });
    expect(two?.message.seq).toBe(2);

    await expectError(store.append('c1', { role: 'user', content: 'stale' }, { expectedLastSeq: 1 }), 'CONFLICT');
    await expectError(store.append('c1', { role: 'user', content: 'ahead' }, { expectedLastSeq: 5 }), 'CONFLICT');
    await expectError(
      store.append(
        'c1',
        [
          { role: 'user', content: 'x' },
          { role: 'user', content: 'y' },
        ],
        { expectedLastSeq: 0 },
      ),
      'CONFLICT',
    );
    expect((await listAll(store, 'c1')).map((m) => m.content)).toEqual(['one', 'two']);
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 2, messageCount: 2 });

    // A conversation that does not exist is at seq 0.
    await expectError(store.append('new', { role: 'user', content: 'x' }, { expectedLastSeq: 1 }), 'CONFLICT');
    expect(await store.getConversation('new')).toBeUndefined();
    const [first] = await store.append('new', { role: 'user', content: 'x' }, { expectedLastSeq: 0 });
    expect(first?.message.seq).toBe(1);
  });

  test('a retried all-duplicate append with a stale expectedLastSeq returns the duplicates', async () => {
    const store = await freshStore(entry, atT0);
    const first = await store.append(
      'c1',
      [
        { role: 'user', content: 'a', externalId: 'ea' },
        { id: 'mb', role: 'user', content: 'b' },
      ],
      { expectedLastSeq: 0 },
    );
    await store.append('c1', { role: 'assistant', content: 'reply' });
    const retried = await store.append(
      'c1',
      [
        { role: 'user', content: 'a', externalId: 'ea' },
        { id: 'mb', role: 'user', content: 'b' },
      ],
      { expectedLastSeq: 0 },
    );
    expect(retried).toStrictEqual(first.map((r) => ({ message: r.message, duplicate: true })));
    // A retry that also carries a new message is a real append, and the stale seq is a conflict.
    await expectError(
      store.append(
        'c1',
        [
          { role: 'user', content: 'a', externalId: 'ea' },
          { role: 'user', content: 'new' },
        ],
        { expectedLastSeq: 0 },
      ),
      'CONFLICT',
    );
    expect(seqs(await listAll(store, 'c1'))).toEqual([1, 2, 3]);
  });
});
