/** Retention (docs/retention.md): every message created before a cutoff is hard-deleted, wherever it is read. */
import { describe, expect, test } from 'vitest';
import { backends } from './backends.js';
import { atT0, expectError, expectSearch, freshStore, listAll } from './harness.js';

describe.each(backends)('retention on $name', (entry) => {
  // PostgreSQL's monthly layouts drop the months wholly before the cutoff as partitions.
  const partitioned = entry.name === 'postgres-partitioned' || entry.name === 'postgres-partman';

  test('deletes every message created before the cutoff, in reads, counts and search; conversations stay', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('a', [
      { role: 'user', content: 'january refund', createdAt: '2025-01-10T00:00:00Z' },
      { role: 'user', content: 'february refund', createdAt: '2025-02-10T00:00:00Z' },
      { role: 'user', content: 'early march', createdAt: '2025-03-05T00:00:00Z' },
      { role: 'user', content: 'late march refund', createdAt: '2025-03-20T00:00:00Z' },
    ]);
    const [old] = await store.append('b', { role: 'user', content: 'old only', createdAt: '2025-01-11T00:00:00Z' });
    await store.append('c', { role: 'user', content: 'recent refund' });
    const before = '2025-03-15T00:00:00Z';

    const dry = await store.applyRetention({ before, dryRun: true });
    expect(dry).toMatchObject({ before: '2025-03-15T00:00:00.000Z', dryRun: true, messagesDeleted: 4 });
    expect(dry.partitionsDropped).toHaveLength(partitioned ? 2 : 0);
    expect((await store.stats()).total).toBe(6);

    const report = await store.applyRetention({ before });
    expect(report).toMatchObject({ dryRun: false, messagesDeleted: 4, archiveFilesRewritten: 0 });
    expect(report.partitionsDropped).toEqual(dry.partitionsDropped);
    expect((await listAll(store, 'a', { includeDeleted: true })).map((m) => m.content)).toEqual(['late march refund']);
    expect(await store.recent('b')).toEqual([]);
    expect(await store.get(old?.message.id as string)).toBeUndefined();
    expect(await store.getConversation('b')).toMatchObject({ lastSeq: 1, messageCount: 0 });
    expect(await store.getConversation('a')).toMatchObject({ lastSeq: 4, messageCount: 1 });
    expect(await store.stats()).toMatchObject({ total: 2, conversations: 3 });
    await expectSearch(
      entry,
      () => store.search('refund'),
      (page) =>
        expect(page.hits.map((hit) => hit.message.content).sort()).toEqual(['late march refund', 'recent refund']),
    );
    expect((await store.applyRetention({ before })).messagesDeleted).toBe(0);
    // Days count back from the store's clock (T0 is 2026-01-02): 280 days reach back to 2025-03-28.
    expect((await store.applyRetention({ olderThanDays: 280, dryRun: true })).messagesDeleted).toBe(1);
  });

  test('a cutoff is required, once, and well formed', async () => {
    const store = await freshStore(entry, atT0);
    await expectError(store.applyRetention({}), 'INVALID_ARGUMENT', 'olderThanDays');
    await expectError(store.applyRetention({ olderThanDays: -1 }), 'INVALID_ARGUMENT', 'olderThanDays');
    await expectError(store.applyRetention({ before: 'last year' }), 'INVALID_ARGUMENT', 'before');
    await expectError(
      store.applyRetention({ before: '2025-01-01T00:00:00Z', olderThanDays: 1 }),
      'INVALID_ARGUMENT',
      'before',
    );
    await expectError(
      store.applyRetention({ olderThanDays: 1, dryRun: 'yes' as unknown as boolean }),
      'INVALID_ARGUMENT',
      'dryRun',
    );
  });
});
