/**
 * Migration from a live Cloudflare KV namespace (`cloudflare-kv://<account>/<namespace>`): the
 * namespace is workerd's own KV (Miniflare), served to the migration through Cloudflare's REST API
 * shapes (list keys with a cursor, read and delete a value, the error envelope) by a small server
 * over it. The same data migrated from the namespace and from its bulk export must give the same
 * messages, and `deleteSource` must empty the namespace of what it moved.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { memoryBackend } from '../src/backends/memory/index.js';
import { migrate } from '../src/migrate/index.js';
import type { KvNamespace } from '../src/migrate/layouts/kv-namespace.js';
import type { Message } from '../src/model.js';
import { ChatStore } from '../src/store.js';
import {
  type LegacyFixture,
  legacyFixture,
  writeKvChunked,
  writeKvMessage,
  writeKvSingle,
  writeSortedIndexExport,
} from './fixtures/legacy-layouts.js';

const TOKEN = 'cf-test-token-0123456789';
const ACCOUNT = 'acct123';
const NAMESPACE = 'ns456';

/** Miniflare's namespace proxy, typed by what the test uses of it. */
type KvBinding = KvNamespace & { put(key: string, value: string): Promise<void> };

let miniflare: Miniflare;
let kv: KvBinding;
let api: Server;
let dir: string;
const savedEnv = { token: process.env.CLOUDFLARE_API_TOKEN, base: process.env.CLOUDFLARE_API_BASE_URL };

/** Cloudflare's KV REST endpoints over the Miniflare namespace, as the API documents them. */
function kvRestApi(namespace: KvBinding): Server {
  const prefix = `/client/v4/accounts/${ACCOUNT}/storage/kv/namespaces/${NAMESPACE}`;
  return createServer((request, response) => {
    const send = (status: number, body: string, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    const failure = (status: number, code: number, message: string) =>
      send(status, JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null }));
    void (async () => {
      if (request.headers.authorization !== `Bearer ${TOKEN}`) return failure(401, 10000, 'Authentication error');
      const url = new URL(request.url ?? '/', 'http://api');
      if (!url.pathname.startsWith(prefix)) return failure(404, 10013, 'namespace not found');
      const rest = url.pathname.slice(prefix.length);
      if (rest === '/keys' && request.method === 'GET') {
        const cursor = url.searchParams.get('cursor') ?? undefined;
        const page = await namespace.list({
          limit: Number(url.searchParams.get('limit') ?? 1000),
          ...(cursor === undefined || cursor === '' ? {} : { cursor }),
        });
        const next = page.list_complete ? '' : page.cursor;
        return send(
          200,
          JSON.stringify({
            success: true,
            errors: [],
            messages: [],
            result: page.keys.map((key) => ({ name: key.name })),
            result_info: { count: page.keys.length, cursor: next },
          }),
        );
      }
      if (rest.startsWith('/values/')) {
        const key = decodeURIComponent(rest.slice('/values/'.length));
        if (request.method === 'DELETE') {
          await namespace.delete(key);
          return send(200, JSON.stringify({ success: true, errors: [], messages: [], result: {} }));
        }
        const value = await namespace.get(key, 'text');
        return value === null ? failure(404, 10009, 'key not found') : send(200, value, 'application/octet-stream');
      }
      return failure(405, 10000, 'method not allowed');
    })().catch((error: unknown) => failure(500, 10001, String(error)));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chatstore-kv-live-'));
  miniflare = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 204 }); } }',
    compatibilityDate: '2026-04-01',
    kvNamespaces: ['LEGACY'],
  });
  kv = (await miniflare.getKVNamespace('LEGACY')) as unknown as KvBinding;
  api = kvRestApi(kv);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  process.env.CLOUDFLARE_API_TOKEN = TOKEN;
  process.env.CLOUDFLARE_API_BASE_URL = `http://127.0.0.1:${(api.address() as AddressInfo).port}/client/v4`;
});

