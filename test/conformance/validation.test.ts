/** Bad input is INVALID_ARGUMENT with the failing field's path, and stores nothing (limits in docs/api.md; invariant 7 in docs/ARCHITECTURE.md). */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { JsonObject, JsonValue, NewMessage } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, expectError, freshStore, listAll, range } from './harness.js';

const long = (n: number, char = 'i'): string => char.repeat(n);
const user = (extra: Record<string, unknown>): NewMessage => ({ role: 'user', content: 'ok', ...extra }) as NewMessage;

class Money {
  amount = 1;
}

/** `{ d: { d: … leaf } }`: `leaf` at the end of a path of `levels` keys. */
const nested = (levels: number, leaf: JsonValue = 1): JsonObject =>
  (levels === 0 ? leaf : { d: nested(levels - 1, leaf) }) as JsonObject;
/** `[[… leaf]]`: `leaf` at the end of a path of `levels` indexes. */
const nestedArray = (levels: number, leaf: JsonValue = 1): JsonValue =>
  levels === 0 ? leaf : [nestedArray(levels - 1, leaf)];
/** The default `maxJsonDepth`. */
const DEPTH = 20;

/** [what, the call, the expected path]; every call targets conversation 'fresh' or 'existing'. */
const APPEND_CASES: [string, (store: ChatStoreApi) => Promise<unknown>, string][] = [
  ['empty conversationId', (s) => s.append('', user({})), 'conversationId'],
  ['conversationId of 256 chars', (s) => s.append(long(256), user({})), 'conversationId'],
  ['conversationId with NUL', (s) => s.append('a\u0000b', user({})), 'conversationId'],
  ['empty id', (s) => s.append('fresh', user({ id: '' })), 'message.id'],
  ['id of 256 chars', (s) => s.append('fresh', user({ id: long(256) })), 'message.id'],
  ['id with a lone surrogate', (s) => s.append('fresh', user({ id: 'a\uD800' })), 'message.id'],
  ['empty externalId', (s) => s.append('fresh', user({ externalId: '' })), 'message.externalId'],
  ['externalId of 256 chars', (s) => s.append('fresh', user({ externalId: long(256) })), 'message.externalId'],
  ['senderId of 256 chars', (s) => s.append('fresh', user({ senderId: long(256) })), 'message.senderId'],
  ['recipientId empty', (s) => s.append('fresh', user({ recipientId: '' })), 'message.recipientId'],
  ['replyTo of 256 chars', (s) => s.append('fresh', user({ replyTo: long(256) })), 'message.replyTo'],
  ['NUL in content', (s) => s.append('fresh', user({ content: 'a\u0000b' })), 'message.content'],
  ['lone high surrogate in content', (s) => s.append('fresh', user({ content: 'a\uD83D' })), 'message.content'],
  ['lone low surrogate in content', (s) => s.append('existing', user({ content: '\uDE00b' })), 'message.content'],
  ['content that is not a string', (s) => s.append('fresh', user({ content: 42 })), 'message.content'],
  ['content of 65,537 ASCII bytes', (s) => s.append('fresh', user({ content: long(65_537, 'a') })), 'message.content'],
  [
    'content of 65,537 bytes of 2-byte chars',
    (s) => s.append('fresh', user({ content: `${long(32_768, 'é')}a` })),
    'message.content',
  ],
  [
    'content of 65,537 bytes of 3-byte chars',
    (s) => s.append('fresh', user({ content: `${long(21_845, '€')}aa` })),
    'message.content',
  ],
  [
    'content of 65,537 bytes of 4-byte chars',
    (s) => s.append('existing', user({ content: `${'😀'.repeat(16_384)}a` })),
    'message.content',
  ],
  [
    'NUL in a metadata value',
    (s) => s.append('fresh', user({ metadata: { note: 'a\u0000b' } })),
    'message.metadata.note',
  ],
  [
    'NUL in a nested metadata value',
    (s) => s.append('fresh', user({ metadata: { a: { b: ['ok', 'x\u0000'] } } })),
    'message.metadata.a.b[1]',
  ],
  ['NUL in a metadata key', (s) => s.append('fresh', user({ metadata: { 'k\u0000': 1 } })), 'message.metadata.k\u0000'],
  [
    'lone surrogate in a metadata key',
    (s) => s.append('fresh', user({ metadata: { ok: { '\uD800': 1 } } })),
    'message.metadata.ok.\uD800',
  ],
  ['NaN in metadata', (s) => s.append('fresh', user({ metadata: { n: Number.NaN } })), 'message.metadata.n'],
  [
    'Infinity in metadata',
    (s) => s.append('existing', user({ metadata: { deep: { x: Number.POSITIVE_INFINITY } } })),
    'message.metadata.deep.x',
  ],
  [
    '-Infinity in parts',
    (s) => s.append('fresh', user({ parts: [{ v: Number.NEGATIVE_INFINITY }] })),
    'message.parts[0].v',
  ],
  ['a Date in metadata', (s) => s.append('fresh', user({ metadata: { when: new Date() } })), 'message.metadata.when'],
  [
    'a Map in metadata',
    (s) => s.append('fresh', user({ metadata: { map: new Map([[1, 2]]) } })),
    'message.metadata.map',
  ],
  [
    'a class instance in metadata',
    (s) => s.append('fresh', user({ metadata: { m: new Money() } })),
    'message.metadata.m',
  ],
  ['undefined in metadata', (s) => s.append('fresh', user({ metadata: { u: undefined } })), 'message.metadata.u'],
  ['a function in metadata', (s) => s.append('fresh', user({ metadata: { f: () => 1 } })), 'message.metadata.f'],
  ['a bigint in metadata', (s) => s.append('fresh', user({ metadata: { b: 1n } })), 'message.metadata.b'],
  ['metadata that is an array', (s) => s.append('fresh', user({ metadata: [1] })), 'message.metadata'],
  ['metadata that is a Date', (s) => s.append('fresh', user({ metadata: new Date() })), 'message.metadata'],
  ['parts that is not an array', (s) => s.append('fresh', user({ parts: { type: 'text' } })), 'message.parts'],
  [
    'metadata + parts over 256 KiB',
    (s) => s.append('fresh', user({ metadata: { a: long(140_000) }, parts: [long(140_000)] })),
    'message',
  ],
  ['metadata alone over 256 KiB', (s) => s.append('existing', user({ metadata: { a: long(262_145) } })), 'message'],
  [
    'metadata nested deeper than 20 levels',
    (s) => s.append('fresh', user({ metadata: nested(70, {}) })),
    `message.metadata${'.d'.repeat(DEPTH + 1)}`,
  ],
  [
    'metadata nested 21 levels',
    (s) => s.append('fresh', user({ metadata: nested(DEPTH + 1) })),
    `message.metadata${'.d'.repeat(DEPTH + 1)}`,
  ],
  [
    'a part nested 21 levels',
    (s) => s.append('existing', user({ parts: ['ok', nestedArray(DEPTH + 1)] })),
    `message.parts[1]${'[0]'.repeat(DEPTH + 1)}`,
  ],
  [
    'conversation metadata nested 21 levels',
    (s) => s.append('fresh', user({}), { conversation: { metadata: nested(DEPTH + 1, []) } }),
    `conversation.metadata${'.d'.repeat(DEPTH + 1)}`,
  ],
  [
    'more than 1000 messages in one call',
    (s) =>
      s.append(
        'fresh',
        range(1, 1001).map(() => user({})),
      ),
    'messages',
  ],
  ['an empty batch', (s) => s.append('fresh', []), 'messages'],
  ['neither role nor direction', (s) => s.append('fresh', { content: 'who am I' }), 'message'],
  ['an unknown role', (s) => s.append('fresh', user({ role: 'bot' })), 'message.role'],
  ['an unknown direction', (s) => s.append('fresh', user({ direction: 'sideways' })), 'message.direction'],
  ['an unknown field', (s) => s.append('fresh', user({ colour: 'red' })), 'message.colour'],
  ['an unknown field in a batch', (s) => s.append('existing', [user({}), user({ text: 'x' })]), 'messages[1].text'],
  ['a message that is not an object', (s) => s.append('fresh', 'hello' as unknown as NewMessage), 'message'],
  ['a null message', (s) => s.append('fresh', null as unknown as NewMessage), 'message'],
  ['createdAt in words', (s) => s.append('fresh', user({ createdAt: 'yesterday' })), 'message.createdAt'],
  [
    'createdAt without a zone',
    (s) => s.append('fresh', user({ createdAt: '2026-01-01T10:00:00' })),
    'message.createdAt',
  ],
  [
    'createdAt impossible date',
    (s) => s.append('fresh', user({ createdAt: '2026-13-45T00:00:00Z' })),
    'message.createdAt',
  ],
  [
    'createdAt on February 30th',
    (s) => s.append('fresh', user({ createdAt: '2026-02-30T00:00:00Z' })),
    'message.createdAt',
  ],
  [
    'createdAt on April 31st',
    (s) => s.append('fresh', user({ createdAt: '2026-04-31T12:00:00.000Z' })),
    'message.createdAt',
  ],
  [
    'createdAt on February 29th of a common year',
    (s) => s.append('fresh', user({ createdAt: '2026-02-29T00:00:00+01:00' })),
    'message.createdAt',
  ],
  [
    'createdAt on February 29th of a century that is not a leap year',
    (s) => s.append('fresh', user({ createdAt: '2100-02-29T00:00:00Z' })),
    'message.createdAt',
  ],
  [
    'createdAt as a bare impossible date',
    (s) => s.append('fresh', user({ createdAt: '2026-02-30' })),
    'message.createdAt',
  ],
  ['createdAt in month 0', (s) => s.append('fresh', user({ createdAt: '2026-00-10T00:00:00Z' })), 'message.createdAt'],
  ['createdAt on day 0', (s) => s.append('fresh', user({ createdAt: '2026-01-00T00:00:00Z' })), 'message.createdAt'],
  ['createdAt at 24:00', (s) => s.append('fresh', user({ createdAt: '2026-01-01T24:00:00Z' })), 'message.createdAt'],
  ['createdAt at minute 60', (s) => s.append('fresh', user({ createdAt: '2026-01-01T10:60Z' })), 'message.createdAt'],
  [
    'createdAt on a leap second',
    (s) => s.append('fresh', user({ createdAt: '2016-12-31T23:59:60Z' })),
    'message.createdAt',
  ],
  [
    'createdAt with an offset of 24 hours',
    (s) => s.append('fresh', user({ createdAt: '2026-01-01T10:00:00+24:00' })),
    'message.createdAt',
  ],
  [
    'createdAt with an offset of 60 minutes',
    (s) => s.append('fresh', user({ createdAt: '2026-01-01T10:00:00-05:60' })),
    'message.createdAt',
  ],
  [
    'a statusAt time on February 30th',
    (s) =>
      s.append('fresh', {
        role: 'assistant',
        content: 'x',
        status: 'sent',
        statusAt: { delivered: '2026-02-30T10:00:00Z' },
      }),
    'message.statusAt.delivered',
  ],
  ['createdAt invalid Date', (s) => s.append('fresh', user({ createdAt: new Date('nope') })), 'message.createdAt'],
  ['createdAt NaN', (s) => s.append('fresh', user({ createdAt: Number.NaN })), 'message.createdAt'],
  ['createdAt past year 9999', (s) => s.append('fresh', user({ createdAt: 253_402_300_800_000 })), 'message.createdAt'],
  ['createdAt a boolean', (s) => s.append('fresh', user({ createdAt: true })), 'message.createdAt'],
  ['media without url', (s) => s.append('fresh', user({ media: [{ type: 'image' }] })), 'message.media[0].url'],
  [
    'media with empty url',
    (s) => s.append('fresh', user({ media: [{ url: '', type: 'image' }] })),
    'message.media[0].url',
  ],
  ['media without type', (s) => s.append('fresh', user({ media: [{ url: 'https://x/y' }] })), 'message.media[0].type'],
  [
    'media with a negative size',
    (s) => s.append('fresh', user({ media: [{ url: 'https://x/y', type: 'image', size: -1 }] })),
    'message.media[0].size',
  ],
  [
    'media with a bad sha256',
    (s) => s.append('fresh', user({ media: [{ url: 'https://x/y', type: 'image', sha256: 'abc' }] })),
    'message.media[0].sha256',
  ],
  [
    'media with inline bytes',
    (s) => s.append('fresh', user({ media: [{ url: 'https://x/y', type: 'image', data: 'AAAA' }] })),
    'message.media[0].data',
  ],
  ['media that is not an array', (s) => s.append('fresh', user({ media: { url: 'x', type: 'y' } })), 'message.media'],
  ['an unknown status', (s) => s.append('fresh', user({ status: 'seen' })), 'message.status'],
  ['an error without message', (s) => s.append('fresh', user({ error: { code: '1' } })), 'message.error.message'],
  ['a command without admin', (s) => s.append('fresh', user({ command: { name: 'help' } })), 'message.command.admin'],
  [
    'a bad message in a batch',
    (s) => s.append('existing', [user({}), user({}), user({ role: 'robot' })]),
    'messages[2].role',
  ],
  ['a negative expectedLastSeq', (s) => s.append('fresh', user({}), { expectedLastSeq: -1 }), 'expectedLastSeq'],
  ['a fractional expectedLastSeq', (s) => s.append('existing', user({}), { expectedLastSeq: 1.5 }), 'expectedLastSeq'],
  [
    'an empty conversation type',
    (s) => s.append('fresh', user({}), { conversation: { type: '' } }),
    'conversation.type',
  ],
  [
    'an unknown conversation field',
    (s) => s.append('fresh', user({}), { conversation: { name: 'x' } as never }),
    'conversation.name',
  ],
  [
    'a participant with an empty id',
    (s) => s.append('fresh', user({}), { conversation: { participants: [{ id: '' }] } }),
    'conversation.participants[0].id',
  ],
];

