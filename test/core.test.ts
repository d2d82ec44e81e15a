import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/backends/memory/index.js';
import { CHANGED, OPTIMISTIC_ATTEMPTS, untilUnchanged } from '../src/backends/optimistic.js';
import { commandDetector } from '../src/commands.js';
import { decodeCursor, encodeCursor } from '../src/cursor.js';
import { ChatStoreError, redact } from '../src/errors.js';
import { newMessageId } from '../src/ids.js';
import { applyMergePatch } from '../src/merge-patch.js';
import { MESSAGE_STATUSES } from '../src/model.js';
import { DEFAULT_URL, openStore, parseStoreUrl } from '../src/open.js';
import { nextStatus } from '../src/status.js';
import { ChatStore } from '../src/store.js';
import { compareUtf8, searchTerms, utf8Length } from '../src/text.js';
import { normalizeTime } from '../src/time.js';
import { approximateTokens } from '../src/tokens.js';

describe('nextStatus (forward-only, invariant 4 in docs/ARCHITECTURE.md)', () => {
  // Rows: current status; columns: reported status, in MESSAGE_STATUSES order.
  const table: Record<string, string[]> = {
    none: ['queued', 'sent', 'delivered', 'read', 'failed'],
    queued: ['queued', 'sent', 'delivered', 'read', 'failed'],
    sent: ['sent', 'sent', 'delivered', 'read', 'failed'],
    delivered: ['delivered', 'delivered', 'delivered', 'read', 'delivered'],
    read: ['read', 'read', 'read', 'read', 'read'],
    failed: ['failed', 'failed', 'delivered', 'read', 'failed'],
  };
  for (const [current, expected] of Object.entries(table)) {
    it(`from ${current}`, () => {
      const from = current === 'none' ? undefined : (current as (typeof MESSAGE_STATUSES)[number]);
      expect(MESSAGE_STATUSES.map((reported) => nextStatus(from, reported))).toEqual(expected);
    });
  }
});

describe('commandDetector', () => {
  const detect = commandDetector({ admin: ['Ban'] });
  it.each([
    ['/help', { name: 'help', admin: false }],
    ['!ban @spammer', { name: 'ban', admin: true }],
    ['/START@my_bot hello', { name: 'start', admin: false }],
    ['/precio-dólar', { name: 'precio-dólar', admin: false }],
    ['/ help', undefined],
    ['hello /help', undefined],
    ['/help!', undefined],
    ['', undefined],
  ])('%j → %j', (content, expected) => {
    expect(detect(content)).toEqual(expected);
  });
  it('uses the configured prefixes only', () => {
    expect(commandDetector({ prefixes: ['#'] })('#menu')).toEqual({ name: 'menu', admin: false });
    expect(commandDetector({ prefixes: ['#'] })('/menu')).toBeUndefined();
  });
});

describe('cursors', () => {
  it('round-trip and are opaque base64url', () => {
    const text = encodeCursor({ kind: 'page', conversationId: 'c/1 é', order: 'desc', seq: 42 });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text, 'page')).toEqual({ kind: 'page', conversationId: 'c/1 é', order: 'desc', seq: 42 });
    const search = encodeCursor({ kind: 'search', position: { score: 1.25, id: 'm' } });
    expect(decodeCursor(search, 'search').position).toEqual({ score: 1.25, id: 'm' });
  });
  it.each(['', 'x', '!!!', btoa('["p","c","up",1]'), btoa('{"a":1}')])('rejects %j', (text) => {
    expect(() => decodeCursor(text, 'page')).toThrow(ChatStoreError);
  });
  it('rejects a cursor of another kind', () => {
    const text = encodeCursor({ kind: 'conversations', position: { activityAt: 't', id: 'c' } });
    expect(() => decodeCursor(text, 'page')).toThrow(/cursor is not valid/);
  });
});

