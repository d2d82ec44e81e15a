/** Every field comes back exactly as given, through every read path; edits; a closed store (docs/api.md; invariants 6–7 in docs/ARCHITECTURE.md). */
import { describe, expect, test } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import type { JsonObject, JsonValue, Message, NewMessage } from '../../src/model.js';
import { backends } from './backends.js';
import { atT0, expectError, expectNoHits, expectSearch, freshStore, T0, tickingClock } from './harness.js';

const TRICKY_TEXT = [
  'emoji 👋🏽 family 👨‍👩‍👧‍👦 flag 🏳️‍🌈 astral 𝄞 😀',
  'RTL: مرحبا بالعالم — שלום עולם',
  'combining: e\u0301 a\u0308 n\u0303 (not NFC) vs é ä ñ; ZWJ\u200Djoined; BOM\uFEFF; bidi\u202Emark',
  'quotes \' " ` backslash \\ newline\n tab\t CR\r control \u0001 and \u007F',
  'SQL-ish: \'; DROP TABLE messages; -- and {"json": true} and <mark>html</mark> and %_ wildcards',
  'CJK 漢字かなカナ 한국어, Devanagari हिन्दी, Thai ภาษาไทย',
].join('\n');

const NESTED_METADATA: JsonObject = {
  ключ: { 日本: [1, 0.1, 1e21, -5, 1.5e-7, 0, 9007199254740991, -1.25, true, false, null, 'str', { deep: [[[]]] }] },
  '🔑': 'value 🔒',
  '': 'empty key',
  '10': 'numeric-looking key',
  'with.dot': { 'and[bracket]': 'x' },
  emptyObject: {},
  emptyArray: [],
  text: TRICKY_TEXT,
  nested: { a: { b: { c: { d: { e: { f: 'deep' } } } } } },
};

const AI_SDK_PARTS: JsonValue[] = [
  { type: 'text', text: 'Let me check the weather.' },
  { type: 'reasoning', text: 'The user wants Lima.', providerMetadata: { openai: { itemId: 'rs_123' } } },
  {
    type: 'tool-call',
    toolCallId: 'call_1',
    toolName: 'getWeather',
    input: { city: 'Lima', units: 'metric', days: [1, 2, 3] },
  },
  {
    type: 'tool-result',
    toolCallId: 'call_1',
    toolName: 'getWeather',
    output: { type: 'json', value: { temp: 18.5, conditions: ['cloudy', 'humid'], alerts: null } },
  },
  'a bare string part',
  42,
  null,
];

const SHA = 'ab'.repeat(32);