/** [what, the call, the expected path] for calls other than append. */
const OTHER_CASES: [string, (store: ChatStoreApi) => Promise<unknown>, string][] = [
  ['list limit 0', (s) => s.list('existing', { limit: 0 }), 'limit'],
  ['list limit 1001', (s) => s.list('existing', { limit: 1001 }), 'limit'],
  ['list limit 1.5', (s) => s.list('existing', { limit: 1.5 }), 'limit'],
  ['list limit NaN', (s) => s.list('existing', { limit: Number.NaN }), 'limit'],
  ['list limit as text', (s) => s.list('existing', { limit: '10' as unknown as number }), 'limit'],
  ['recent 0', (s) => s.recent('existing', 0), 'n'],
  ['recent 1001', (s) => s.recent('existing', 1001), 'n'],
  ['recent 1.5', (s) => s.recent('existing', 1.5), 'n'],
  ['context maxMessages 1001', (s) => s.context('existing', { maxMessages: 1001 }), 'maxMessages'],
  ['search limit 1.5', (s) => s.search('ok', { limit: 1.5 }), 'limit'],
  ['get an empty id', (s) => s.get(''), 'id'],
  ['get an id of 256 chars', (s) => s.get(long(256)), 'id'],
  ['getByExternalId empty', (s) => s.getByExternalId(''), 'externalId'],
  ['recent of a conversationId of 256 chars', (s) => s.recent(long(256)), 'conversationId'],
  ['edit with nothing to change', (s) => s.edit('m1', {}), 'changes'],
  ['edit with NUL content', (s) => s.edit('m1', { content: 'a\u0000' }), 'content'],
  ['edit with content over 64 KiB', (s) => s.edit('m1', { content: long(65_537) }), 'content'],
  ['edit with NaN metadata', (s) => s.edit('m1', { metadata: { n: Number.NaN } }), 'metadata.n'],
  ['edit with parts that are not an array', (s) => s.edit('m1', { parts: { type: 'text' } as never }), 'parts'],
  ['edit with -Infinity in parts', (s) => s.edit('m1', { parts: [{ v: Number.NEGATIVE_INFINITY }] }), 'parts[0].v'],
  ['edit with a NUL in a part', (s) => s.edit('m1', { parts: ['a\u0000'] }), 'parts[0]'],
  ['edit with a Date in a part', (s) => s.edit('m1', { parts: [{ at: new Date(0) }] }), 'parts[0].at'],
  ['edit with parts over 256 KiB', (s) => s.edit('m1', { parts: [long(262_144)] }), 'parts'],
  [
    'edit with new content and one bad part (the content is not stored either)',
    (s) => s.edit('m1', { content: 'changed', parts: [{ type: 'text', text: 'changed' }, Number.NaN] }),
    'parts[1]',
  ],
  [
    'edit with parts and metadata each within 256 KiB but not together',
    (s) => s.edit('m1', { parts: [long(140_000)], metadata: { a: long(140_000) } }),
    'metadata',
  ],
  ['createConversation with an id of 256 chars', (s) => s.createConversation(long(256)), 'id'],
  ['updateConversation with an unknown field', (s) => s.updateConversation('existing', { x: 1 } as never), 'patch.x'],
  ['stats of an empty conversationId', (s) => s.stats(''), 'conversationId'],
  ['updateStatus at on April 31st', (s) => s.updateStatus('m1', 'read', { at: '2026-04-31T10:00:00Z' }), 'at'],
  ['updateStatus at 24:00', (s) => s.updateStatus('m1', 'read', { at: '2026-04-30T24:00:00Z' }), 'at'],
  ['list from on February 29th of 2026', (s) => s.list('existing', { from: '2026-02-29T00:00:00Z' }), 'from'],
  ['list to on February 30th', (s) => s.list('existing', { to: '2026-02-30' }), 'to'],
  ['search from on April 31st', (s) => s.search('ok', { from: '2026-04-31T00:00:00Z' }), 'from'],
  ['search to at 24:00', (s) => s.search('ok', { to: '2026-01-01T24:00:00Z' }), 'to'],
  [
    'export from on February 30th',
    (s) => s.export({ from: '2026-02-30T00:00:00Z' })[Symbol.asyncIterator]().next(),
    'from',
  ],
  ['export to on June 31st', (s) => s.export({ to: '2026-06-31T00:00:00Z' })[Symbol.asyncIterator]().next(), 'to'],
  [
    'edit with metadata nested 21 levels',
    (s) => s.edit('m1', { metadata: nested(DEPTH + 1) }),
    `metadata${'.d'.repeat(DEPTH + 1)}`,
  ],
  [
    'edit with parts nested 21 levels',
    (s) => s.edit('m1', { parts: ['ok', nestedArray(DEPTH + 1)] }),
    `parts[1]${'[0]'.repeat(DEPTH + 1)}`,
  ],
  [
    'createConversation with metadata nested 21 levels',
    (s) => s.createConversation('fresh', { metadata: nested(DEPTH + 1) }),
    `conversation.metadata${'.d'.repeat(DEPTH + 1)}`,
  ],
  [
    'updateConversation with metadata nested 21 levels',
    (s) => s.updateConversation('existing', { metadata: { ok: 1, deep: nested(DEPTH, [0]) } }),
    `patch.metadata.deep${'.d'.repeat(DEPTH)}`,
  ],
  ['eraseSubject of an empty id', (s) => s.eraseSubject(''), 'participantId'],
];

