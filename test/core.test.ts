import { describe, expect, it } from 'vitest';
import { CHANGED, OPTIMISTIC_ATTEMPTS, untilUnchanged } from '../src/backends/optimistic.js';
import { commandDetector } from '../src/commands.js';
import { decodeCursor, encodeCursor } from '../src/cursor.js';
import { ChatStoreError, redact } from '../src/errors.js';
import { newMessageId } from '../src/ids.js';
import { applyMergePatch } from '../src/merge-patch.js';
import { MESSAGE_STATUSES } from '../src/model.js';
import { DEFAULT_URL, openStore, parseStoreUrl } from '../src/open.js';
import { nextStatus } from '../src/status.js';
import { searchTerms, utf8Length } from '../src/text.js';
import { approximateTokens } from '../src/tokens.js';
import { normalizeTime } from '../src/validate.js';

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