describe.each(backends)('round trip on $name', (entry) => {
  /** Every read path returns `expected` for the message with this id. */
  async function expectEverywhere(store: ChatStoreApi, expected: Message, searchWord?: string): Promise<void> {
    expect(await store.get(expected.id)).toStrictEqual(expected);
    expect((await store.list(expected.conversationId, { after: expected.seq - 1, limit: 1 })).messages).toStrictEqual([
      expected,
    ]);
    expect(
      (await store.list(expected.conversationId, { order: 'desc', before: expected.seq + 1, limit: 1 })).messages,
    ).toStrictEqual([expected]);
    expect(await store.around(expected.conversationId, expected.seq, { before: 0, after: 0 })).toStrictEqual([
      expected,
    ]);
    expect(await store.around(expected.conversationId, expected.id, { before: 0, after: 0 })).toStrictEqual([expected]);
    const exported: Message[] = [];
    for await (const message of store.export({ conversationId: expected.conversationId })) exported.push(message);
    expect(exported.find((m) => m.id === expected.id)).toStrictEqual(expected);
    if (expected.externalId !== undefined) {
      expect(await store.getByExternalId(expected.externalId, expected.conversationId)).toStrictEqual(expected);
    }
    if (searchWord !== undefined) {
      await expectSearch(
        entry,
        () => store.search(searchWord, { conversationId: expected.conversationId }),
        (page) => expect(page.hits.map((h) => h.message)).toContainEqual(expected),
      );
    }
  }

  test('every field of a message comes back exactly, through every read', async () => {
    const store = await freshStore(entry, atT0);
    const [target] = await store.append('c1', { id: 'target', role: 'user', content: 'the original' });
    const input: NewMessage = {
      id: 'full-1',
      externalId: 'wamid.HBgMNTQ5MTE=',
      role: 'assistant',
      direction: 'outgoing',
      senderId: 'bot',
      recipientId: '+5491100000000',
      content: TRICKY_TEXT,
      parts: AI_SDK_PARTS,
      media: [
        {
          url: 'https://cdn.example/a/b.jpg?sig=x&y=%20',
          type: 'image',
          mimeType: 'image/jpeg',
          size: 123456,
          sha256: SHA,
          providerId: 'wa-media-1',
        },
        { url: 'https://cdn.example/v.mp4', type: 'video', size: 0 },
      ],
      status: 'delivered',
      error: { code: '131026', message: 'Message undeliverable — ünicode' },
      replyTo: target?.message.id as string,
      command: { name: 'weather', admin: false },
      metadata: NESTED_METADATA,
      createdAt: '2026-06-01T12:30:45.123+05:30',
    };
    const [result] = await store.append('c1', input);
    const expected: Message = {
      id: 'full-1',
      conversationId: 'c1',
      seq: 2,
      externalId: 'wamid.HBgMNTQ5MTE=',
      role: 'assistant',
      direction: 'outgoing',
      senderId: 'bot',
      recipientId: '+5491100000000',
      content: TRICKY_TEXT,
      parts: AI_SDK_PARTS,
      media: input.media as NonNullable<NewMessage['media']>,
      status: 'delivered',
      statusAt: { delivered: '2026-06-01T07:00:45.123Z' },
      error: { code: '131026', message: 'Message undeliverable — ünicode' },
      replyTo: 'target',
      command: { name: 'weather', admin: false },
      metadata: NESTED_METADATA,
      createdAt: '2026-06-01T07:00:45.123Z',
    };
    expect(result).toStrictEqual({ message: expected, duplicate: false });
    await expectEverywhere(store, expected, 'emoji');
    expect(result?.message.content).toBe(TRICKY_TEXT);
    expect(result?.message.content.normalize('NFC')).not.toBe(TRICKY_TEXT);
    expect(await store.append('c1', input)).toStrictEqual([{ message: expected, duplicate: true }]);
  });

  test('64 KiB contents and large structured data come back whole', async () => {
    const store = await freshStore(entry, atT0);
    const contents = ['a'.repeat(65_536), '😀'.repeat(16_384), `${'é'.repeat(32_767)}zz`, '👨‍👩‍👧‍👦'.repeat(2_621)];
    const bigMetadata: JsonObject = { list: Array.from({ length: 2000 }, (_, i) => ({ i, v: `value ${i} ✓` })) };
    const results = await store.append(
      'c1',
      contents.map((content, i) => ({ role: 'user' as const, content, ...(i === 0 ? { metadata: bigMetadata } : {}) })),
    );
    for (const [i, result] of results.entries()) {
      expect(result.message.content).toBe(contents[i]);
      await expectEverywhere(store, result.message);
    }
    expect(results[0]?.message.metadata).toStrictEqual(bigMetadata);
  });

  test('times given as Date, epoch ms or with an offset are stored as ISO UTC with milliseconds', async () => {
    const store = await freshStore(entry, atT0);
    const cases: [NewMessage['createdAt'], string][] = [
      [new Date('2026-02-03T04:05:06.789Z'), '2026-02-03T04:05:06.789Z'],
      [Date.UTC(2026, 1, 3, 4, 5, 6, 7), '2026-02-03T04:05:06.007Z'],
      [0, '1970-01-01T00:00:00.000Z'],
      ['2026-02-03T04:05:06+02:00', '2026-02-03T02:05:06.000Z'],
      ['2026-02-03T04:05:06.5-0330', '2026-02-03T07:35:06.500Z'],
      ['2026-02-03T04:05Z', '2026-02-03T04:05:00.000Z'],
      ['2026-02-03T04:05:06.123456789Z', '2026-02-03T04:05:06.123Z'],
      ['2026-02-03', '2026-02-03T00:00:00.000Z'],
      [undefined, T0],
    ];
    for (const [createdAt, iso] of cases) {
      const [result] = await store.append('c1', {
        role: 'user',
        content: 'x',
        ...(createdAt === undefined ? {} : { createdAt }),
      });
      expect(result?.message.createdAt).toBe(iso);
      await expectEverywhere(store, result?.message as Message);
    }
    // statusAt given with the message keeps the times given, normalized, besides the status's own.
    const withTimes = {
      role: 'assistant',
      content: 'y',
      status: 'read',
      statusAt: { sent: new Date('2026-02-03T00:00:01Z'), delivered: Date.parse('2026-02-03T00:00:02Z') },
      createdAt: '2026-02-03T01:00:00+01:00',
    } as NewMessage;
    const [timed] = await store.append('c1', withTimes);
    expect(timed?.message).toStrictEqual({
      id: expect.any(String),
      conversationId: 'c1',
      seq: cases.length + 1,
      role: 'assistant',
      direction: 'outgoing',
      content: 'y',
      status: 'read',
      statusAt: {
        sent: '2026-02-03T00:00:01.000Z',
        delivered: '2026-02-03T00:00:02.000Z',
        read: '2026-02-03T00:00:00.000Z',
      },
      createdAt: '2026-02-03T00:00:00.000Z',
    });
    await expectEverywhere(store, timed?.message as Message);
  });

  test('the whole four-digit year range is accepted, before 1901 too', async () => {
    const store = await freshStore(entry, atT0);
    const cases: [NewMessage['createdAt'], string][] = [
      ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
      ['1900-01-01T00:00:00Z', '1900-01-01T00:00:00.000Z'],
      [new Date('1850-06-01T00:00:00Z'), '1850-06-01T00:00:00.000Z'],
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ];
    for (const [createdAt, iso] of cases) {
      const [result] = await store.append('c1', { role: 'user', content: 'x', createdAt });
      expect(result?.message.createdAt).toBe(iso);
    }
  });

  test('empty optional values: no media, no metadata keys, empty parts', async () => {
    const store = await freshStore(entry, atT0);
    const [result] = await store.append('c1', { role: 'user', content: '', media: [], metadata: {}, parts: [] });
    expect(result?.message).toStrictEqual({
      id: expect.any(String),
      conversationId: 'c1',
      seq: 1,
      role: 'user',
      direction: 'incoming',
      content: '',
      parts: [],
      createdAt: T0,
    });
    await expectEverywhere(store, result?.message as Message);
  });

  test('edit replaces content, merges metadata and sets editedAt', async () => {
    const store = await freshStore(entry, { now: tickingClock() });
    const [result] = await store.append('c1', {
      role: 'user',
      content: 'teh typo',
      metadata: { source: 'sms', flags: { a: true, b: true } },
    });
    const original = result?.message as Message;
    const edited = await store.edit(original.id, { content: 'the fix 👍' });
    const afterContent = { ...original, content: 'the fix 👍', editedAt: '2026-01-02T03:04:06.678Z' };
    expect(edited).toStrictEqual(afterContent);
    await expectEverywhere(store, afterContent, 'fix');

    const patched = await store.edit(original.id, { metadata: { flags: { a: null, c: 1 }, source: null, lang: 'es' } });
    const afterPatch = {
      ...afterContent,
      metadata: { flags: { b: true, c: 1 }, lang: 'es' },
      editedAt: '2026-01-02T03:04:07.678Z',
    };
    expect(patched).toStrictEqual(afterPatch);
    await expectEverywhere(store, afterPatch);

    const cleared = await store.edit(original.id, { metadata: { flags: null, lang: null } });
    const { metadata: _gone, ...withoutMetadata } = afterPatch;
    expect(cleared).toStrictEqual({ ...withoutMetadata, editedAt: '2026-01-02T03:04:08.678Z' });
    await expectEverywhere(store, cleared);

    await expectError(store.edit('no-such-message', { content: 'x' }), 'NOT_FOUND');
    await expectError(
      store.edit(original.id, { metadata: { huge: 'x'.repeat(262_144) } }),
      'INVALID_ARGUMENT',
      'metadata',
    );
    expect(await store.get(original.id)).toStrictEqual(cleared);
  });

  test('edit replaces parts whole, keeps content unless given, and search sees the new content', async () => {
    const store = await freshStore(entry, { now: tickingClock() });
    const [result] = await store.append('c1', {
      role: 'assistant',
      externalId: 'ui-1',
      content: 'Your parcel',
      parts: [{ type: 'step-start' }, { type: 'text', text: 'Your parcel', state: 'streaming' }],
      metadata: { source: 'stream', truncated: true },
    });
    const original = result?.message as Message;
    const finalParts: JsonValue[] = [
      { type: 'step-start' },
      { type: 'reasoning', text: 'Look it up.', state: 'done' },
      { type: 'text', text: 'Your refund was approved 👍', state: 'done' },
    ];
    const edited = await store.edit(original.id, {
      content: 'Your refund was approved 👍',
      parts: finalParts,
      metadata: { truncated: null },
    });
    const afterFinal: Message = {
      ...original,
      content: 'Your refund was approved 👍',
      parts: finalParts,
      metadata: { source: 'stream' },
      editedAt: '2026-01-02T03:04:06.678Z',
    };
    expect(edited).toStrictEqual(afterFinal);
    await expectEverywhere(store, afterFinal, 'refund');
    await expectNoHits(entry, () => store.search('parcel', { conversationId: 'c1' }));

    // Parts alone: the content stays (the store never derives one from the other); an empty list is kept.
    const partsOnly = await store.edit(original.id, { parts: [] });
    const afterParts: Message = { ...afterFinal, parts: [], editedAt: '2026-01-02T03:04:07.678Z' };
    expect(partsOnly).toStrictEqual(afterParts);
    await expectEverywhere(store, afterParts, 'approved');

    // Parts that fit alone but not beside the stored metadata: refused, nothing changed.
    await store.edit(original.id, { metadata: { note: 'x'.repeat(200_000) } });
    const before = await store.get(original.id);
    await expectError(
      store.edit(original.id, { content: 'not stored', parts: ['y'.repeat(100_000)] }),
      'INVALID_ARGUMENT',
      'parts',
    );
    expect(await store.get(original.id)).toStrictEqual(before);
    await expectError(store.edit('no-such-message', { parts: [] }), 'NOT_FOUND');
  });

  test('a closed store fails every call with UNAVAILABLE', async () => {
    const store = await freshStore(entry, atT0);
    const [result] = await store.append('c1', { role: 'user', content: 'before close', externalId: 'e1' });
    const id = result?.message.id as string;
    await store.close();
    await store.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['append', () => store.append('c1', { role: 'user', content: 'after close' })],
      ['get', () => store.get(id)],
      ['getByExternalId', () => store.getByExternalId('e1')],
      ['recent', () => store.recent('c1')],
      ['list', () => store.list('c1')],
      ['around', () => store.around('c1', 1)],
      ['context', () => store.context('c1')],
      ['search', () => store.search('close')],
      ['updateStatus', () => store.updateStatus(id, 'read')],
      ['edit', () => store.edit(id, { content: 'x' })],
      ['delete', () => store.delete(id)],
      ['getConversation', () => store.getConversation('c1')],
      ['listConversations', () => store.listConversations()],
      ['createConversation', () => store.createConversation('c2')],
      ['updateConversation', () => store.updateConversation('c1', { title: 'x' })],
      ['addParticipants', () => store.addParticipants('c1', [{ id: 'u' }])],
      ['removeParticipant', () => store.removeParticipant('c1', 'u')],
      ['deleteConversation', () => store.deleteConversation('c1')],
      ['stats', () => store.stats()],
      ['eraseSubject', () => store.eraseSubject('u')],
      [
        'export',
        async () => {
          for await (const _ of store.export()) return;
        },
      ],
    ];
    for (const [name, call] of calls) {
      const error = await expectError(call, 'UNAVAILABLE');
      expect(error.name, name).toBe('ChatStoreError');
    }
  });
});
