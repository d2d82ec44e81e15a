/** `chatstore serve` refuses unsafe or broken configurations before it opens anything. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { serve } from '../../src/cli/serve.js';
import { ChatStoreError } from '../../src/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatstore-serve-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const context = () => ({
  url: `sqlite://${join(dir, 'data', 'x.db')}`,
  stdout: new PassThrough(),
  stderr: new PassThrough(),
});

async function refusal(options: Parameters<typeof serve>[1], env: NodeJS.ProcessEnv): Promise<object> {
  let caught: unknown;
  try {
    await serve(context(), options, env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ChatStoreError);
  const error = caught as ChatStoreError;
  return { code: error.code, path: error.path, message: error.message };
}

test('a non-loopback host without API keys is refused, and nothing is opened', async () => {
  expect(await refusal({ host: '0.0.0.0' }, {})).toStrictEqual({
    code: 'INVALID_ARGUMENT',
    path: 'host',
    message:
      'refusing to listen on 0.0.0.0 without API keys: anyone who can reach it could read and delete every message. Set CHATSTORE_API_KEYS="<key>:read,write;<key>:admin" or bind to 127.0.0.1',
  });
  expect(await refusal({}, { HOST: '::' })).toMatchObject({ path: 'host' });
  expect(await readdir(dir)).toStrictEqual([]);
});

test.each([
  [{ port: '70000' }, {}, 'port'],
  [{ port: 'http' }, {}, 'port'],
  [{}, { PORT: '-1' }, 'port'],
  [{ maxBody: '1e3' }, {}, 'max-body'],
  [{ shutdownTimeout: 'soon' }, {}, 'shutdown-timeout'],
  [{}, { CHATSTORE_API_KEYS: 'tooshort:read' }, 'CHATSTORE_API_KEYS'],
  [{}, { CHATSTORE_API_KEYS_FILE: '/nonexistent/keys' }, 'CHATSTORE_API_KEYS_FILE'],
])('%j with env %j is refused at %s', async (options, env, path) => {
  expect(await refusal(options, env)).toMatchObject({ code: 'INVALID_ARGUMENT', path });
  expect(await readdir(dir)).toStrictEqual([]);
});

test('API key errors name the entry and the problem, never any character of a key', async () => {
  const keys = 'bot-0123456789abcdef:read,ops-fedcba9876543210;ci-key-0123456789abcdef:write,admn';
  expect(await refusal({}, { CHATSTORE_API_KEYS: keys })).toStrictEqual({
    code: 'INVALID_ARGUMENT',
    path: 'CHATSTORE_API_KEYS',
    message: 'CHATSTORE_API_KEYS entry 1: scope 2 is not one of read, write, admin',
  });
  expect(await readdir(dir)).toStrictEqual([]);
});

/**
 * Runs `serve` in this process until `work` is done, then stops it as SIGTERM does; resolves with
 * every log line. `work` gets the 'chatstore listening' line.
 */
async function serving(
  url: string,
  options: Parameters<typeof serve>[1],
  env: NodeJS.ProcessEnv,
  work: (listening: Record<string, unknown>) => Promise<void>,
): Promise<Record<string, unknown>[]> {
  const stdout = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  const listening = new Promise<Record<string, unknown>>((resolve) => {
    createInterface({ input: stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === 'chatstore listening') resolve(entry);
    });
  });
  const running = serve({ url, stdout, stderr: new PassThrough() }, options, env);
  try {
    const started = await Promise.race([listening, running.then((): Record<string, unknown> => ({}))]);
    await work(started);
  } finally {
    process.emit('SIGTERM', 'SIGTERM');
    await running;
  }
  expect(lines.map((line) => line.msg)).toContain('chatstore stopped');
  return lines;
}

test('the startup log and the admin page show the store URL with every secret hidden', async () => {
  // The memory engine ignores its location and parameters: the URL is only shown.
  const url = 'memory://app:p@ss@w0rd@db:5432/chat?password=hunter2&sslkey=/etc/chat/key.pem&sslmode=require';
  const redacted = 'memory://app:***@db:5432/chat?password=***&sslkey=***&sslmode=require';
  const lines = await serving(url, { port: '0' }, {}, async (started) => {
    expect(started.store).toBe(redacted);
    const stats = (await (await fetch(`${started.url}/admin/storage/stats`)).json()) as { store: string };
    expect(stats.store).toBe(redacted);
  });
  const text = JSON.stringify(lines);
  for (const secret of ['hunter2', 'w0rd', 'p@ss', 'key.pem']) expect(text).not.toContain(secret);
});