afterAll(async () => {
  await new Promise((resolve) => api.close(resolve));
  await miniflare.dispose();
  rmSync(dir, { recursive: true, force: true });
  for (const [name, value] of [
    ['CLOUDFLARE_API_TOKEN', savedEnv.token],
    ['CLOUDFLARE_API_BASE_URL', savedEnv.base],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

afterEach(async () => {
  for (const key of await allKeys()) await kv.delete(key);
});

async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list(cursor === undefined ? {} : { cursor });
    keys.push(...page.keys.map((key) => key.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
  return keys;
}

/** Puts every entry of a bulk export (a JSON array of `{ key, value }`) into the live namespace. */
async function seedFromExport(file: string): Promise<number> {
  const entries = JSON.parse(readFileSync(file, 'utf8')) as { key: string; value: string }[];
  for (let i = 0; i < entries.length; i += 50) {
    await Promise.all(entries.slice(i, i + 50).map((entry) => kv.put(entry.key, entry.value)));
  }
  return entries.length;
}

/** Every message, without the run that stored it (each migration is a run of its own). */
async function everything(store: ChatStore): Promise<Message[]> {
  const all: Message[] = [];
  for await (const record of store.exportRecords()) {
    if ('conversation' in record) continue;
    const migratedFrom = record.metadata?.migratedFrom as { run?: string } | undefined;
    expect(migratedFrom?.run).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    delete migratedFrom?.run;
    all.push(record);
  }
  return all;
}

const from = `cloudflare-kv://${ACCOUNT}/${NAMESPACE}`;
const fixture: LegacyFixture = legacyFixture(150);

describe('migration from a live Cloudflare KV namespace', () => {
  test.each([
    { layout: 'kv-single', write: writeKvSingle },
    { layout: 'kv-chunked', write: writeKvChunked },
    { layout: 'kv-message', write: writeKvMessage },
    { layout: 'sorted-index', write: writeSortedIndexExport },
  ])('$layout: the same messages as from its export', async ({ layout, write }) => {
    const file = join(dir, `${layout}.json`);
    write(file, fixture);
    const keys = await seedFromExport(file);
    const fromExport = new ChatStore(memoryBackend());
    const fromLive = new ChatStore(memoryBackend());
    const runsDir = join(dir, 'runs');
    const exported = await migrate(fromExport, { from: file, layout, runsDir });
    const live = await migrate(fromLive, { from, layout, runsDir, verify: true });
    expect(live).toMatchObject({
      layout,
      messages: exported.messages,
      customers: exported.customers,
      errorCount: exported.errorCount,
      verification: { ok: true, differences: [] },
    });
    // One key a message: more keys than one list call returns, so the cursor is followed.
    if (layout === 'kv-message') expect(keys).toBeGreaterThan(1000);
    const messages = await everything(fromLive);
    expect(messages).toHaveLength(live.messages.stored);
    expect(messages).toStrictEqual(await everything(fromExport));
  });

  test('deleteSource empties the namespace of what a complete run moved', async () => {
    const clean: LegacyFixture = {
      ...fixture,
      customers: fixture.customers
        .slice(0, 40)
        .map((customer) => ({ ...customer, messages: customer.messages.filter((m) => m.text !== undefined) }))
        .filter((customer) => customer.messages.length > 0),
    };
    const file = join(dir, 'clean-chunked.json');
    writeKvChunked(file, clean);
    await seedFromExport(file);
    const store = new ChatStore(memoryBackend());
    const report = await migrate(store, { from, layout: 'kv-chunked', deleteSource: true, runsDir: join(dir, 'runs') });
    expect(report).toMatchObject({
      complete: true,
      verification: { ok: true },
      sourceDeletion: { conversations: clean.customers.length, kept: 0 },
    });
    expect(await allKeys()).toStrictEqual([]);
  });

  test('a missing layout, a bad URL or a refused token is INVALID_ARGUMENT, before anything is stored', async () => {
    const store = new ChatStore(memoryBackend());
    const runsDir = join(dir, 'runs');
    await kv.put('+15550001', JSON.stringify({ messages: [{ role: 'user', content: 'hi', timestamp: 1 }] }));
    await expect(migrate(store, { from, runsDir })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', path: 'layout' });
    await expect(
      migrate(store, { from: 'cloudflare-kv://only-account', layout: 'kv-single', runsDir }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      path: 'from',
    });
    process.env.CLOUDFLARE_API_TOKEN = 'wrong-token';
    try {
      await expect(migrate(store, { from, layout: 'kv-single', runsDir })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('Authentication error'),
      });
    } finally {
      process.env.CLOUDFLARE_API_TOKEN = TOKEN;
    }
    expect((await store.stats()).total).toBe(0);
  });
});
