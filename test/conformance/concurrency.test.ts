/** Concurrent writers: nothing lost, nothing stored twice, each writer's order kept (invariants 1–3 in docs/ARCHITECTURE.md). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { ChatStoreError } from '../../src/errors.js';
import type { AppendResult, Message } from '../../src/model.js';
import { backends, sharedBackends } from './backends.js';
import { atT0, expectError, expectSearch, freshStore, listAll, range, seqs, T0 } from './harness.js';

const run = promisify(execFile);

/** Checks that every result is the one stored message: exactly one insert, the rest duplicates of it. */
function expectOneStored(results: AppendResult[]): Message {
  const inserted = results.filter((r) => !r.duplicate);
  expect(inserted).toHaveLength(1);
  const original = inserted[0]?.message as Message;
  expect(results).toStrictEqual(results.map((r) => ({ message: original, duplicate: r.duplicate })));
  return original;
}

describe.each(backends)('concurrent appends on $name', (entry) => {
  test('8 writers x 500 appends into one conversation: 4,000 messages, seq 1..4,000, each writer in order', async () => {
    const store = await freshStore(entry);
    const writers = 8;
    const perWriter = 500;
    const acknowledged = await Promise.all(
      range(0, writers - 1).map(async (writer) => {
        const mine: Message[] = [];
        for (let i = 0; i < perWriter; i++) {
          const [result] = await store.append('busy', {
            role: 'user',
            content: `w${writer} ${i}`,
            senderId: `w${writer}`,
          });
          mine.push(result?.message as Message);
        }
        return mine;
      }),
    );

    const stored = await listAll(store, 'busy', { limit: 1000 });
    expect(seqs(stored)).toEqual(range(1, writers * perWriter));
    expect(new Set(stored.map((m) => m.id)).size).toBe(writers * perWriter);
    // Every acknowledged append is stored exactly as acknowledged.
    const bySeq = new Map(stored.map((m) => [m.seq, m]));
    for (const message of acknowledged.flat()) expect(bySeq.get(message.seq)).toStrictEqual(message);
    for (let writer = 0; writer < writers; writer++) {
      const mine = stored.filter((m) => m.senderId === `w${writer}`);
      expect(mine.map((m) => m.content)).toEqual(range(0, perWriter - 1).map((i) => `w${writer} ${i}`));
      expect(seqs(mine)).toEqual(seqs(acknowledged[writer] ?? []));
    }
    expect(await store.getConversation('busy')).toMatchObject({ lastSeq: 4000, messageCount: 4000 });
    expect((await store.stats('busy')).total).toBe(4000);
  });

  test('the same externalId appended 20 times at once is stored once', async () => {
    const store = await freshStore(entry, atT0);
    const results = (
      await Promise.all(
        range(1, 20).map((i) =>
          store.append('c1', { role: 'user', content: `attempt ${i}`, externalId: 'wamid.SAME' }),
        ),
      )
    ).flat();
    const original = expectOneStored(results);
    expect(results.filter((r) => r.duplicate)).toHaveLength(19);
    expect(await listAll(store, 'c1')).toStrictEqual([original]);
    expect(await store.getByExternalId('wamid.SAME', 'c1')).toStrictEqual(original);
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 1, messageCount: 1 });
  });

  test('the same caller id appended 20 times at once is stored once', async () => {
    const store = await freshStore(entry, atT0);
    const results = (
      await Promise.all(
        range(1, 20).map((i) => store.append('c1', { id: 'msg-same', role: 'user', content: `try ${i}` })),
      )
    ).flat();
    const original = expectOneStored(results);
    expect(original.id).toBe('msg-same');
    expect(await listAll(store, 'c1')).toStrictEqual([original]);
  });

  test('the same id racing into two conversations lands in exactly one', async () => {
    const store = await freshStore(entry, atT0);
    const outcomes = await Promise.allSettled(
      range(1, 10).map((i) => store.append(`conv-${i % 2}`, { id: 'contested', role: 'user', content: `${i}` })),
    );
    const stored = (await store.get('contested')) as Message;
    expect(stored).toBeDefined();
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') {
        expect(outcome.value).toHaveLength(1);
        expect(outcome.value[0]?.message).toStrictEqual(stored);
      } else {
        expect(outcome.reason).toBeInstanceOf(ChatStoreError);
        expect((outcome.reason as ChatStoreError).code).toBe('CONFLICT');
      }
    }
    const other = stored.conversationId === 'conv-0' ? 'conv-1' : 'conv-0';
    expect(await listAll(store, stored.conversationId)).toStrictEqual([stored]);
    expect(await listAll(store, other)).toEqual([]);
  });

  test('overlapping batches racing each other store every message once, densely', async () => {
    const store = await freshStore(entry, atT0);
    const shared = range(0, 9).map((i) => ({ role: 'user' as const, content: `shared ${i}`, externalId: `s${i}` }));
    const results = await Promise.all(
      range(0, 9).map((b) =>
        store.append('c1', [
          ...shared.slice(b),
          { role: 'assistant' as const, content: `own ${b}` },
          ...shared.slice(0, b),
        ]),
      ),
    );
    const stored = await listAll(store, 'c1');
    expect(seqs(stored)).toEqual(range(1, 20));
    expect(stored.map((m) => m.content).sort()).toEqual(
      [...range(0, 9).map((i) => `shared ${i}`), ...range(0, 9).map((i) => `own ${i}`)].sort(),
    );
    for (const externalId of shared.map((m) => m.externalId)) {
      const all = results.flat().filter((r) => r.message.externalId === externalId);
      expect(all).toHaveLength(10);
      expectOneStored(all);
    }
    // Each batch's new messages got consecutive seqs.
    for (const batch of results) {
      const inserted = seqs(batch.filter((r) => !r.duplicate).map((r) => r.message));
      expect(inserted).toEqual(range(inserted[0] ?? 0, (inserted[0] ?? 0) + inserted.length - 1));
    }
  });

  test('racing appends with the same expectedLastSeq: exactly one wins, the rest are CONFLICT', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('c1', { role: 'user', content: 'start' });
    const outcomes = await Promise.allSettled(
      range(1, 10).map((i) => store.append('c1', { role: 'user', content: `racer ${i}` }, { expectedLastSeq: 1 })),
    );
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect((outcome.reason as ChatStoreError).code).toBe('CONFLICT');
    }
    const stored = await listAll(store, 'c1');
    expect(seqs(stored)).toEqual([1, 2]);
    expect(stored[1]).toStrictEqual(winners[0]?.status === 'fulfilled' ? winners[0].value[0]?.message : undefined);
    await expectError(store.append('c1', { role: 'user', content: 'late' }, { expectedLastSeq: 1 }), 'CONFLICT');
  });

  test('failing calls racing successful ones store nothing, and the others everything', async () => {
    const store = await freshStore(entry, atT0);
    await store.append('other', { id: 'taken', role: 'user', content: 'elsewhere' });
    await store.append('c1', { role: 'user', content: 'start' });
    const outcomes = await Promise.allSettled([
      store.append('c1', [
        { role: 'user', content: 'A1' },
        { role: 'user', content: 'A2' },
        { role: 'user', content: 'A3' },
      ]),
      store.append('c1', [
        { role: 'user', content: 'B1' },
        { role: 'user', content: 'B2' },
        { id: 'taken', role: 'user', content: 'B3' },
      ]),
      store.append('c1', { role: 'user', content: 'C1' }),
      store.append(
        'c1',
        [
          { role: 'user', content: 'D1' },
          { role: 'user', content: 'D2' },
        ],
        { expectedLastSeq: 0 },
      ),
      store.append('c1', [
        { role: 'user', content: 'E1' },
        { role: 'user', content: 'E2\u0000' },
      ]),
      store.append('c1', { role: 'user', content: 'F1' }),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as ChatStoreError).code))).toEqual([
      'ok',
      'CONFLICT',
      'ok',
      'CONFLICT',
      'INVALID_ARGUMENT',
      'ok',
    ]);
    const stored = await listAll(store, 'c1');
    expect(seqs(stored)).toEqual(range(1, 6));
    expect(stored.map((m) => m.content).sort()).toEqual(['A1', 'A2', 'A3', 'C1', 'F1', 'start']);
    const a = stored.filter((m) => m.content.startsWith('A'));
    expect(seqs(a)).toEqual(range(seqs(a)[0] ?? 0, (seqs(a)[0] ?? 0) + 2));
    expect(await store.getConversation('c1')).toMatchObject({ lastSeq: 6, messageCount: 6 });
    expect(await store.get('taken')).toMatchObject({ conversationId: 'other' });
  });

  test('status updates, edits and deletes racing appends all take effect', async () => {
    const store = await freshStore(entry, atT0);
    const first = (
      await store.append(
        'c1',
        range(1, 10).map((i) => ({ id: `m${i}`, role: 'assistant' as const, content: `text ${i}` })),
      )
    ).map((r) => r.message);
    await Promise.all([
      ...range(11, 20).map((i) => store.append('c1', { id: `m${i}`, role: 'user', content: `text ${i}` })),
      ...range(1, 3).map((i) => store.updateStatus(`m${i}`, 'delivered', { at: T0 })),
      ...range(4, 5).map((i) => store.edit(`m${i}`, { content: `edited ${i}` })),
      store.delete('m6'),
      store.delete('m7', { hard: true }),
      store.updateConversation('c1', { metadata: { touched: true } }),
    ]);
    const stored = await listAll(store, 'c1', { includeDeleted: true });
    expect(seqs(stored)).toEqual([...range(1, 6), ...range(8, 20)]);
    expect(stored.slice(0, 3)).toStrictEqual(
      first.slice(0, 3).map((m) => ({ ...m, status: 'delivered', statusAt: { delivered: T0 } })),
    );
    expect(stored.slice(3, 5)).toStrictEqual(
      first.slice(3, 5).map((m, i) => ({ ...m, content: `edited ${i + 4}`, editedAt: T0 })),
    );
    expect(stored[5]).toStrictEqual({ ...first[5], deletedAt: T0 });
    expect(await store.getConversation('c1')).toMatchObject({
      lastSeq: 20,
      messageCount: 19,
      metadata: { touched: true },
    });
  });

  test('concurrent appends to many conversations keep each one dense and separate', async () => {
    const store = await freshStore(entry, atT0);
    await Promise.all(
      range(1, 10).flatMap((c) =>
        range(1, 3).map(async (writer) => {
          for (let i = 0; i < 20; i++) await store.append(`conv-${c}`, { role: 'user', content: `${writer}:${i}` });
        }),
      ),
    );
    for (const c of range(1, 10)) {
      const stored = await listAll(store, `conv-${c}`);
      expect(seqs(stored)).toEqual(range(1, 60));
      expect(stored.every((m) => m.conversationId === `conv-${c}`)).toBe(true);
    }
    expect((await store.stats()).total).toBe(600);
  });
});