describe.each(backends)('validation on $name', (entry) => {
  async function withExisting(): Promise<ChatStoreApi> {
    const store = await freshStore(entry, atT0);
    await store.append('existing', { id: 'm1', role: 'user', content: 'ok', metadata: { keep: true } });
    return store;
  }

  async function expectNothingStored(store: ChatStoreApi): Promise<void> {
    expect(await store.getConversation('fresh')).toBeUndefined();
    expect((await store.listConversations({ includeDeleted: true })).conversations.map((c) => c.id)).toEqual([
      'existing',
    ]);
    expect(await store.getConversation('existing')).toMatchObject({ lastSeq: 1, messageCount: 1 });
    expect(await listAll(store, 'existing', { includeDeleted: true })).toStrictEqual([
      {
        id: 'm1',
        conversationId: 'existing',
        seq: 1,
        role: 'user',
        direction: 'incoming',
        content: 'ok',
        metadata: { keep: true },
        createdAt: expect.any(String),
      },
    ]);
    expect((await store.stats()).total).toBe(1);
  }

  test.each(APPEND_CASES)('append rejects %s', async (_what, call, path) => {
    const store = await withExisting();
    const error = await expectError(call(store), 'INVALID_ARGUMENT', path);
    expect(error.message).toContain(path.split(/[.[]/)[0]);
    await expectNothingStored(store);
  });

  test.each(OTHER_CASES)('rejects %s', async (_what, call, path) => {
    const store = await withExisting();
    await expectError(call(store), 'INVALID_ARGUMENT', path);
    await expectNothingStored(store);
  });

  test('the limits themselves are accepted and stored whole', async () => {
    const store = await freshStore(entry, atT0);
    const contents = [long(65_536, 'a'), long(32_768, 'é'), `${long(21_845, '€')}a`, '😀'.repeat(16_384)];
    const results = await store.append(long(255, 'c'), [
      ...contents.map((content) => ({ role: 'user' as const, content })),
      {
        id: long(255, 'm'),
        externalId: long(255, 'x'),
        senderId: long(255, 's'),
        role: 'user',
        content: '',
        metadata: { a: long(120_000) },
        parts: [long(120_000)],
      },
    ]);
    const stored = await listAll(store, long(255, 'c'));
    expect(stored).toStrictEqual(results.map((r) => r.message));
    expect(stored.map((m) => m.content)).toEqual([...contents, '']);
    expect(stored[4]?.id).toBe(long(255, 'm'));
    expect(stored[4]?.metadata).toStrictEqual({ a: long(120_000) });

    const batch = await store.append(
      'big-batch',
      range(1, 1000).map((i) => ({ role: 'user' as const, content: `${i}` })),
    );
    expect(batch).toHaveLength(1000);
    expect((await store.getConversation('big-batch'))?.lastSeq).toBe(1000);
  });

  test('real calendar dates at the edges are accepted, leap days included', async () => {
    const store = await freshStore(entry, atT0);
    const given: [string, string][] = [
      ['2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
      ['2000-02-29', '2000-02-29T00:00:00.000Z'],
      ['2026-02-28T23:59:59.999Z', '2026-02-28T23:59:59.999Z'],
      ['2026-04-30T23:59Z', '2026-04-30T23:59:00.000Z'],
      ['2026-12-31T23:59:59+00:00', '2026-12-31T23:59:59.000Z'],
      ['2026-03-01T05:29:59+05:30', '2026-02-28T23:59:59.000Z'],
      ['2026-02-28T20:00:00-0400', '2026-03-01T00:00:00.000Z'],
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
      ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ];
    const results = await store.append(
      'c1',
      given.map(([createdAt]) => ({ role: 'user' as const, content: 'x', createdAt })),
    );
    expect(results.map((r) => r.message.createdAt)).toEqual(given.map(([, stored]) => stored));
    expect((await listAll(store, 'c1')).map((m) => m.createdAt)).toEqual(given.map(([, stored]) => stored));
    expect(
      (await store.list('c1', { from: '2028-02-29', to: '2028-03-01T00:00:00Z' })).messages.map((m) => m.seq),
    ).toEqual([1]);
    const [sent] = await store.append('c1', { role: 'assistant', content: 'y' });
    const updated = await store.updateStatus(sent?.message.id as string, 'read', { at: '2024-02-29T23:59:59+01:00' });
    expect(updated.statusAt).toStrictEqual({ read: '2024-02-29T22:59:59.000Z' });
  });

  test('JSON nested exactly maxJsonDepth levels is stored and read back whole; one more is refused', async () => {
    const store = await freshStore(entry, atT0);
    const metadata = { top: 1, deep: nested(DEPTH - 1, []) };
    const parts = [nestedArray(DEPTH, {}), { deep: nested(DEPTH - 2, { last: [] }) }];
    const conversation = nested(DEPTH, []);
    const [result] = await store.append(
      'c1',
      { id: 'deep', role: 'user', content: 'deep', metadata, parts },
      { conversation: { metadata: conversation } },
    );
    expect(result?.message).toMatchObject({ metadata, parts });
    expect(await store.get('deep')).toStrictEqual(result?.message);
    expect(await listAll(store, 'c1')).toStrictEqual([result?.message]);
    expect((await store.getConversation('c1'))?.metadata).toStrictEqual(conversation);

    const patch = { other: nested(DEPTH - 2, { x: 1 }) };
    const updated = await store.updateConversation('c1', { metadata: patch });
    expect(updated.metadata).toStrictEqual({ ...conversation, ...patch });
    expect(await store.getConversation('c1')).toStrictEqual(updated);
    const edited = await store.edit('deep', { metadata: { top: nested(DEPTH - 1, []) } });
    expect(edited.metadata).toStrictEqual({ top: nested(DEPTH - 1, []), deep: metadata.deep });
    expect(await store.get('deep')).toStrictEqual(edited);
    await store.createConversation('c2', { metadata: conversation });
    expect((await store.getConversation('c2'))?.metadata).toStrictEqual(conversation);

    // One level more, in each place: refused, nothing changed.
    const tooDeep = `${'.d'.repeat(DEPTH)}[0]`;
    await expectError(
      store.append('c1', { role: 'user', content: 'x', metadata: { deep: nested(DEPTH - 1, [1]) } }),
      'INVALID_ARGUMENT',
      `message.metadata.deep${'.d'.repeat(DEPTH - 1)}[0]`,
    );
    await expectError(
      store.updateConversation('c1', { metadata: nested(DEPTH, [1]) }),
      'INVALID_ARGUMENT',
      `patch.metadata${tooDeep}`,
    );
    await expectError(store.edit('deep', { metadata: nested(DEPTH, [1]) }), 'INVALID_ARGUMENT', `metadata${tooDeep}`);
    expect(await listAll(store, 'c1')).toStrictEqual([edited]);
    expect(await store.getConversation('c1')).toStrictEqual(updated);
  });

  test('the deepest maxJsonDepth a store accepts (28) is held by every engine', async () => {
    const store = await freshStore(entry, { ...atT0, limits: { maxJsonDepth: 28 } });
    const metadata = nested(28, []);
    const parts = [nestedArray(28, {}), nestedArray(28, [])];
    const [result] = await store.append(
      'c1',
      { id: 'deepest', role: 'user', content: 'deepest', metadata, parts },
      { conversation: { metadata } },
    );
    expect(result?.message).toMatchObject({ metadata, parts });
    expect(await store.get('deepest')).toStrictEqual(result?.message);
    expect(await listAll(store, 'c1')).toStrictEqual([result?.message]);
    const updated = await store.updateConversation('c1', { metadata: { more: nested(27, {}) } });
    expect(updated.metadata).toStrictEqual({ ...metadata, more: nested(27, {}) });
    expect(await store.getConversation('c1')).toStrictEqual(updated);
    await expectError(
      store.append('c1', { role: 'user', content: 'x', parts: [nestedArray(29)] }),
      'INVALID_ARGUMENT',
      `message.parts[0]${'[0]'.repeat(29)}`,
    );
    expect((await store.getConversation('c1'))?.lastSeq).toBe(1);
  });

  test('a store built with smaller limits enforces them', async () => {
    const store = await freshStore(entry, {
      ...atT0,
      limits: { maxContentBytes: 10, maxBatchSize: 2, maxIdLength: 5 },
    });
    if (entry.namesIds === true) {
      // Ids named before the store (UUIDv7, 36 characters) are checked like the caller's.
      await expectError(store.append('c1', { role: 'user', content: 'x' }), 'INVALID_ARGUMENT', 'message.id');
      await store.append('c1', { id: 'm1', role: 'user', content: long(10) });
    } else {
      await store.append('c1', { role: 'user', content: long(10) });
    }
    await expectError(
      store.append('c1', { id: 'm2', role: 'user', content: long(11) }),
      'INVALID_ARGUMENT',
      'message.content',
    );
    await expectError(store.append('c1', [user({}), user({}), user({})]), 'INVALID_ARGUMENT', 'messages');
    await expectError(store.append('c1', user({ id: '123456' })), 'INVALID_ARGUMENT', 'message.id');
    await expectError(store.append('c-long', user({})), 'INVALID_ARGUMENT', 'conversationId');
    expect((await store.getConversation('c1'))?.lastSeq).toBe(1);
  });
});
