/**
 * What the Cloudflare engine adds to the conformance suite (which runs whole through the client
 * against the Worker): the platform's limits on a 1,000-message append, message ids unique across
 * conversation objects under races, the directory's outbox when the directory refuses changes, and
 * API keys in a Worker. Everything goes through the Worker in workerd (Miniflare) over HTTP.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../src/api.js';
import { chatStoreClient } from '../src/client/index.js';
import { ChatStoreError } from '../src/errors.js';
import type { Message, NewMessage } from '../src/model.js';
import { atT0, expectError } from './conformance/harness.js';
import { type RunningWorker, startWorker, WORKER_API_KEY, type WorkerSetup } from './fixtures/cloudflare/miniflare.js';

let running: RunningWorker[] = [];
afterEach(async () => {
  await Promise.all(running.map((worker) => worker.dispose()));
  running = [];
});

async function worker(setup?: WorkerSetup): Promise<{ url: string; client: ChatStoreApi }> {
  const started = await startWorker(atT0, setup);
  running.push(started);
  // No retries: each test says what one call does.
  return { url: started.url, client: chatStoreClient({ url: started.url, apiKey: WORKER_API_KEY, retries: 0 }) };
}

const inputs = (count: number, prefix: string): NewMessage[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i + 1}`, role: 'user', content: `${prefix} ${i + 1}` }));

describe('the Cloudflare engine through the Worker', () => {
  test('a 1,000-message append is one atomic write: all stored with seqs 1..1,000, or nothing', async () => {
    const { client } = await worker();
    const results = await client.append('big', inputs(1000, 'b'));
    expect(results.map((r) => r.message.seq)).toStrictEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect((await client.getConversation('big'))?.messageCount).toBe(1000);
    expect((await client.stats()).total).toBe(1000);
    expect((await client.search('b', { conversationId: 'big' })).hits).toHaveLength(20);

    // The last of 1,000 uses an id another conversation owns: nothing of the batch is stored, and
    // its 999 other ids are free again.
    await client.append('other', { id: 'taken', role: 'user', content: 'mine' });
    const batch = [...inputs(999, 'c'), { id: 'taken', role: 'user', content: 'clash' } as NewMessage];
    await expectError(client.append('second', batch), 'CONFLICT');
    expect(await client.getConversation('second')).toBeUndefined();
    expect(await client.get('c-1')).toBeUndefined();
    expect((await client.append('third', inputs(999, 'c'))).every((r) => !r.duplicate)).toBe(true);
    expect((await client.stats()).total).toBe(1000 + 1 + 999);
  });

  test('a write bigger than a storage row (2 MB) reaches the directory in parts', async () => {
    const { client } = await worker();
    // 40 messages of 60 KB: 2.4 MB of change in one append.
    const big = 'x'.repeat(60_000);
    await client.append(
      'wide',
      Array.from({ length: 40 }, (_, i) => ({ id: `w${i}`, role: 'user' as const, content: `${big} w${i}` })),
    );
    expect((await client.stats('wide')).total).toBe(40);
    // A soft delete of 6,000 messages changes every one of them.
    for (let start = 0; start < 6000; start += 1000) {
      await client.append(
        'long',
        Array.from({ length: 1000 }, (_, i) => ({
          role: 'user' as const,
          content: `long ${start + i} ${'y'.repeat(300)}`,
        })),
      );
    }
    expect(await client.deleteConversation('long')).toBe(true);
    expect(await client.stats()).toMatchObject({ total: 40, deleted: 6000, conversations: 1 });
    expect((await client.listConversations()).conversations.map((c) => c.id)).toStrictEqual(['wide']);
  });

  test('two conversations racing for one message id: exactly one stores it, the other gets CONFLICT', async () => {
    const { client } = await worker();
    for (let round = 0; round < 10; round++) {
      const id = `contested-${round}`;
      const outcomes = await Promise.allSettled(
        ['left', 'right'].map((conversationId) => client.append(conversationId, { id, role: 'user', content: 'x' })),
      );
      const stored = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(stored).toHaveLength(1);
      expect(refused.map((o) => (o.reason as ChatStoreError).code)).toStrictEqual(['CONFLICT']);
      const message = (await client.get(id)) as Message;
      expect(['left', 'right']).toContain(message.conversationId);
    }
    const [left, right] = await Promise.all([client.getConversation('left'), client.getConversation('right')]);
    expect((left?.messageCount ?? 0) + (right?.messageCount ?? 0)).toBe(10);
  });

  test('when the directory refuses changes, writes stay stored in their conversation and reach the directory later', async () => {
    const { url, client } = await worker({ directoryClass: 'FlakyDirectoryObject' });
    const switchApply = (to: 'refuse' | 'accept') =>
      fetch(`${url}/__test/directory/apply/${to}`, { method: 'POST' }).then((response) => response.body?.cancel());
    await client.append('c1', { id: 'm1', role: 'user', content: 'first' });

    await switchApply('refuse');
    await expectError(client.append('c1', { id: 'm2', role: 'user', content: 'second' }), 'UNAVAILABLE');
    // The conversation (the system of record) has it, and a get by id reads it there; the
    // directory's copy (stats, search, listings) does not have it yet.
    expect((await client.recent('c1')).map((m) => m.id)).toStrictEqual(['m1', 'm2']);
    expect((await client.get('m2'))?.seq).toBe(2);
    expect((await client.stats()).total).toBe(1);
    expect((await client.search('second')).hits).toStrictEqual([]);

    // A retry with the same id is a duplicate, and it sends the change once the directory takes it.
    await switchApply('accept');
    const [retried] = await client.append('c1', { id: 'm2', role: 'user', content: 'second' });
    expect(retried?.duplicate).toBe(true);
    expect((await client.stats()).total).toBe(2);

    // Without a retry, the conversation's alarm sends it.
    await switchApply('refuse');
    await expectError(client.append('c1', { id: 'm3', role: 'user', content: 'third' }), 'UNAVAILABLE');
    await switchApply('accept');
    const deadline = Date.now() + 15_000;
    while ((await client.stats()).total < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await client.get('m3'))?.seq).toBe(3);
    expect((await client.stats()).total).toBe(3);
    expect((await client.search('third')).hits.map((hit) => hit.message.id)).toStrictEqual(['m3']);
    expect((await client.listConversations()).conversations.map((c) => [c.id, c.lastSeq])).toStrictEqual([['c1', 3]]);
  });

  test('a claim left behind (its release refused) reserves the id until its conversation is hard-deleted', async () => {
    const { url, client } = await worker({ directoryClass: 'FlakyDirectoryObject' });
    const switchCall = (call: string, to: 'refuse' | 'accept') =>
      fetch(`${url}/__test/directory/${call}/${to}`, { method: 'POST' }).then((response) => response.body?.cancel());
    await client.append('+15550001', { id: 'first', role: 'user', content: 'hi', externalId: 'wamid.1' });
    // A duplicate by external id under a new id: the new id was claimed, and its release fails.
    await switchCall('release', 'refuse');
    const [duplicate] = await client.append('+15550001', {
      id: 'orphan',
      role: 'user',
      content: 'hi',
      externalId: 'wamid.1',
    });
    expect(duplicate).toMatchObject({ duplicate: true, message: { id: 'first' } });
    await switchCall('release', 'accept');
    expect(await client.get('orphan')).toBeUndefined();
    await expectError(client.append('+15550002', { id: 'orphan', role: 'user', content: 'x' }), 'CONFLICT');

    // The erasure of the person whose conversation it is takes the claim with it.
    expect(await client.eraseSubject('+15550001')).toMatchObject({ conversationsDeleted: ['+15550001'] });
    const [stored] = await client.append('+15550002', { id: 'orphan', role: 'user', content: 'x' });
    expect(stored).toMatchObject({ duplicate: false, message: { conversationId: '+15550002', seq: 1 } });
    expect(await client.get('first')).toBeUndefined();
  });

  test('the Worker asks for an API key: none is 401, a wrong one 401, in the error envelope', async () => {
    const { url } = await worker();
    const headerSets: Record<string, string>[] = [{}, { Authorization: 'Bearer wrong-key-0123456789abcdef' }];
    for (const headers of headerSets) {
      const response = await fetch(`${url}/v1/conversations/c1/messages`, { headers });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
    const keyless = chatStoreClient({ url, retries: 0 });
    await expect(keyless.recent('c1')).rejects.toBeInstanceOf(ChatStoreError);
  });
});