test('CORS origins come from --cors-origin (repeatable, comma-separated), else CHATSTORE_CORS_ORIGINS; none by default', async () => {
  const allowedBy = async (base: string, origin: string) =>
    (await fetch(`${base}/v1/stats`, { headers: { origin } })).headers.get('access-control-allow-origin');
  await serving('memory://', { port: '0' }, {}, async (started) => {
    expect(started.cors).toBe('off');
    expect(await allowedBy(started.url as string, 'http://localhost:3000')).toBeNull();
  });
  const env = { CHATSTORE_CORS_ORIGINS: 'http://localhost:3000, https://app.example.com' };
  await serving('memory://', { port: '0' }, env, async (started) => {
    expect(started.cors).toStrictEqual(['http://localhost:3000', 'https://app.example.com']);
    expect(await allowedBy(started.url as string, 'http://localhost:3000')).toBe('http://localhost:3000');
    expect(await allowedBy(started.url as string, 'https://evil.example')).toBeNull();
  });
  const flags = { port: '0', corsOrigin: ['https://a.example,https://b.example:8443', 'https://c.example'] };
  await serving('memory://', flags, env, async (started) => {
    expect(started.cors).toStrictEqual(['https://a.example', 'https://b.example:8443', 'https://c.example']);
    expect(await allowedBy(started.url as string, 'https://b.example:8443')).toBe('https://b.example:8443');
    expect(await allowedBy(started.url as string, 'http://localhost:3000')).toBeNull();
  });
});

test.each([
  [
    { corsOrigin: ['*'] },
    {},
    'cors-origin "*" is not an origin (http or https, a host, a port only if not the default, no path: as a browser sends it)',
  ],
  [
    {},
    { CHATSTORE_CORS_ORIGINS: 'https://app.example.com/' },
    'cors-origin "https://app.example.com/" is not an origin (http or https, a host, a port only if not the default, no path: as a browser sends it); write it as https://app.example.com',
  ],
  [
    { corsOrigin: ['https://App.example.com:443'] },
    {},
    'cors-origin "https://App.example.com:443" is not an origin (http or https, a host, a port only if not the default, no path: as a browser sends it); write it as https://app.example.com',
  ],
  [
    {},
    { CHATSTORE_CORS_ORIGINS: 'app.example.com' },
    'cors-origin "app.example.com" is not an origin (http or https, a host, a port only if not the default, no path: as a browser sends it)',
  ],
  [
    {},
    { CHATSTORE_CORS_ORIGINS: 'ftp://files.example' },
    'cors-origin "ftp://files.example" is not an origin (http or https, a host, a port only if not the default, no path: as a browser sends it)',
  ],
])('CORS origin %j %j is refused before anything is opened', async (options, env, message) => {
  expect(await refusal(options, env)).toStrictEqual({ code: 'INVALID_ARGUMENT', path: 'cors-origin', message });
  expect(await readdir(dir)).toStrictEqual([]);
});

test('with ARCHIVE_AFTER_DAYS, serve archives what is idle at start and on its schedule; --maintenance-every 0 never', async () => {
  const url = `sqlite://${join(dir, 'chat.db')}`;
  const { openStore } = await import('../../src/open.js');
  const seeded = await openStore(url, { now: () => new Date('2026-01-01T00:00:00Z') });
  await seeded.append('old', { role: 'user', content: 'from January' });
  await seeded.close();
  const env = { ARCHIVE_AFTER_DAYS: '30', CHATSTORE_ARCHIVE_DIR: join(dir, 'archive') };

  await serving(url, { port: '0', maintenanceEvery: '0' }, env, async (started) => {
    const listing = (await (await fetch(`${started.url}/admin/storage/archive`)).json()) as { conversations: [] };
    expect(listing.conversations).toEqual([]);
  });
  const lines = await serving(url, { port: '0' }, env, async (started) => {
    for (let attempt = 0; ; attempt++) {
      const listing = (await (await fetch(`${started.url}/admin/storage/archive`)).json()) as {
        conversations: { conversationId: string }[];
      };
      if (listing.conversations.length > 0) {
        expect(listing.conversations.map((c) => c.conversationId)).toEqual(['old']);
        break;
      }
      if (attempt > 100) throw new Error('nothing archived');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const recent = (await (await fetch(`${started.url}/v1/conversations/old/messages/recent`)).json()) as {
      messages: { content: string }[];
    };
    expect(recent.messages.map((m) => m.content)).toEqual(['from January']);
  });
  expect(lines.find((line) => line.msg === 'archiving run')).toMatchObject({ archived: 1, skipped: 0 });
  expect(await refusal({ maintenanceEvery: 'hourly' }, env)).toMatchObject({ path: 'maintenance-every' });
  expect(await refusal({ retentionDays: 'a year' }, env)).toMatchObject({ path: 'retention-days' });
});

test('with --retention-days, serve deletes older messages at start and on its schedule', async () => {
  const url = `sqlite://${join(dir, 'kept.db')}`;
  const { openStore } = await import('../../src/open.js');
  const seeded = await openStore(url);
  await seeded.append('c', [
    { role: 'user', content: 'last year', createdAt: '2025-01-01T00:00:00Z' },
    { role: 'user', content: 'today' },
  ]);
  await seeded.close();
  const lines = await serving(url, { port: '0', retentionDays: '30' }, {}, async (started) => {
    for (let attempt = 0; ; attempt++) {
      const recent = (await (await fetch(`${started.url}/v1/conversations/c/messages/recent`)).json()) as {
        messages: { content: string }[];
      };
      if (recent.messages.length === 1) {
        expect(recent.messages.map((m) => m.content)).toEqual(['today']);
        break;
      }
      if (attempt > 100) throw new Error('nothing deleted');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  expect(lines.find((line) => line.msg === 'retention run')).toMatchObject({ messagesDeleted: 1, dryRun: false });
  expect(lines.find((line) => line.msg === 'archiving run')).toBeUndefined();
});
