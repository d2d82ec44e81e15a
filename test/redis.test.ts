/**
 * What only the redis backend promises: an unreachable server is UNAVAILABLE (at open and later),
 * URLs are redacted, hash tags hold any conversation id, the global indexes of a cluster heal
 * after a writer dies mid-append, claims of ids left by failed writers are taken over, and
 * erasure leaves no key or claim naming the person. The API in general is the conformance
 * suite's job (`CHATSTORE_BACKENDS=redis,redis-cluster`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { redisBackend, redisUrlOptions } from '../src/backends/redis/index.js';
import { activityMember, hashTag, redisKeys } from '../src/backends/redis/keys.js';
import { ChatStoreError, type ErrorCode } from '../src/errors.js';
import { openStore } from '../src/open.js';
import { ChatStore } from '../src/store.js';
import {
  type ErasedPerson,
  erasedPerson,
  filesContaining,
  fillWithPerson,
  type ScannedFile,
} from './fixtures/on-disk.js';
import { CONFORMANCE_BASE_PORT, ensureCluster } from './fixtures/redis-cluster.js';
import { deleteKeys, redisTestUrl, TEST_KEY_ROOT } from './fixtures/redis-conformance.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const URL_13 = redisTestUrl(13);
const T0 = '2026-01-02T03:04:05.678Z';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A store on DB 13 (or the conformance cluster) under a fresh prefix, closed and emptied after the test. */
async function freshStore(
  where: 'single' | 'cluster' = 'single',
): Promise<{ store: ChatStore; prefix: string; location: string }> {
  const prefix = `${TEST_KEY_ROOT}${randomUUID()}:`;
  const query = `?keyPrefix=${encodeURIComponent(prefix)}`;
  const location =
    where === 'single'
      ? `${URL_13}${query}`
      : `redis+cluster://${(await ensureCluster(CONFORMANCE_BASE_PORT)).nodes.join(',')}${query}`;
  const store = await openStore(location, { now: () => new Date(T0) });
  cleanups.push(() => deleteKeys(location, prefix));
  cleanups.push(() => store.close());
  return { store, prefix, location };
}

async function expectCode(action: Promise<unknown>, code: ErrorCode): Promise<ChatStoreError> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ChatStoreError);
  expect((error as ChatStoreError).code, (error as Error).message).toBe(code);
  return error as ChatStoreError;
}

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once a Redis server on `port` answers PING (a spawned one takes a moment to listen). */
async function untilAnswers(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      probe.disconnect();
    }
  }
}

