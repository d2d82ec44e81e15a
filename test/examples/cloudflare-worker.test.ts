/**
 * Runs examples/cloudflare-worker as wrangler would: its `main` bundled with esbuild (chatstore
 * imported by its own name from dist/, so `npm run build` first), in workerd through Miniflare, with
 * the compatibility date, flags, Durable Object bindings, SQLite classes and vars its wrangler.toml
 * declares. Then an append and a recent through the HTTP client, and the refusal (403) of a Worker
 * whose CHATSTORE_API_KEYS secret was never set. The wrangler.toml and src/index.ts the docs show
 * must be these files, comments aside.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { chatStoreClient } from '../../src/client/index.js';
import { bundleWorker } from '../fixtures/cloudflare/miniflare.js';

const example = join(import.meta.dirname, '..', '..', 'examples', 'cloudflare-worker');
const API_KEY = 'example-worker-key-0123456789';

type TomlValue = string | string[];
type TomlTable = Record<string, TomlValue>;

/**
 * The part of TOML a wrangler.toml like the example's uses: `key = "text"`, `key = ["text", …]`
 * on one line, `[table]` and `[[array.of.tables]]` headers, comments. Anything else fails the
 * test rather than being read wrongly.
 */
function parseToml(text: string): { top: TomlTable; tables: Record<string, TomlTable[]> } {
  const top: TomlTable = {};
  const tables: Record<string, TomlTable[]> = {};
  let current = top;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[\[([\w.]+)\]\]$/.exec(line) ?? /^\[([\w.]+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      current = {};
      tables[header[1]] ??= [];
      tables[header[1]]?.push(current);
      continue;
    }
    const pair = /^(\w+)\s*=\s*(.+)$/.exec(line);
    const value = pair?.[2];
    if (pair?.[1] === undefined || value === undefined) throw new Error(`wrangler.toml:${index + 1}: ${raw}`);
    const parsed: unknown = JSON.parse(value);
    const isText = typeof parsed === 'string';
    const isList = Array.isArray(parsed) && parsed.every((item) => typeof item === 'string');
    if (!isText && !isList) throw new Error(`wrangler.toml:${index + 1}: only text and lists of text: ${raw}`);
    current[pair[1]] = parsed as TomlValue;
  }
  return { top, tables };
}

const { top, tables } = parseToml(readFileSync(join(example, 'wrangler.toml'), 'utf8'));
const text = (table: TomlTable, key: string): string => {
  const value = table[key];
  if (typeof value !== 'string') throw new Error(`wrangler.toml: ${key} is not text`);
  return value;
};
const list = (table: TomlTable, key: string): string[] => {
  const value = table[key];
  if (!Array.isArray(value)) throw new Error(`wrangler.toml: ${key} is not a list`);
  return value;
};

/** `[vars]`: plain-text bindings, given to the Worker beside its secrets. */
const vars = tables.vars?.[0] ?? {};
const sqliteClasses = new Set((tables.migrations ?? []).flatMap((migration) => list(migration, 'new_sqlite_classes')));
const durableObjects = Object.fromEntries(
  (tables['durable_objects.bindings'] ?? []).map((binding) => [
    text(binding, 'name'),
    { className: text(binding, 'class_name'), useSQLite: sqliteClasses.has(text(binding, 'class_name')) },
  ]),
);

const disposals: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const dispose of disposals) await dispose();
});

/** The example's Worker in workerd as its wrangler.toml declares it, with the secrets given. */
async function startExample(secrets: Record<string, string>): Promise<string> {
  const script = await bundleWorker(join(example, text(top, 'main')));
  const { Miniflare } = await import('miniflare');
  const miniflare = new Miniflare({
    modules: true,
    script,
    compatibilityDate: text(top, 'compatibility_date'),
    compatibilityFlags: list(top, 'compatibility_flags'),
    durableObjects,
    bindings: { ...vars, ...secrets },
    host: '127.0.0.1',
    port: 0,
  });
  disposals.push(() => miniflare.dispose());
  return (await miniflare.ready).href.replace(/\/$/, '');
}

test('the wrangler.toml declares what chatstoreWorker needs', () => {
  expect(existsSync(join(example, text(top, 'main')))).toBe(true);
  expect(dirname(text(top, 'main'))).toBe('src');
  expect(list(top, 'compatibility_flags')).toContain('nodejs_compat');
  expect(durableObjects).toStrictEqual({
    CHATSTORE_CONVERSATIONS: { className: 'ConversationObject', useSQLite: true },
    CHATSTORE_DIRECTORY: { className: 'DirectoryObject', useSQLite: true },
  });
  // The directory's shards, said outright: the number may not change once data is written.
  expect(vars).toStrictEqual({ CHATSTORE_DIRECTORY_SHARDS: '8' });
});

/** The text of a file without its comments and blank lines: what a reader copies. */
function uncommented(text: string): string {
  return text
    .replace(/\/\*\*[\s\S]*?\*\/\n/g, '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .join('\n');
}

/** The fenced blocks of one language in a Markdown file, in order. */
function blocks(file: string, lang: string): string[] {
  const text = readFileSync(join(example, '..', '..', file), 'utf8');
  return [...text.matchAll(new RegExp(`\`\`\`${lang}\n([\\s\\S]*?)\`\`\``, 'g'))].map((block) => block[1] ?? '');
}

test('the docs show this wrangler.toml and this src/index.ts', () => {
  const toml = uncommented(readFileSync(join(example, 'wrangler.toml'), 'utf8'));
  const entry = uncommented(readFileSync(join(example, text(top, 'main')), 'utf8'));
  expect(blocks('docs/cloudflare.md', 'toml').map(uncommented)).toContain(toml);
  for (const file of ['docs/cloudflare.md', 'README.md', 'examples/cloudflare-worker/README.md']) {
    expect(blocks(file, 'ts').map(uncommented), file).toContain(entry);
  }
});

test('the Worker stores an append and answers a recent through the client', async () => {
  const url = await startExample({ CHATSTORE_API_KEYS: `${API_KEY}:read,write` });
  const store = chatStoreClient({ url, apiKey: API_KEY });
  const incoming = {
    role: 'user' as const,
    content: 'Do you deliver on Sundays?',
    externalId: 'wamid.A1',
    senderId: '+15550001',
  };
  const [first] = await store.append('+15550001', incoming);
  expect(first?.message.seq).toBe(1);
  expect(first?.duplicate).toBe(false);
  const [again] = await store.append('+15550001', incoming);
  expect(again?.duplicate).toBe(true);
  await store.append('+15550001', { role: 'assistant', content: 'Yes, from 10:00 to 14:00.', externalId: 'wamid.B2' });
  const recent = await store.recent('+15550001', 20);
  expect(recent.map((message) => [message.seq, message.role, message.content])).toStrictEqual([
    [1, 'user', 'Do you deliver on Sundays?'],
    [2, 'assistant', 'Yes, from 10:00 to 14:00.'],
  ]);
  // What spans conversations comes from the directory's shards, kept up to date before the append answered.
  expect((await store.search('sundays')).hits.map((hit) => hit.message.externalId)).toStrictEqual(['wamid.A1']);
  await expect(chatStoreClient({ url }).recent('+15550001', 20)).rejects.toMatchObject({
    code: 'UNAVAILABLE',
    cause: { status: 401 },
  });
});

test('without the CHATSTORE_API_KEYS secret the Worker serves nobody: a Worker has no loopback clients', async () => {
  const url = await startExample({});
  const response = await fetch(`${url}/v1/conversations/%2B15550001/messages/recent`);
  expect(response.status).toBe(403);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PERMISSION_DENIED');
});