describe('text rules', () => {
  it('counts UTF-8 bytes', () => {
    expect(utf8Length('aé€👋')).toBe(1 + 2 + 3 + 4);
    expect(utf8Length('a'.repeat(10))).toBe(10);
  });
  it('splits search terms like FTS5 unicode61 with diacritics removed', () => {
    expect(searchTerms('Café, RÉSUMÉ! naïve-test 42')).toEqual(['cafe', 'resume', 'naive', 'test', '42']);
  });
  it('orders strings by their UTF-8 bytes, not by UTF-16 code units', () => {
    const words = [
      '',
      'a',
      'ab',
      'b',
      'é',
      '\u07FF',
      '\u0800',
      '\uD7FF',
      '\uE000',
      '\uFFFD',
      '\uFFFF',
      '\u{10000}',
      '\u{1F600}',
      '\u{1F600}a',
      '\u{10FFFF}',
      'a\u{1F600}',
      'a\uFFFD',
    ];
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    for (const a of words) {
      for (const b of words)
        expect([a, b, Math.sign(compareUtf8(a, b))]).toEqual([a, b, Buffer.compare(bytes(a), bytes(b))]);
    }
    expect(['\uFFFD', '\u{1F600}', '\uE000'].sort(compareUtf8)).toEqual(['\uE000', '\uFFFD', '\u{1F600}']);
  });
  it('approximates tokens', () => {
    expect(approximateTokens({ role: 'user', content: 'hello world!' })).toBe(7);
  });
  it('normalizes times to UTC ISO with milliseconds', () => {
    expect(normalizeTime('2026-01-01T10:00:00+02:00')).toBe('2026-01-01T08:00:00.000Z');
    expect(normalizeTime('2026-01-01')).toBe('2026-01-01T00:00:00.000Z');
    expect(normalizeTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(normalizeTime(new Date('2026-05-05T05:05:05.5Z'))).toBe('2026-05-05T05:05:05.500Z');
    expect(normalizeTime('2026-01-01T10:00:00')).toBeUndefined(); // no zone: ambiguous
    expect(normalizeTime('yesterday')).toBeUndefined();
    expect(normalizeTime(Number.NaN)).toBeUndefined();
    expect(normalizeTime(Date.UTC(10000, 0, 1))).toBeUndefined();
  });
  it.each([
    // real calendar days: leap years every 4 years, but not centuries, except every 400 years
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['2000-02-29T23:59:59.999Z', '2000-02-29T23:59:59.999Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2026-02-28T23:59:59Z', '2026-02-28T23:59:59.000Z'],
    ['2026-01-31T00:00Z', '2026-01-31T00:00:00.000Z'],
    ['2026-03-31T00:00:00Z', '2026-03-31T00:00:00.000Z'],
    ['2026-04-30T00:00:00Z', '2026-04-30T00:00:00.000Z'],
    ['2026-12-31T23:59:59Z', '2026-12-31T23:59:59.000Z'],
    // the offset moves the instant, possibly across a month or year
    ['2026-03-01T05:29:59+05:30', '2026-02-28T23:59:59.000Z'],
    ['2026-02-28T20:00:00-0400', '2026-03-01T00:00:00.000Z'],
    ['2027-01-01T00:30:00+01:00', '2026-12-31T23:30:00.000Z'],
    ['2026-01-01T10:00:00+23:59', '2025-12-31T10:01:00.000Z'],
    // fractions past milliseconds are cut, as before
    ['2026-01-01T00:00:00.123456789Z', '2026-01-01T00:00:00.123Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    // impossible fields are refused, never rolled over into the next day or month
    ['2026-02-29T00:00:00Z', undefined],
    ['2100-02-29T00:00:00Z', undefined],
    ['2026-02-30T00:00:00Z', undefined],
    ['2026-02-31', undefined],
    ['2026-04-31T00:00:00Z', undefined],
    ['2026-06-31T00:00:00Z', undefined],
    ['2026-09-31T00:00:00Z', undefined],
    ['2026-11-31T00:00:00Z', undefined],
    ['2026-01-32T00:00:00Z', undefined],
    ['2026-00-01T00:00:00Z', undefined],
    ['2026-13-01T00:00:00Z', undefined],
    ['2026-01-00T00:00:00Z', undefined],
    ['2026-01-01T24:00:00Z', undefined],
    ['2026-01-01T24:00Z', undefined],
    ['2026-01-01T23:60:00Z', undefined],
    ['2016-12-31T23:59:60Z', undefined], // leap seconds are refused: no engine or Date can hold one
    ['2026-01-01T10:00:00+24:00', undefined],
    ['2026-01-01T10:00:00+05:60', undefined],
    ['0000-12-31T23:59:59Z', undefined],
    ['0001-01-01T00:30:00+01:00', undefined],
    ['9999-12-31T23:59:59-00:01', undefined],
  ])('normalizeTime(%s) is %s', (text, expected) => {
    expect(normalizeTime(text)).toBe(expected);
  });
});

describe('maxJsonDepth', () => {
  it.each([0, -1, 1.5, 29, Number.NaN, '20'])('refuses a store configured with %s', (maxJsonDepth) => {
    let caught: unknown;
    try {
      new ChatStore(memoryBackend(), { limits: { maxJsonDepth: maxJsonDepth as number } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ChatStoreError);
    expect({ code: (caught as ChatStoreError).code, path: (caught as ChatStoreError).path }).toEqual({
      code: 'INVALID_ARGUMENT',
      path: 'limits.maxJsonDepth',
    });
  });
  it('accepts 1 to 28, 20 by default', () => {
    expect(new ChatStore(memoryBackend()).limits.maxJsonDepth).toBe(20);
    expect(new ChatStore(memoryBackend(), { limits: { maxJsonDepth: 1 } }).limits.maxJsonDepth).toBe(1);
    expect(new ChatStore(memoryBackend(), { limits: { maxJsonDepth: 28 } }).limits.maxJsonDepth).toBe(28);
  });
});

describe('applyMergePatch (RFC 7396)', () => {
  it('merges objects, removes null keys, replaces arrays and scalars', () => {
    expect(
      applyMergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: null, b: { c: null, x: { y: null } }, e: [2] }),
    ).toEqual({
      b: { d: 3, x: {} },
      e: [2],
    });
  });
});

describe('store URLs', () => {
  it('parses relative, absolute and parameterized URLs', () => {
    expect(parseStoreUrl('sqlite://./data/chat.db')).toMatchObject({ scheme: 'sqlite', location: './data/chat.db' });
    expect(parseStoreUrl('sqlite:///var/lib/chat%20store.db').location).toBe('/var/lib/chat store.db');
    expect(parseStoreUrl('SQLITE://x.db?durability=normal').params.get('durability')).toBe('normal');
    expect(DEFAULT_URL).toBe('sqlite://./data/chatstore.db');
  });
  it('rejects unknown schemes and malformed URLs without echoing credentials', async () => {
    await expect(openStore('mongo://admin:hunter2@db/x')).rejects.toThrow(/unknown store scheme "mongo"/);
    await expect(openStore('not a url')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openStore('postgres:/admin:hunter2@db')).rejects.not.toThrow(/hunter2/);
    await expect(openStore('sqlite://x.db?durability=sometimes')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
  it('opens memory:// through CHATSTORE_URL', async () => {
    process.env.CHATSTORE_URL = 'memory://';
    try {
      const store = await openStore();
      expect(store.backendName).toBe('memory');
      await store.close();
      await expect(store.recent('c')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      delete process.env.CHATSTORE_URL;
    }
  });
  it('redacts passwords in URLs', () => {
    expect(redact('connect postgres://bob:s3cret@db:5432/x failed')).toBe(
      'connect postgres://bob:***@db:5432/x failed',
    );
  });
});

describe('redact (the one redaction rule: errors, logs, the admin page)', () => {
  it.each([
    // a raw '@' in the password: hidden up to the last '@', as the URL parser splits
    ['postgres://app:p@ss@w0rd@db:5432/chat', 'postgres://app:***@db:5432/chat'],
    ['redis://:s3@cr@t@cache:6379/0', 'redis://:***@cache:6379/0'],
    // raw '/', '?', '#' in the password
    ['postgres://app:a/b?c#d@db/chat?sslmode=require', 'postgres://app:***@db/chat?sslmode=require'],
    ['postgres://app:12/34@db/chat', 'postgres://app:***@db/chat'],
    // a username with a raw '@' keeps its name, loses its password; a password-only user info is hidden
    ['postgres://me@corp.example:pw@db/chat', 'postgres://me@corp.example:***@db/chat'],
    ['redis://p@ssword@cache:6379', 'redis://***@cache:6379'],
    // secret query parameters, whatever their case or spelling
    [
      'postgres://db/chat?password=hunter2&sslmode=require&sslpassword=pw&sslkey=/etc/chat/key.pem&sslcert=/etc/chat/c.pem',
      'postgres://db/chat?password=***&sslmode=require&sslpassword=***&sslkey=***&sslcert=/etc/chat/c.pem',
    ],
    ['redis://cache:6379/0?password=hunter2&keyPrefix=chat:', 'redis://cache:6379/0?password=***&keyPrefix=chat:'],
    [
      'postgres://db/chat?token=t1&api_key=k1&Client_Secret=s1&PASSWORD=p1&pass%77ord=p2&application_name=bot',
      'postgres://db/chat?token=***&api_key=***&Client_Secret=***&PASSWORD=***&pass%77ord=***&application_name=bot',
    ],
    // a raw '&' or '#' inside a secret value is hidden up to the next name=
    ['postgres://db/chat?password=a&b#c&sslmode=require', 'postgres://db/chat?password=***&sslmode=require'],
    // both at once
    ['postgres://app:x@y@db/chat?sslpassword=z', 'postgres://app:***@db/chat?sslpassword=***'],
    // several URLs in one text, with text around and after them
    [
      'primary postgres://a:one@h1/db, replica (redis://:t@o@h2:6379/0) both down; retry later',
      'primary postgres://a:***@h1/db, replica (redis://:***@h2:6379/0) both down; retry later',
    ],
    ['postgres://a:x@h1/db,postgres://b:y@h2/db', 'postgres://a:***@h1/db,postgres://b:***@h2/db'],
    ['"postgres://app:pw@db/chat" refused', '"postgres://app:***@db/chat" refused'],
    // malformed URLs are never half-shown
    ['postgres://app:secret', 'postgres://app:***'],
    ['cannot parse postgres://app:secret and give up', 'cannot parse postgres://app:*** and give up'],
    ['postgres://app:pass word@db/chat is down', 'postgres://app:***@db/chat is down'],
    // an '@' in the query makes the URL ambiguous: more is hidden rather than less
    ['postgres://app:pw@db/chat?application_name=a@b', 'postgres://app:***@b'],
    // nothing to hide
    ['postgres://bob@db/chat', 'postgres://bob@db/chat'],
    ['sqlite://./data/a@b.db?durability=normal', 'sqlite://./data/a@b.db?durability=normal'],
    ['redis://cache:6379/0?x=a@b', 'redis://cache:6379/0?x=a@b'],
    ['postgres://[::1]:5432,h2:5433/db?password=x', 'postgres://[::1]:5432,h2:5433/db?password=***'],
    ['memory://', 'memory://'],
    [
      'origin "https://App.example.com:443" (see https://h:8443).',
      'origin "https://App.example.com:443" (see https://h:8443).',
    ],
    ['in "postgres://app:secret" quoted', 'in "postgres://app:*** quoted'],
    ['no URL here, user:pass@host', 'no URL here, user:pass@host'],
  ])('%s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });
});

describe('message ids', () => {
  it('are UUIDv7: version 7, RFC variant, the creation time in the first 48 bits, unique', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, () => newMessageId());
    const after = Date.now();
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const time = Number.parseInt(ids[0]?.replace('-', '').slice(0, 12) ?? '', 16);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
    expect(new Set(ids).size).toBe(ids.length);
  });
  it('sort by creation time across milliseconds', async () => {
    const first = newMessageId();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(newMessageId() > first).toBe(true);
  });
});

describe('untilUnchanged (the one optimistic update loop)', () => {
  it('runs the step again while it reports CHANGED, then returns its value', async () => {
    let calls = 0;
    const value = await untilUnchanged('message m1', async () => (++calls < 3 ? CHANGED : 'stored'));
    expect({ value, calls }).toEqual({ value: 'stored', calls: 3 });
  });

  it('gives up with CONFLICT naming the record after OPTIMISTIC_ATTEMPTS lost rounds', async () => {
    let calls = 0;
    const attempt = untilUnchanged('conversation c1', async () => {
      calls++;
      return CHANGED;
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `conversation c1 kept changing; gave up after ${OPTIMISTIC_ATTEMPTS} attempts`,
    });
    expect(calls).toBe(OPTIMISTIC_ATTEMPTS);
  });
});