const writerScript = fileURLToPath(new URL('./process-writer.ts', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

describe.each(sharedBackends)('concurrent processes on $name', (entry) => {
  test('4 OS processes appending to one conversation: nothing lost, nothing twice, racing duplicates stored once', async () => {
    const storage = await entry.processes.create();
    try {
      const processes = 4;
      const perWriter = 75;
      const sharedCount = 15;
      const outputs = await Promise.all(
        range(0, processes - 1).map(async (writer) => {
          const { stdout } = await run(
            process.execPath,
            [
              '--import',
              'tsx',
              writerScript,
              entry.name,
              storage.location,
              'shared-conv',
              String(writer),
              String(perWriter),
              String(sharedCount),
            ],
            { cwd: projectRoot, timeout: 50_000 },
          );
          return JSON.parse(stdout) as {
            own: number[];
            shared: { externalId: string; id: string; duplicate: boolean }[];
          };
        }),
      );

      const store = await entry.processes.connect(storage.location);
      try {
        const total = processes * perWriter + sharedCount;
        const stored = await listAll(store, 'shared-conv', { limit: 1000 });
        expect(seqs(stored)).toEqual(range(1, total));
        for (let writer = 0; writer < processes; writer++) {
          const mine = stored.filter((m) => m.externalId?.startsWith(`w${writer}-`));
          expect(mine.map((m) => m.externalId)).toEqual(range(0, perWriter - 1).map((i) => `w${writer}-${i}`));
          expect(seqs(mine)).toEqual(outputs[writer]?.own);
        }
        for (let i = 0; i < sharedCount; i++) {
          const reports = outputs.flatMap((o) => o.shared).filter((s) => s.externalId === `shared-${i}`);
          expect(reports).toHaveLength(processes);
          expect(reports.filter((r) => !r.duplicate)).toHaveLength(1);
          const storedShared = stored.filter((m) => m.externalId === `shared-${i}`);
          expect(storedShared).toHaveLength(1);
          expect(new Set(reports.map((r) => r.id))).toEqual(new Set([storedShared[0]?.id]));
        }
        expect(await store.getConversation('shared-conv')).toMatchObject({ lastSeq: total, messageCount: total });
      } finally {
        await store.close();
      }
    } finally {
      await storage.cleanup();
    }
  });
});

describe.each(sharedBackends)('shared storage on $name', (entry) => {
  test('several clients on the same storage append concurrently without loss or duplicates', async () => {
    const storage = await entry.processes.create();
    const clients = await Promise.all(range(1, 3).map(() => entry.processes.connect(storage.location)));
    try {
      await Promise.all(
        clients.flatMap((client, c) =>
          range(0, 1).map(async (writer) => {
            for (let i = 0; i < 100; i++) {
              await client.append('c1', { role: 'user', content: `${c}.${writer}.${i}`, senderId: `${c}.${writer}` });
              await client.append('c1', { role: 'user', content: `dup ${i}`, externalId: `dup-${i}` });
            }
          }),
        ),
      );
      for (const client of clients) {
        const stored = await listAll(client, 'c1', { limit: 1000 });
        expect(seqs(stored)).toEqual(range(1, 700));
        for (const c of range(0, 2)) {
          for (const writer of range(0, 1)) {
            expect(stored.filter((m) => m.senderId === `${c}.${writer}`).map((m) => m.content)).toEqual(
              range(0, 99).map((i) => `${c}.${writer}.${i}`),
            );
          }
        }
        expect(stored.filter((m) => m.externalId?.startsWith('dup-'))).toHaveLength(100);
      }
    } finally {
      for (const client of clients) await client.close();
      await storage.cleanup();
    }
  });

  test('everything acknowledged is there after closing and opening again', async () => {
    const storage = await entry.processes.create();
    try {
      const first = await entry.processes.connect(storage.location, atT0);
      await first.createConversation('c1', { type: 'group', title: 'Kept', metadata: { plan: 'pro' } });
      const appended = (
        await first.append('c1', [
          { role: 'user', content: 'persistent words', externalId: 'e1', senderId: 'u1', metadata: { n: 0.1 } },
          { role: 'assistant', content: 'reply', status: 'sent', media: [{ url: 'https://x/y.png', type: 'image' }] },
          { role: 'user', content: 'to be deleted' },
        ])
      ).map((r) => r.message);
      await first.updateStatus(appended[1]?.id as string, 'read', { at: T0 });
      await first.delete(appended[2]?.id as string);
      await first.updateConversation('c1', { metadata: { language: 'es' } });
      const conversation = await first.getConversation('c1');
      const messages = await listAll(first, 'c1', { includeDeleted: true });
      await first.close();

      const second = await entry.processes.connect(storage.location, atT0);
      try {
        expect(await second.getConversation('c1')).toStrictEqual(conversation);
        expect(await listAll(second, 'c1', { includeDeleted: true })).toStrictEqual(messages);
        expect(messages[1]).toMatchObject({ status: 'read' });
        await expectSearch(
          entry,
          () => second.search('persistent'),
          (page) => expect(ids(page.hits.map((h) => h.message))).toEqual([appended[0]?.id]),
        );
        expect(await second.append('c1', { role: 'user', content: 'again', externalId: 'e1' })).toStrictEqual([
          { message: messages[0], duplicate: true },
        ]);
        const [next] = await second.append('c1', { role: 'user', content: 'next' });
        expect(next?.message.seq).toBe(4);
      } finally {
        await second.close();
      }
    } finally {
      await storage.cleanup();
    }
  });
});

const ids = (messages: Message[]): string[] => messages.map((m) => m.id);
