/**
 * The archive tier (docs/archive.md) beyond the conformance suite, which runs whole on
 * sqlite+archive+l1 with nothing archived: on every engine, reads of archived conversations answer
 * what the database answered and writes put them back first; a conversation written to while it
 * moves stays in the database, whole; processes appending while another archives lose nothing;
 * `kill -9` at every step of a move, a restore and an erasure loses nothing and leaves nothing
 * twice; erasure reaches the files; the options are checked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import type { Backend } from '../src/backend.js';
import { archiveTier } from '../src/backends/archive/index.js';
import { memoryBackend } from '../src/backends/memory/index.js';
import { sqliteBackend } from '../src/backends/sqlite/index.js';
import { withTierEnvironment } from '../src/cli/environment.js';
import { ChatStoreError } from '../src/errors.js';
import type { Message } from '../src/model.js';
import { openBackend } from '../src/open.js';
import { ChatStore, type ChatStoreOptions, type ExportRecord } from '../src/store.js';
import { ALL_BACKENDS } from './conformance/backends.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const FAR_FUTURE = '2100-01-01T00:00:00.000Z';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function temporaryDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatstore-archive-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The shared clock and ids counted from 1, so that two stores given the same calls store the same. */
let clock = Date.UTC(2026, 0, 1);
function deterministic(): Required<Pick<ChatStoreOptions, 'now' | 'newId'>> {
  let id = 0;
  return {
    now: () => new Date(clock),
    newId: () => {
      id += 1;
      return `m${String(id).padStart(6, '0')}`;
    },
  };
}

/** An engine's storage, reachable by URL, with and without the archive in front. */
interface Storage {
  /** The store URL of the bare engine. */
  url: string;
  /** The same URL with the archive in `dir`. */
  archived(dir: string): string;
}

const ENGINES = ['sqlite', 'postgres', 'mysql', 'redis'] as const;

async function storage(engine: (typeof ENGINES)[number]): Promise<Storage> {
  const entry = ALL_BACKENDS.find((candidate) => candidate.name === engine);
  if (entry?.processes === undefined) throw new Error(`no shareable conformance entry ${engine}`);
  const created = await entry.processes.create();
  cleanups.push(() => created.cleanup());
  const url = engine === 'sqlite' ? `sqlite://${created.location}` : created.location;
  return {
    url,
    archived: (dir) => `${url}${url.includes('?') ? '&' : '?'}archiveDir=${encodeURIComponent(dir)}`,
  };
}

async function storeOn(url: string, options: ChatStoreOptions = {}): Promise<ChatStore> {
  const store = new ChatStore(await openBackend(url), options);
  cleanups.push(() => store.close());
  return store;
}

async function records(store: ChatStore): Promise<ExportRecord[]> {
  const all: ExportRecord[] = [];
  for await (const record of store.exportRecords({ includeDeleted: true })) all.push(record);
  return all;
}

/** mulberry32: a seeded random integer below n. */
function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