describe('an unreachable server', () => {
  test('a closed port is UNAVAILABLE within a few seconds, and the password is not in the message', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await expectCode(openStore(`redis://ana:s3cret@127.0.0.1:${port}/13`), 'UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  test('a cluster whose nodes are all down is UNAVAILABLE within a few seconds', async () => {
    const started = Date.now();
    await expectCode(
      openStore(`redis+cluster://127.0.0.1:${await closedPort()},127.0.0.1:${await closedPort()}`),
      'UNAVAILABLE',
    );
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  describe('a server that goes away after the store opened', () => {
    let server: ChildProcess;
    let dir: string;
    let port: number;

    beforeAll(async () => {
      port = await closedPort();
      dir = mkdtempSync(join(tmpdir(), 'chatstore-redis-'));
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], {
        stdio: 'ignore',
      });
      await untilAnswers(port);
    });

    afterAll(() => {
      if (server.exitCode === null) server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    test('every call after the server died is UNAVAILABLE within a few seconds, never an empty result', async () => {
      const store = await openStore(`redis://127.0.0.1:${port}/0`);
      cleanups.push(() => store.close());
      await store.append('c1', { role: 'user', content: 'before' });
      expect(await store.recent('c1')).toHaveLength(1);
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
      for (const call of [
        () => store.recent('c1'),
        () => store.append('c1', { role: 'user', content: 'after' }),
        () => store.getConversation('c1'),
        () => store.listConversations(),
        () => store.stats(),
      ]) {
        const started = Date.now();
        await expectCode(call(), 'UNAVAILABLE');
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    });
  });
});

describe('options and URLs', () => {
  test('a key prefix with braces is INVALID_ARGUMENT: it would become the hash tag', async () => {
    await expectCode(redisBackend({ url: URL_13, keyPrefix: 'app{1}:' }), 'INVALID_ARGUMENT');
  });

  test('URLs: credentials are split at the last @ and encoded again; cluster nodes are listed', () => {
    expect(redisUrlOptions('redis', 'ana:p@ss:w/rd@127.0.0.1:6379/2', new URLSearchParams('keyPrefix=bot:'))).toEqual({
      url: 'redis://ana:p%40ss%3Aw%2Frd@127.0.0.1:6379/2',
      keyPrefix: 'bot:',
    });
    expect(redisUrlOptions('redis', '127.0.0.1', new URLSearchParams())).toEqual({ url: 'redis://127.0.0.1' });
    expect(redisUrlOptions('redis+cluster', ':pw@h1:7000, h2:7001/', new URLSearchParams())).toEqual({
      cluster: ['h1:7000', 'h2:7001'],
      password: 'pw',
    });
  });

  test('a client of your own is used as given and left open by close()', async () => {
    const client = new Redis(URL_13);
    const prefix = `${TEST_KEY_ROOT}${randomUUID()}:`;
    cleanups.push(async () => {
      await deleteKeys(URL_13, prefix);
      client.disconnect();
    });
    const store = new ChatStore(await redisBackend({ client, keyPrefix: prefix }));
    await store.append('c1', { role: 'user', content: 'mine' });
    await store.close();
    expect(await client.exists(redisKeys(prefix).conversation('c1').conv)).toBe(1);
  });

  test('without ioredis installed, opening says what to install', async () => {
    // The sources, copied where no node_modules can be found: `import('ioredis')` fails for real.
    const dir = mkdtempSync(join(tmpdir(), 'chatstore-nodriver-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(repoRoot, 'src'), join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const script = `import(${JSON.stringify(join(dir, 'src/backends/redis/index.ts'))})
      .then((m) => m.redisBackend()).catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot });
    expect(JSON.parse(stdout)).toEqual({
      code: 'MISSING_DRIVER',
      message: 'the redis backend needs ioredis: npm install ioredis',
    });
  });

  test('search says why it is unsupported', async () => {
    const { store } = await freshStore();
    const error = await expectCode(store.search('anything'), 'UNSUPPORTED');
    expect(error.message).toBe(
      'search needs a full-text index; Redis 7 without RediSearch has none: use the sqlite or mysql backend for search',
    );
  });
});

describe('key layout', () => {
  test('the hash tag is the whole conversation id, braces and percent signs encoded', () => {
    expect(hashTag('+15550001')).toBe('{+15550001}');
    expect(hashTag('a}b{c%')).toBe('{a%7Db%7Bc%25}');
    expect(redisKeys('p:').conversation('x{y}').live).toBe('p:{x%7By%7D}:live');
  });

  test('on the cluster, every key of a conversation lives in one slot, whatever its id holds', async () => {
    const { store, prefix } = await freshStore('cluster');
    const ids = ['{x}', 'a}b{', '%7B', '}', 'plain'];
    for (const id of ids) {
      await store.append(id, [
        { role: 'user', content: `hello ${id}`, senderId: 'ana', externalId: `e-${id}` },
        { role: 'assistant', content: 'hi', senderId: 'bot', recipientId: 'ana' },
      ]);
      await store.delete((await store.recent(id, 1))[0]?.id as string);
    }
    const { nodes } = await ensureCluster(CONFORMANCE_BASE_PORT);
    const admin = new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    cleanups.push(async () => admin.disconnect());
    for (const id of ids) {
      const keys = Object.values(redisKeys(prefix).conversation(id));
      const slots = new Set(await Promise.all(keys.map((key) => admin.call('CLUSTER', 'KEYSLOT', key))));
      expect(slots.size).toBe(1);
      if (id === 'plain') expect([...slots]).toEqual([await admin.call('CLUSTER', 'KEYSLOT', id)]);
      expect((await store.list(id, { includeDeleted: true })).messages.map((m) => m.content)).toEqual([
        `hello ${id}`,
        'hi',
      ]);
    }
    expect((await store.listConversations({ limit: 10 })).conversations.map((c) => c.id).sort()).toEqual(
      [...ids].sort(),
    );
  });
});

describe.each(['single', 'cluster'] as const)('global indexes on %s', (where) => {
  test('erasure leaves no key, index entry or claim that names the person', async () => {
    const { store, prefix, location } = await freshStore(where);
    const ana = '+15550001';
    await store.append(ana, { role: 'user', content: 'hola', senderId: ana, recipientId: 'bot', externalId: 'w1' });
    await store.append('group', { role: 'user', content: 'in group', senderId: ana, externalId: 'w2' });
    await store.append('group', { role: 'user', content: 'bob', senderId: 'bob' });
    await store.removeParticipant('group', ana);
    const receipt = await store.eraseSubject(ana);
    expect(receipt).toMatchObject({ messagesDeleted: 2, conversationsDeleted: [ana] });
    const mentions = await keysAndValuesNaming(location, prefix, ana);
    expect(mentions).toEqual([]);
    expect(await store.getByExternalId('w1')).toBeUndefined();
    expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual(['group']);
  });

  test('an id claimed by an append that never ran its script is taken over by the next conversation', async () => {
    const { store, prefix, location } = await freshStore(where);
    await withRaw(location, (raw) => raw.set(redisKeys(prefix).messageId('m-1'), '1|crashed-conversation'));
    const [result] = await store.append('c1', { id: 'm-1', role: 'user', content: 'mine now' });
    expect(result).toMatchObject({ duplicate: false, message: { id: 'm-1', conversationId: 'c1', seq: 1 } });
    expect(await store.get('m-1')).toStrictEqual(result?.message);
    await expectCode(store.append('c2', { id: 'm-1', role: 'user', content: 'taken' }), 'CONFLICT');
  });
});

describe('cluster index upkeep', () => {
  test('a stale activity entry is skipped by readers and removed', async () => {
    const { store, prefix, location } = await freshStore('cluster');
    await store.append('c1', { role: 'user', content: 'one' });
    const keys = redisKeys(prefix);
    const stale = activityMember('2099-01-01T00:00:00.000Z', 'c1');
    await withRaw(location, (raw) => raw.zadd(keys.activity, 0, stale));
    expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual(['c1']);
    await expect.poll(() => withRaw(location, (raw) => raw.zscore(keys.activity, stale))).toBeNull();
  });

  test('entries a writer made true but died before indexing are added by the next append', async () => {
    const { store, prefix, location } = await freshStore('cluster');
    await store.append('c1', { role: 'user', content: 'one', senderId: 'ana' });
    const keys = redisKeys(prefix);
    // What a writer that died right after its script leaves: the outbox mark, no index entry.
    await withRaw(location, async (raw) => {
      await raw.zrem(keys.participant('ana'), 'c1');
      await raw.hset(keys.conversation('c1').unindexed, 'p\u0000ana', '1');
      await raw.hset(keys.conversation('c1').conv, 'pending', '1');
    });
    expect(await store.listConversations({ participantId: 'ana' })).toEqual({ conversations: [] });
    await store.append('c1', { role: 'user', content: 'two', senderId: 'bob' });
    expect((await store.listConversations({ participantId: 'ana' })).conversations.map((c) => c.id)).toEqual(['c1']);
    await expect.poll(() => withRaw(location, (raw) => raw.hlen(keys.conversation('c1').unindexed))).toBe(0);
  });
});

/** Runs `body` with a plain ioredis client (a Cluster client for a cluster location). */
async function withRaw<T>(location: string, body: (raw: Redis | Cluster) => Promise<T>): Promise<T> {
  const raw = location.startsWith('redis+cluster://')
    ? new Cluster(
        (await ensureCluster(CONFORMANCE_BASE_PORT)).nodes.map((node) => ({
          host: '127.0.0.1',
          port: Number(node.split(':')[1]),
        })),
      )
    : new Redis(location.split('?')[0] as string);
  try {
    return await body(raw);
  } finally {
    raw.disconnect();
  }
}

/** Keys under `prefix` whose name or value contains `text` (claims, index members, hash fields). */
async function keysAndValuesNaming(location: string, prefix: string, text: string): Promise<string[]> {
  const nodes = location.startsWith('redis+cluster://')
    ? (await ensureCluster(CONFORMANCE_BASE_PORT)).nodes.map((node) => `redis://${node}`)
    : [location.split('?')[0] as string];
  const found: string[] = [];
  for (const url of nodes) {
    const node = new Redis(url);
    try {
      if (((await node.call('ROLE')) as [string])[0] !== 'master') continue;
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const type = await node.type(key);
          const content: (string | null)[] =
            type === 'string'
              ? [await node.get(key)]
              : type === 'hash'
                ? await node.hgetall(key).then((h) => Object.entries(h).flat())
                : type === 'zset'
                  ? await node.zrange(key, '0', '-1')
                  : [];
          if (key.includes(text) || content.some((value) => value?.includes(text))) found.push(key);
        }
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
  return found;
}

describe('erasure on disk', () => {
  let server: ChildProcess;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    port = await closedPort();
    dir = mkdtempSync(join(tmpdir(), 'chatstore-redis-files-'));
    // AOF and RDB snapshots both on, uncompressed, so the scan can see every word they keep.
    const settings = ['--appendonly', 'yes', '--save', '3600 1', '--rdbcompression', 'no'];
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...settings, '--aof-use-rdb-preamble', 'no'],
      { stdio: 'ignore' },
    );
    await untilAnswers(port);
  });

  afterAll(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every file Redis keeps in its directory: `dump.rdb` and the AOF's base, incremental and manifest files. */
  const persistenceFiles = (): ScannedFile[] =>
    (readdirSync(dir, { recursive: true }) as string[])
      .filter((name) => statSync(join(dir, name)).isFile())
      .map((name) => ({ name: name.replace(/\.\d+\./g, '.N.'), path: join(dir, name) }));

  /** A store on the test's own server, with a snapshot of everything in `dump.rdb`. */
  async function filledStore(): Promise<{ store: ChatStore; person: ErasedPerson }> {
    const store = await openStore(`redis://127.0.0.1:${port}/0?keyPrefix=${randomUUID()}:`);
    cleanups.push(() => store.close());
    const person = erasedPerson();
    await fillWithPerson(store, person);
    const admin = new Redis({ port });
    try {
      await admin.bgsave();
      while ((await admin.info('persistence')).includes('rdb_bgsave_in_progress:1')) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      admin.disconnect();
    }
    return { store, person };
  }

  test('eraseSubject with compact: true rewrites the AOF and the snapshot: neither keeps the words or the id', async () => {
    const { store, person } = await filledStore();
    expect(filesContaining(persistenceFiles(), [person.word])).toStrictEqual([
      `appendonlydir/appendonly.aof.N.incr.aof: ${person.word}`,
      `dump.rdb: ${person.word}`,
    ]);
    const receipt = await store.eraseSubject(person.subjectId, { compact: true });
    expect(receipt).toMatchObject({ messagesDeleted: 34, compaction: 'done' });
    expect(filesContaining(persistenceFiles(), person.needles)).toStrictEqual([]);
  });

  test('without compact the AOF keeps the erased words; compact() rewrites it and the snapshot', async () => {
    const { store, person } = await filledStore();
    const receipt = await store.eraseSubject(person.subjectId);
    expect(receipt.compaction).toBeUndefined();
    expect(filesContaining(persistenceFiles(), [person.word])).toStrictEqual([
      `appendonlydir/appendonly.aof.N.incr.aof: ${person.word}`,
      `dump.rdb: ${person.word}`,
    ]);
    expect((await store.compact()).rewritten).toStrictEqual(['RDB snapshot', 'append-only file']);
    expect(filesContaining(persistenceFiles(), person.needles)).toStrictEqual([]);
  });
});