describe.each(ENGINES)('the archive over %s', (engine) => {
  test('every read answers what a store without archive answers, through moves, restores and writes', async () => {
    const dir = temporaryDirectory();
    const { archived } = await storage(engine);
    const store = await storeOn(archived(dir), deterministic());
    const reference = new ChatStore(memoryBackend(), deterministic());
    const random = seeded(11);
    const ids: string[] = [];
    const both = async <T>(call: (s: ChatStore) => Promise<T>): Promise<T> => {
      const expected = await call(reference).catch((e: ChatStoreError) => e.code as unknown as T);
      expect(await call(store).catch((e: ChatStoreError) => e.code)).toStrictEqual(expected);
      return expected;
    };
    for (let step = 0; step < 400; step++) {
      clock += 1000;
      const conversation = `c${random(4)}`;
      const op = random(16);
      // Every random choice is made before `both`, which makes the call twice.
      if (op < 3) {
        const batch = [
          { role: 'user' as const, content: `m${step}`, senderId: `u${random(3)}`, externalId: `x${step}` },
          ...(random(2) === 0 ? [{ role: 'assistant' as const, content: `r${step}` }] : []),
        ];
        const appended = await both((s) => s.append(conversation, batch));
        ids.push(...appended.map((r) => r.message.id));
      } else if (op === 3 && ids.length > 0) {
        const id = ids[random(ids.length)] as string;
        await both((s) => s.edit(id, { content: `edited ${step}` }));
      } else if (op === 4 && ids.length > 0) {
        const id = ids[random(ids.length)] as string;
        const hard = random(2) === 0;
        await both((s) => s.delete(id, { hard }));
      } else if (op === 5 && ids.length > 0) {
        const id = ids[random(ids.length)] as string;
        await both((s) => s.updateStatus(id, 'delivered'));
      } else if (op === 6) {
        await both((s) => s.updateConversation(conversation, { metadata: { step } }));
        const member = `p${random(3)}`;
        await both((s) => s.addParticipants(conversation, [{ id: member }]));
      } else if (op === 7) {
        // Everything idle until now moves (the reference has no archive: nothing changes for it).
        const report = await store.archive({ before: new Date(clock).toISOString() });
        expect(report.skipped.filter((s) => s.reason !== 'active')).toEqual([]);
      } else if (op === 8) {
        await store.restoreArchived(conversation);
      } else {
        const n = 1 + random(6);
        await both((s) => s.recent(conversation, n));
        const includeDeleted = random(2) === 0;
        await both((s) => s.list(conversation, { limit: n, includeDeleted }));
        await both((s) => s.list(conversation, { order: 'asc', limit: n }));
        await both((s) => s.context(conversation, { maxMessages: n }));
        await both((s) => s.getConversation(conversation));
        await both((s) => s.stats(conversation));
        const id = ids[random(Math.max(ids.length, 1))];
        if (id !== undefined) {
          await both((s) => s.get(id));
          await both((s) => s.around(conversation, id, { before: 2, after: 2 }));
        }
        const external = `x${random(step + 1)}`;
        await both((s) => s.getByExternalId(external));
        await both((s) => s.getByExternalId(external, conversation));
        if (step % 5 === 0) {
          await both((s) => s.stats());
          await both((s) => s.listConversations({ limit: 2 }));
          await both((s) => s.listConversations({ participantId: 'p1', includeDeleted: true }));
          await both(records);
        }
      }
    }
    await store.archive({ before: FAR_FUTURE });
    expect(await records(store)).toStrictEqual(await records(reference));
    const figures = await store.archiveStats();
    expect(figures?.conversations).toBe(4);
    expect(figures?.reads).toBeGreaterThan(5);
    expect(figures?.restores).toBeGreaterThan(5);
  }, 120_000);

  test('a conversation written to while it moves stays in the database, whole', async () => {
    const { url } = await storage(engine);
    const inner = await openBackend(url);
    let writeDuring: (() => Promise<unknown>) | undefined;
    // Another writer, at the worst moments: after the move read the messages, and just before its delete.
    const racing: Backend = {
      ...inner,
      async stats(conversationId) {
        const write = conversationId === undefined ? undefined : writeDuring;
        if (write !== undefined && writerAt === 'read') await write();
        return inner.stats(conversationId);
      },
      async deleteConversation(id, deletion) {
        if (deletion.ifUnchanged !== undefined && writeDuring !== undefined && writerAt === 'delete')
          await writeDuring();
        return inner.deleteConversation(id, deletion);
      },
    };
    let writerAt: 'read' | 'delete' = 'read';
    const dir = temporaryDirectory();
    const store = new ChatStore(await archiveTier(racing, { directory: dir }));
    cleanups.push(() => store.close());
    const other = new ChatStore(inner);
    const [first] = await store.append('c', [
      { role: 'user', content: 'one' },
      { role: 'user', content: 'two' },
    ]);

    // A status report lands after the messages were read: the check before the commit sees it.
    writeDuring = () => other.updateStatus(first?.message.id as string, 'read');
    expect((await store.archive({ before: FAR_FUTURE })).skipped).toEqual([{ conversationId: 'c', reason: 'changed' }]);
    // An append lands just before the delete: the engine's conditional delete refuses.
    writerAt = 'delete';
    writeDuring = () => other.append('c', { role: 'user', content: 'three' });
    expect((await store.archive({ before: FAR_FUTURE })).skipped).toEqual([{ conversationId: 'c', reason: 'changed' }]);
    writeDuring = undefined;

    expect((await inner.range('c', { order: 'asc', limit: 10, includeDeleted: true })).map((m) => m.content)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect((await store.get(first?.message.id as string))?.status).toBe('read');
    expect((await store.listArchived()).conversations).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    // Left alone, it moves.
    expect((await store.archive({ before: FAR_FUTURE })).archived).toEqual(['c']);
    expect(await inner.getConversation('c')).toBeUndefined();
    expect((await store.recent('c')).map((m) => m.content)).toEqual(['one', 'two', 'three']);
  });
});

describe('the archive over sqlite', () => {
  async function sqliteWithArchive(options: { compression?: 'gzip' | 'brotli' | 'none' } = {}) {
    const dir = temporaryDirectory();
    const inner = await sqliteBackend({ path: join(dir, 'chat.db') });
    const store = new ChatStore(
      await archiveTier(inner, { directory: join(dir, 'archive'), ...options }),
      deterministic(),
    );
    cleanups.push(() => store.close());
    return { store, inner, dir: join(dir, 'archive'), database: join(dir, 'chat.db') };
  }

  test.each(['gzip', 'brotli', 'none'] as const)(
    'with %s, a file is the conversation as chatstore export writes it, and its entry the manifest',
    async (compression) => {
      const { store, dir } = await sqliteWithArchive({ compression });
      await store.createConversation('c', { title: 'Support', participants: [{ id: 'ana' }] });
      await store.append('c', [
        { role: 'user', content: 'hello', senderId: 'ana', externalId: 'w1' },
        { role: 'assistant', content: 'hi', recipientId: 'ana' },
      ]);
      const exported = await records(store);
      const report = await store.archive({ before: FAR_FUTURE });
      expect(report).toMatchObject({ archived: ['c'], messages: 2, skipped: [] });
      const [summary] = (await store.listArchived()).conversations;
      expect(summary).toMatchObject({
        conversationId: 'c',
        state: 'archived',
        compression,
        messages: 2,
        firstSeq: 1,
        lastSeq: 2,
      });
      const bytes = readFileSync(join(dir, summary?.file as string));
      expect(summary?.bytes).toBe(bytes.length);
      const { createHash } = await import('node:crypto');
      expect(summary?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const { brotliDecompressSync } = await import('node:zlib');
      const text = (
        compression === 'gzip' ? gunzipSync(bytes) : compression === 'brotli' ? brotliDecompressSync(bytes) : bytes
      ).toString('utf8');
      expect(
        text
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line)),
      ).toStrictEqual(exported);
      expect(await records(store)).toStrictEqual(exported);
    },
  );

  test('search covers the database only: an archived conversation is found again once restored', async () => {
    const { store } = await sqliteWithArchive();
    await store.append('c', { role: 'user', content: 'refund please' });
    await store.archive({ before: FAR_FUTURE });
    expect((await store.search('refund')).hits).toEqual([]);
    expect(await store.restoreArchived('c')).toBe(true);
    expect(await store.restoreArchived('c')).toBe(false);
    expect((await store.search('refund')).hits.map((h) => h.message.content)).toEqual(['refund please']);
  });

  test('erasure rewrites the files that name the subject and removes the conversations named by it', async () => {
    const { store, dir } = await sqliteWithArchive();
    await store.append('+1555', { role: 'user', content: 'my own chat', senderId: '+1555' });
    await store.createConversation('group', { participants: [{ id: '+1555' }, { id: 'bob' }] });
    await store.append('group', [
      { role: 'user', content: 'secret of ana', senderId: '+1555' },
      { role: 'user', content: 'bob speaks', senderId: 'bob' },
      { role: 'assistant', content: 'to ana', recipientId: '+1555' },
    ]);
    await store.append('untouched', { role: 'user', content: 'nothing of hers', senderId: 'carl' });
    await store.archive({ before: FAR_FUTURE });

    const receipt = await store.eraseSubject('+1555');
    expect(receipt).toMatchObject({
      messagesDeleted: 3,
      conversationsDeleted: ['+1555'],
      participantEntriesRemoved: 2,
      archiveFilesRewritten: 1,
    });
    expect(await store.getConversation('+1555')).toBeUndefined();
    expect((await store.getConversation('group'))?.participants.map((p) => p.id)).toEqual(['bob']);
    expect((await store.recent('group')).map((m) => m.content)).toEqual(['bob speaks']);
    expect((await store.stats('group')).total).toBe(1);
    // No byte of hers is left in the directory: old files are gone, the new ones do not name her.
    const filesAfter = readdirSync(dir);
    for (const file of filesAfter) {
      const bytes = readFileSync(join(dir, file));
      const text = file.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
      expect(text).not.toContain('+1555');
      expect(text).not.toContain('secret of ana');
    }
    expect(filesAfter.length).toBe(4);
  });

  test('retention rewrites the archive files that hold expired messages; the conversations stay archived', async () => {
    const { store, inner, dir } = await sqliteWithArchive();
    await store.append('mixed', [
      { role: 'user', content: 'old', createdAt: '2025-01-10T00:00:00Z' },
      { role: 'user', content: 'kept', createdAt: '2025-06-10T00:00:00Z' },
    ]);
    await store.append('young', [
      { role: 'user', content: 'young old', createdAt: '2025-01-13T00:00:00Z' },
      { role: 'user', content: 'young', createdAt: '2025-06-11T00:00:00Z' },
    ]);
    await store.append('gone', { role: 'user', content: 'all old', createdAt: '2025-01-12T00:00:00Z' });
    await store.archive({ before: '2025-06-11T00:00:00Z' });
    expect((await store.listArchived()).conversations.map((c) => c.conversationId)).toEqual(['gone', 'mixed']);
    const files = readdirSync(dir);

    const dry = await store.applyRetention({ before: '2025-03-01T00:00:00Z', dryRun: true });
    expect(dry).toMatchObject({ messagesDeleted: 3, archiveFilesRewritten: 0 });
    expect(readdirSync(dir)).toEqual(files);
    const report = await store.applyRetention({ before: '2025-03-01T00:00:00Z' });
    expect(report).toMatchObject({ messagesDeleted: 3, archiveFilesRewritten: 2 });
    expect(await inner.getConversation('mixed')).toBeUndefined();
    expect((await store.recent('mixed')).map((m) => m.content)).toEqual(['kept']);
    expect(await store.getConversation('mixed')).toMatchObject({ lastSeq: 2, messageCount: 1 });
    expect((await store.listArchived()).conversations).toMatchObject([
      { conversationId: 'gone', messages: 0 },
      { conversationId: 'mixed', messages: 1, firstSeq: 2 },
    ]);
    const [gone] = (await store.listArchived()).conversations;
    expect(gone?.firstSeq).toBeUndefined();
    expect(gone?.lastSeq).toBeUndefined();
    expect(await store.recent('gone')).toEqual([]);
    expect((await store.recent('young')).map((m) => m.content)).toEqual(['young']);
    expect((await store.stats()).total).toBe(2);
    // A second run finds nothing old enough in the files (their oldest message is newer).
    expect(await store.applyRetention({ before: '2025-03-01T00:00:00Z' })).toMatchObject({
      messagesDeleted: 0,
      archiveFilesRewritten: 0,
    });
  });

  test('a hard delete removes the files; a soft delete, an edit or a status report puts the conversation back first', async () => {
    const { store, inner, dir } = await sqliteWithArchive();
    const [a] = await store.append('a', { role: 'user', content: 'a1' });
    await store.append('b', { role: 'user', content: 'b1' });
    await store.append('d', { role: 'user', content: 'd1' });
    await store.archive({ before: FAR_FUTURE });
    expect(readdirSync(dir)).toHaveLength(6);

    expect(await store.deleteConversation('b', { hard: true })).toBe(true);
    expect(await store.getConversation('b')).toBeUndefined();
    expect(readdirSync(dir)).toHaveLength(4);
    expect(await store.deleteConversation('b', { hard: true })).toBe(false);

    await store.updateStatus(a?.message.id as string, 'failed');
    expect(await inner.getConversation('a')).toBeDefined();
    expect((await store.stats()).failed).toBe(1);

    expect(await store.deleteConversation('d')).toBe(true);
    expect(await inner.getConversation('d')).toBeDefined();
    expect((await store.getConversation('d'))?.deletedAt).toBeDefined();
    expect(readdirSync(dir)).toEqual([]);
    await expectCode(store.createConversation('a'), 'CONFLICT');
  });

  test('an archive file that does not match its checksum is an error, never an empty answer', async () => {
    const { store, dir } = await sqliteWithArchive();
    await store.append('c', { role: 'user', content: 'x' });
    await store.archive({ before: FAR_FUTURE });
    const [summary] = (await store.listArchived()).conversations;
    writeFileSync(join(dir, summary?.file as string), 'damaged');
    // A store that has not read it yet (nothing cached).
    const fresh = new ChatStore(
      await archiveTier(await sqliteBackend({ path: join(dir, '..', 'chat.db') }), { directory: dir }),
    );
    cleanups.push(() => fresh.close());
    await expectCode(fresh.recent('c'), 'UNAVAILABLE');
    await expectCode(fresh.append('c', { role: 'user', content: 'y' }), 'UNAVAILABLE');
  });

  test('processes appending while another archives: nothing lost, nothing twice, seqs dense', async () => {
    const entry = ALL_BACKENDS.find((candidate) => candidate.name === 'sqlite+archive+l1');
    if (entry?.processes === undefined) throw new Error('no sqlite+archive+l1 entry');
    const shared = await entry.processes.create();
    cleanups.push(() => shared.cleanup());
    const archiver = await entry.processes.connect(shared.location);
    cleanups.push(() => archiver.close());
    let writing = true;
    let runs = 0;
    const archiving = (async () => {
      while (writing) {
        await archiver.archive({ before: FAR_FUTURE });
        runs += 1;
      }
    })();
    const writerScript = fileURLToPath(new URL('./conformance/process-writer.ts', import.meta.url));
    const perWriter = 40;
    const outputs = await Promise.all(
      [0, 1].map(async (writer) => {
        const { stdout } = await run(
          process.execPath,
          [
            '--import',
            'tsx',
            writerScript,
            entry.name,
            shared.location,
            'busy',
            String(writer),
            String(perWriter),
            '5',
          ],
          { cwd: projectRoot, timeout: 100_000 },
        );
        return JSON.parse(stdout) as { own: number[] };
      }),
    );
    writing = false;
    await archiving;
    expect(runs).toBeGreaterThan(2);
    const stored = (await archiver.list('busy', { order: 'asc', limit: 500 })).messages;
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 2 * perWriter + 5 }, (_, i) => i + 1));
    for (const writer of [0, 1]) {
      const mine = stored.filter((m) => m.externalId?.startsWith(`w${writer}-`));
      expect(mine.map((m) => m.seq)).toEqual(outputs[writer]?.own);
    }
  }, 120_000);

  describe('kill -9 at every step', () => {
    const worker = fileURLToPath(new URL('./fixtures/archive-crash-worker.ts', import.meta.url));

    /** Runs the worker; true when it finished, false when it was killed at `killAt`. */
    async function crashing(database: string, dir: string, action: string, killAt: number): Promise<boolean> {
      try {
        const { stdout } = await run(
          process.execPath,
          ['--import', 'tsx', worker, database, dir, action, String(killAt), 'ana'],
          { cwd: projectRoot, timeout: 60_000 },
        );
        return stdout.startsWith('finished');
      } catch (error) {
        if ((error as { signal?: string }).signal === 'SIGKILL') return false;
        throw error;
      }
    }

    /** Two conversations, one named by the subject, in a database file of their own; what their export is. */
    async function seed(): Promise<{ database: string; dir: string; expected: ExportRecord[] }> {
      const root = temporaryDirectory();
      const database = join(root, 'chat.db');
      const store = new ChatStore(await sqliteBackend({ path: database }), deterministic());
      await store.append('ana', [
        { role: 'user', content: 'hers', senderId: 'ana' },
        { role: 'assistant', content: 'to her', recipientId: 'ana' },
      ]);
      await store.append('group', [
        { role: 'user', content: 'from ana', senderId: 'ana' },
        { role: 'user', content: 'from bob', senderId: 'bob' },
      ]);
      const expected = await records(store);
      await store.close();
      return { database, dir: join(root, 'archive'), expected };
    }

    async function reopen(database: string, dir: string): Promise<{ store: ChatStore; bare: Backend }> {
      const bare = await sqliteBackend({ path: database });
      const store = new ChatStore(await archiveTier(bare, { directory: dir, lockStaleMs: 2000 }));
      return { store, bare };
    }

    /** Kills the worker before each of its changes in turn, until it gets through; `check` looks at what is left. */
    async function everyStep(
      prepare: (database: string, dir: string) => Promise<void>,
      action: string,
      check: (store: ChatStore, bare: Backend, expected: ExportRecord[], dir: string) => Promise<void>,
    ): Promise<number> {
      for (let killAt = 1; ; killAt++) {
        const { database, dir, expected } = await seed();
        await prepare(database, dir);
        const finished = await crashing(database, dir, action, killAt);
        const { store, bare } = await reopen(database, dir);
        try {
          await check(store, bare, expected, dir);
        } finally {
          await store.close();
        }
        if (finished) return killAt - 1;
      }
    }

    const archiveAll = async (database: string, dir: string): Promise<void> => {
      const { store } = await reopen(database, dir);
      await store.archive({ before: FAR_FUTURE });
      await store.close();
    };

    /** Every file of the SQLite database in `root` (the file, its WAL and shared memory), as one text. */
    function databaseText(root: string): string {
      return readdirSync(root)
        .filter((file) => ['chat.db', 'chat.db-wal', 'chat.db-shm'].includes(file))
        .map((file) => readFileSync(join(root, file)).toString('latin1'))
        .join('\n');
    }

    /** The directory holds an entry and a data file per archived conversation, and nothing else. */
    function tidy(dir: string, conversations: number): void {
      const files = readdirSync(dir);
      expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(conversations);
      expect(files).toHaveLength(2 * conversations);
    }

    test('while archiving: the next run finishes or undoes each move; every message is there once, and none is left in the database file', async () => {
      const steps = await everyStep(
        async () => {},
        'archive',
        async (store, bare, expected, dir) => {
          expect(await records(store)).toStrictEqual(expected);
          const markerLeft = readdirSync(dir).some((file) => file.endsWith('.pending'));
          const report = await store.archive({ before: FAR_FUTURE });
          expect(report.skipped).toEqual([]);
          // Killed between its marker and the end of its removals: the next run rewrites the file whole.
          expect(report.recovered.unfinishedRuns).toBe(markerLeft ? 1 : 0);
          expect(await records(store)).toStrictEqual(expected);
          expect(await bare.conversationIds(undefined, 10)).toEqual([]);
          tidy(dir, 2);
          // The moves' scrub waits for the end of a run; a run killed before it is made up by the next.
          expect(databaseText(join(dir, '..'))).not.toMatch(/from ana|from bob|to her/);
        },
      );
      // Per conversation: the data file, the entry (moving), the entry (archived); the run's marker, twice.
      expect(steps).toBe(8);
    }, 180_000);

    test('while restoring: the next run finishes each restore; every message is there once', async () => {
      const steps = await everyStep(archiveAll, 'restore', async (store, bare, expected, dir) => {
        expect(await records(store)).toStrictEqual(expected);
        await store.archive({ before: '2000-01-01T00:00:00Z' });
        expect(await records(store)).toStrictEqual(expected);
        const inDatabase = await bare.conversationIds(undefined, 10);
        tidy(dir, 2 - inDatabase.length);
        for (const id of inDatabase) expect(await store.restoreArchived(id)).toBe(false);
      });
      expect(steps).toBe(6);
    }, 180_000);

    test('while erasing from the files: the erasure asked again completes; the others are untouched', async () => {
      const steps = await everyStep(archiveAll, 'erase', async (store, _bare, expected, dir) => {
        await store.eraseSubject('ana');
        await store.archive({ before: '2000-01-01T00:00:00Z' });
        const left = (await records(store)).filter((r) => !('conversation' in r)) as Message[];
        const bob = expected.filter((r) => !('conversation' in r) && r.senderId === 'bob');
        expect(left).toStrictEqual(bob);
        expect(await store.getConversation('ana')).toBeUndefined();
        tidy(dir, 1);
        for (const file of readdirSync(dir)) {
          const bytes = readFileSync(join(dir, file));
          expect((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')).not.toContain('from ana');
        }
      });
      expect(steps).toBeGreaterThanOrEqual(5);
    }, 180_000);
  });
});

describe('archive options', () => {
  test('store URLs turn the archive on and check its parameters', async () => {
    const dir = temporaryDirectory();
    const backend = await openBackend(
      `memory://?archiveDir=${encodeURIComponent(dir)}&archiveAfterDays=7&compression=brotli&compressionLevel=4&storageBatchSize=50`,
    );
    cleanups.push(() => backend.close());
    expect(backend.name).toBe('memory+archive');
    expect(backend.archive?.archiveAfterDays).toBe(7);
    expect(await backend.archive?.stats()).toMatchObject({
      compression: 'brotli',
      archiveAfterDays: 7,
      conversations: 0,
    });
    await expectCode(openBackend('memory://?archiveAfterDays=7'), 'INVALID_ARGUMENT');
    await expectCode(openBackend(`memory://?archiveDir=${dir}&compression=zstd`), 'INVALID_ARGUMENT');
    await expectCode(
      openBackend(`memory://?archiveDir=${dir}&compression=gzip&compressionLevel=12`),
      'INVALID_ARGUMENT',
    );
    await expectCode(openBackend(`memory://?archiveDir=${dir}&archiveAfterDays=0`), 'INVALID_ARGUMENT');
  });

  test('a store without archive says so; bad run options are INVALID_ARGUMENT', async () => {
    const plain = new ChatStore(memoryBackend());
    await expectCode(plain.archive(), 'UNSUPPORTED');
    await expectCode(plain.listArchived(), 'UNSUPPORTED');
    expect(await plain.archiveStats()).toBeUndefined();
    const store = new ChatStore(await archiveTier(memoryBackend(), { directory: temporaryDirectory() }));
    await expectCode(store.archive({ olderThanDays: -1 }), 'INVALID_ARGUMENT');
    await expectCode(store.archive({ before: 'yesterday' }), 'INVALID_ARGUMENT');
    await expectCode(store.archive({ before: FAR_FUTURE, olderThanDays: 3 }), 'INVALID_ARGUMENT');
    await expectCode(store.archive({ limit: 0 }), 'INVALID_ARGUMENT');
    await expectCode(store.restoreArchived(''), 'INVALID_ARGUMENT');
  });

  test('chatstore serve: ARCHIVE_AFTER_DAYS, COMPRESSION_ENABLED and STORAGE_BATCH_SIZE become URL parameters', () => {
    expect(withTierEnvironment('sqlite://./chat.db', { ARCHIVE_AFTER_DAYS: '30' })).toBe(
      'sqlite://./chat.db?archiveDir=.%2Fdata%2Farchive&archiveAfterDays=30',
    );
    expect(
      withTierEnvironment('sqlite://./chat.db', {
        CHATSTORE_ARCHIVE_DIR: '/var/archive',
        COMPRESSION_ENABLED: 'false',
        STORAGE_BATCH_SIZE: '500',
      }),
    ).toBe('sqlite://./chat.db?archiveDir=%2Fvar%2Farchive&compression=none&storageBatchSize=500');
    expect(withTierEnvironment('sqlite://./chat.db?archiveDir=/a', { CHATSTORE_ARCHIVE_DIR: '/b' })).toBe(
      'sqlite://./chat.db?archiveDir=/a',
    );
  });
});

async function expectCode(action: Promise<unknown>, code: string): Promise<void> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatStoreError);
  expect((error as ChatStoreError).code).toBe(code);
}
