/**
 * `chatstore migrate`: every legacy layout into SQLite and PostgreSQL with the verification passing,
 * the report's counts, re-runs that store nothing twice, rollback, and a run killed with SIGKILL
 * that `--resume` finishes into the same store an uninterrupted run makes. The fixtures are written
 * into real files and a real Redis; nothing is mocked.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  AIMessage,
  HumanMessage,
  mapChatMessagesToStoredMessages,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';
import { LibSQLStore } from '@mastra/libsql';
import { PostgresStore } from '@mastra/pg';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { deleteMigratedSource } from '../src/migrate/delete-source.js';
import { migrate, rollbackMigration } from '../src/migrate/index.js';
import { utcTimeText } from '../src/migrate/layouts/pg-cursor.js';
import { legacyMessage, migratedId, timeOf } from '../src/migrate/legacy-message.js';
import { detectLayout, openSource } from '../src/migrate/open-source.js';
import type { Message } from '../src/model.js';
import { openStore } from '../src/open.js';
import { normalizedPhone } from '../src/phone.js';
import type { ChatStore } from '../src/store.js';
import {
  type LegacyFixture,
  legacyFixture,
  MESSAGE_LOG_TABLE,
  type MessageLogRow,
  messageLogRows,
  sortedIndexEntries,
  writeJsonFile,
  writeKvChunked,
  writeKvMessage,
  writeKvSingle,
  writeSortedIndexExport,
} from './fixtures/legacy-layouts.js';
import { dropSchema, storeUrl, testSchemaName, withAdmin } from './fixtures/pg-conformance.js';
import { deleteKeys, redisTestUrl, TEST_KEY_ROOT } from './fixtures/redis-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstore-migrate-'));
const schemas: string[] = [];
const stores: ChatStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
const path = (name: string): string => join(dir, `${files++}-${name}`);

type Engine = 'sqlite' | 'postgres';

async function targetStore(engine: Engine): Promise<{ store: ChatStore; url: string }> {
  let url: string;
  if (engine === 'sqlite') url = `sqlite://${path('target.db')}?durability=normal`;
  else {
    const schema = testSchemaName();
    schemas.push(schema);
    url = storeUrl(schema);
  }
  const store = await openStore(url);
  stores.push(store);
  return { store, url };
}

/** Every message of the store, in conversation then seq order. */
async function everything(store: ChatStore): Promise<Message[]> {
  const all: Message[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listConversations({ limit: 100, ...(after === undefined ? {} : { cursor: after }) });
    for (const conversation of page.conversations) {
      let cursor: string | undefined;
      do {
        const messages = await store.list(conversation.id, {
          limit: 1000,
          ...(cursor === undefined ? {} : { cursor }),
        });
        all.push(...messages.messages);
        cursor = messages.next;
      } while (cursor !== undefined);
    }
    if (page.next === undefined) break;
    after = page.next;
  }
  return all.sort((a, b) =>
    a.conversationId < b.conversationId ? -1 : a.conversationId > b.conversationId ? 1 : a.seq - b.seq,
  );
}

describe('legacy shapes', () => {
  test("a timestamptz read as text is the time pg's own parser gives, to the millisecond, and timeOf reads it back", async () => {
    const { default: pg } = await import('pg');
    const parse = pg.types.getTypeParser(1184, 'text') as (text: string) => unknown;
    const texts = [
      '2026-01-05 10:22:33.029+00', // 1000 × 0.029 is 28.999…: pg's millisecond is 28, and so is this one
      '2030-09-19 09:44:56.0256+00',
      '2026-01-05 10:22:33.999999+00',
      '2026-01-05 10:22:33+00',
      '0050-03-01 01:02:03.5+00',
      '2026-01-05 12:22:33.5+02', // not UTC: through pg's parser
    ];
    for (const text of texts) {
      const expected = (parse(text) as Date).toISOString();
      expect(utcTimeText(text, parse), text).toBe(expected);
      expect(timeOf(expected)).toBe(Date.parse(expected));
    }
    expect(utcTimeText('infinity', parse)).toBe(Number.POSITIVE_INFINITY);
    expect(timeOf('2026-02-30T00:00:00.000Z')).toBeUndefined();
    expect(timeOf('0000-01-01T00:00:00.000Z')).toBeUndefined();
  });

  test('role/content, isUser/message and text, with times in ms, seconds, numeric strings and ISO', () => {
    const convert = (value: unknown, fallback?: number) =>
      legacyMessage('json-file', { key: 'k#0', value }, '+1555', fallback, 'run-1');
    const ms = Date.UTC(2024, 4, 1, 12);
    for (const value of [
      { role: 'user', content: 'hi', timestamp: ms },
      { isUser: true, message: 'hi', timestamp: ms / 1000 },
      { sender: 'customer', text: 'hi', createdAt: new Date(ms).toISOString() },
      { from: 'user', body: 'hi', time: String(ms) },
    ]) {
      const result = convert(value);
      expect(result.ok && result.value.message).toMatchObject({
        role: 'user',
        content: 'hi',
        senderId: '+1555',
        externalId: 'k#0',
        createdAt: new Date(ms).toISOString(),
      });
    }
    const bot = convert({
      isUser: false,
      text: 'yo',
      ts: ms,
      quickReplies: ['a'],
      mediaUrl: 'https://x/y.png',
      mimeType: 'image/png',
    });
    expect(bot.ok && bot.value.message).toMatchObject({
      role: 'assistant',
      recipientId: '+1555',
      media: [{ url: 'https://x/y.png', type: 'image', mimeType: 'image/png' }],
      metadata: { migratedFrom: { layout: 'json-file', key: 'k#0', run: 'run-1' }, legacy: { quickReplies: ['a'] } },
    });
    expect(convert({ role: 'user', content: 'no time' }, ms).ok).toBe(true);
    expect(convert({ role: 'user', content: 'no time' })).toEqual({
      ok: false,
      reason: expect.stringContaining('no time'),
    });
    expect(convert({ role: 'narrator', content: 'x', timestamp: ms })).toEqual({
      ok: false,
      reason: expect.stringContaining('no role'),
    });
    expect(convert({ role: 'user', content: 3, timestamp: ms })).toEqual({
      ok: false,
      reason: expect.stringContaining('no text'),
    });
    expect(convert({ role: 'user', content: 'x', timestamp: 'yesterday' })).toEqual({
      ok: false,
      reason: 'timestamp is not a time (milliseconds, seconds or ISO 8601)',
    });
    expect(convert('[not json')).toEqual({ ok: false, reason: 'not a message object' });
    expect(timeOf(1_700_000_000)).toBe(1_700_000_000_000);
    expect(migratedId('kv-message', 'message:+1:1:a', ms)).toBe(migratedId('kv-message', 'message:+1:1:a', ms));
    expect(migratedId('kv-message', 'message:+1:1:a', ms) < migratedId('kv-message', 'message:+1:1:a', ms + 1)).toBe(
      true,
    );
    expect(migratedId('kv-message', 'message:+1:1:a', ms)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  test('phone numbers become E.164 where they look like ones; other keys stay', () => {
    expect(normalizedPhone('whatsapp:+1 (555) 010-2030')).toBe('+15550102030');
    expect(normalizedPhone('0044 20 7946 0958')).toBe('+442079460958');
    expect(normalizedPhone('5215512345678')).toBe('+5215512345678');
    expect(normalizedPhone('user-42')).toBe('user-42');
  });
});

/** One file layout: how its fixture is written, and what a migration of it must report besides the fixture's own errors. */
interface FileLayout {
  layout: string;
  write(file: string, fixture: LegacyFixture): { extraErrors: number; lostMessages: number; lostCustomers: number };
}

const none = { extraErrors: 0, lostMessages: 0, lostCustomers: 0 };
const FILE_LAYOUTS: FileLayout[] = [
  {
    layout: 'json-file',
    write: (file, fixture) => {
      writeJsonFile(file, fixture);
      return none;
    },
  },
  {
    layout: 'kv-single',
    write: (file, fixture) => ({ ...writeKvSingle(file, fixture), lostCustomers: 1 }),
  },
  {
    layout: 'kv-chunked',
    write: (file, fixture) => {
      writeKvChunked(file, fixture);
      return none;
    },
  },
  {
    layout: 'kv-message',
    write: (file, fixture) => {
      writeKvMessage(file, fixture);
      return none;
    },
  },
  {
    layout: 'sorted-index',
    write: (file, fixture) => {
      writeSortedIndexExport(file, fixture);
      return none;
    },
  },
];

const fixture = legacyFixture(1200);

describe.each(['sqlite', 'postgres'] as const)('every file layout into %s', (engine) => {
  test.each(FILE_LAYOUTS)(
    '$layout: detected, migrated, verified; a re-run stores nothing',
    async ({ layout, write }) => {
      const file = path(`${layout}.json`);
      const extra = write(file, fixture);
      expect(detectLayout(file)).toBe(layout);
      const { store } = await targetStore(engine);
      // A conversation the store had before, with the phone of one customer: it must survive the rollback.
      const live = fixture.customers[2]?.phone as string;
      await store.append(live, { role: 'user', content: 'a live message, before the migration' });
      const before = await everything(store);
      const runsDir = path('runs');

      const report = await migrate(store, { from: file, verify: true, runsDir });
      const expected = fixture.expected;
      const stored = expected.stored - extra.lostMessages;
      expect(report).toMatchObject({
        layout,
        dryRun: false,
        customers: {
          before: expected.customers - extra.lostCustomers,
          after: expected.customers - extra.lostCustomers,
        },
        messages: { stored, alreadyStored: 0, failed: expected.corrupt },
        errorCount: expected.corrupt + extra.extraErrors,
        verification: { ok: true, differences: [] },
        complete: false,
      });
      expect(report.messages.after).toBe(stored);
      expect(report.errors.every((error) => error.source !== '' && error.reason !== '')).toBe(true);
      expect(JSON.parse(readFileSync(report.files.json, 'utf8'))).toMatchObject({
        runId: report.runId,
        messages: report.messages,
      });
      expect(readFileSync(report.files.markdown, 'utf8')).toContain(
        `| messages | ${report.messages.before.toLocaleString('en-US')} |`,
      );
      const afterRun = await everything(store);
      expect(afterRun).toHaveLength(before.length + stored);
      // Seq follows time, then the source's order: no message of a conversation is older than the one before it.
      for (let i = 1; i < afterRun.length; i++) {
        const [a, b] = [afterRun[i - 1] as Message, afterRun[i] as Message];
        if (a.conversationId === b.conversationId && a.metadata?.migratedFrom !== undefined) {
          expect(a.createdAt <= b.createdAt).toBe(true);
        }
      }

      const again = await migrate(store, { from: file, runsDir });
      expect(again.messages).toMatchObject({ stored: 0, alreadyStored: stored });
      expect(await everything(store)).toEqual(afterRun);
    },
  );

  // The rollback reads the run's notes and the messages' metadata, whatever the layout: one is enough.
  test('the rollback of a run leaves the store as it was, a conversation it had before included', async () => {
    const file = path('rollback.json');
    writeJsonFile(file, fixture);
    const { store } = await targetStore(engine);
    const live = fixture.customers[2]?.phone as string;
    await store.append(live, { role: 'user', content: 'a live message, before the migration' });
    const before = await everything(store);
    const runsDir = path('runs');
    const report = await migrate(store, { from: file, runsDir });
    expect(report.messages.stored).toBe(fixture.expected.stored);
    expect(await rollbackMigration(store, report.runId, runsDir)).toMatchObject({
      messagesRemoved: fixture.expected.stored,
      conversationsRemoved: fixture.expected.customers - 1,
    });
    expect(await everything(store)).toEqual(before);
    expect(await store.getConversation(live)).toMatchObject({ messageCount: 1 });
    expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual([live]);
  });
});

describe('channel', () => {
  test('the conversations a run creates get the channel given; one there before keeps its own', async () => {
    const file = path('channel.json');
    writeJsonFile(file, fixture);
    const { store } = await targetStore('sqlite');
    const live = fixture.customers[2]?.phone as string;
    await store.append(live, { role: 'user', content: 'before' }, { conversation: { channel: 'telegram' } });
    await expect(migrate(store, { from: file, runsDir: path('runs'), channel: 'WhatsApp' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      path: 'channel',
    });
    expect((await store.stats()).total).toBe(1);
    await migrate(store, { from: file, runsDir: path('runs'), channel: 'whatsapp' });
    const { byChannel, total } = await store.stats();
    expect(Object.keys(byChannel)).toEqual(['telegram', 'whatsapp']);
    expect(byChannel.telegram?.conversations).toBe(1);
    expect(byChannel.whatsapp?.conversations).toBe(fixture.expected.customers - 1);
    expect((byChannel.telegram?.messages ?? 0) + (byChannel.whatsapp?.messages ?? 0)).toBe(total);
    expect((await store.getConversation(live))?.channel).toBe('telegram');
  });
});

describe('sorted-index from Redis', () => {
  const prefix = `${TEST_KEY_ROOT}migrate:${process.pid}:`;
  const url = redisTestUrl(10);
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(url);
    const { messages, sets } = sortedIndexEntries(fixture);
    const pipeline = redis.pipeline();
    for (const message of messages) pipeline.set(prefix + message.key, message.value);
    for (const set of sets) pipeline.zadd(prefix + set.key, ...set.members.flatMap((m) => [m.score, m.member]));
    await pipeline.exec();
  });
  afterAll(async () => {
    await deleteKeys(url, prefix);
    await redis.quit();
  });

  test.each(['sqlite', 'postgres'] as const)('into %s: every message, verified', async (engine) => {
    const { store } = await targetStore(engine);
    const source = `${url}?keyPrefix=${encodeURIComponent(prefix)}`;
    const report = await migrate(store, { from: source, verify: true, runsDir: path('runs') });
    expect(report).toMatchObject({
      layout: 'sorted-index',
      customers: { before: fixture.expected.customers, after: fixture.expected.customers },
      messages: { stored: fixture.expected.stored, failed: fixture.expected.corrupt },
      verification: { ok: true },
    });
    // The source is never modified.
    expect(await redis.dbsize()).toBeGreaterThan(0);
    expect(await redis.get(`${prefix}chat:0-0`)).not.toBeNull();
  });
});

describe('deleteSource', () => {
  // A fixture with nothing corrupt, so that a run can be complete.
  const clean: LegacyFixture = {
    ...fixture,
    customers: fixture.customers
      .slice(0, 60)
      .map((customer) => ({ ...customer, messages: customer.messages.filter((m) => m.text !== undefined) }))
      .filter((customer) => customer.messages.length > 0),
  };
  const cleanMessages = clean.customers.reduce((sum, customer) => sum + customer.messages.length, 0);

  test('is refused with dryRun and with since, before anything is read', async () => {
    const { store } = await targetStore('sqlite');
    for (const options of [{ dryRun: true }, { since: '2025-01-01T00:00:00Z' }]) {
      await expect(
        migrate(store, { from: path('none.json'), deleteSource: true, runsDir: path('runs'), ...options }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', path: 'deleteSource' });
    }
  });

  test('a complete, verified run deletes its file; an incomplete one leaves it', async () => {
    const { store } = await targetStore('sqlite');
    const file = path('clean.json');
    writeJsonFile(file, clean);
    const report = await migrate(store, { from: file, deleteSource: true, runsDir: path('runs') });
    expect(report).toMatchObject({
      complete: true,
      verification: { ok: true },
      sourceDeletion: { conversations: clean.customers.length, records: cleanMessages, kept: 0 },
    });
    expect(existsSync(file)).toBe(false);
    expect(readFileSync(report.files.markdown, 'utf8')).toContain('deleted from the source');
    // The source's duplicates were stored once, and are deleted with the rest.
    expect(report.messages.stored).toBe(cleanMessages - report.messages.duplicatesInSource);
    expect(await everything(store)).toHaveLength(report.messages.stored);

    const corrupt = path('corrupt.json');
    writeJsonFile(corrupt, fixture);
    const incomplete = await migrate(store, { from: corrupt, deleteSource: true, runsDir: path('runs') });
    expect(incomplete).toMatchObject({
      complete: false,
      sourceDeletion: { conversations: 0, records: 0, skipped: 'not everything arrived' },
    });
    expect(existsSync(corrupt)).toBe(true);
  });

  test('a table keeps the conversations written to since the run, and those with a record that failed', async () => {
    const schema = testSchemaName();
    schemas.push(schema);
    const rows = messageLogRows({ ...fixture, customers: fixture.customers.slice(0, 200) });
    // A record that cannot be read: its conversation stays in the source.
    (rows[5] as MessageLogRow).content = null;
    await withAdmin(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`CREATE TABLE "${schema}".messages ${MESSAGE_LOG_TABLE}`);
      await client.query(
        `INSERT INTO "${schema}".messages SELECT * FROM json_populate_recordset(NULL::"${schema}".messages, $1)`,
        [JSON.stringify(rows)],
      );
    });
    const from = `${storeUrl(schema)}&table=messages`;
    const { store } = await targetStore('sqlite');
    const report = await migrate(store, { from, verify: true, runsDir: path('runs') });
    expect(report.verification?.ok).toBe(true);
    // A message arrives in the old log after the run: its conversation must stay whole.
    const late = rows.find((row) => row.context_id !== rows[5]?.context_id) as MessageLogRow;
    await withAdmin((client) =>
      client.query(
        `INSERT INTO "${schema}".messages (id, message_id, context_id, context_type, direction, sender, recipient, content, status, created_at)
         VALUES (gen_random_uuid(), 'wamid.late', $1, 'private', 'incoming', $1, 'bot', 'one more', 'received', now())`,
        [late.context_id],
      ),
    );
    const failed = new Set(rows.filter((row) => row.content === null).map((row) => row.context_id));
    const kept = new Set([...failed, late.context_id]);
    const conversations = new Set(rows.map((row) => row.context_id));
    const deletion = await deleteMigratedSource(store, openSource(from, 'message-log'), {
      normalizePhone: false,
      runId: report.runId,
      defaultTime: Date.parse(report.startedAt),
    });
    expect(deletion).toEqual({
      conversations: conversations.size - kept.size,
      records: rows.filter((row) => !kept.has(row.context_id)).length,
      kept: kept.size,
    });
    const left = await withAdmin(
      async (client) => (await client.query(`SELECT context_id FROM "${schema}".messages`)).rows,
    );
    expect(new Set(left.map((row) => row.context_id))).toEqual(kept);
    expect(left).toHaveLength(rows.filter((row) => kept.has(row.context_id)).length + 1);
  });

  test("Redis: a user's messages and set members go, and a LangChain list's entries", async () => {
    const prefix = `${TEST_KEY_ROOT}delete-source:${process.pid}:`;
    const url = redisTestUrl(10);
    const redis = new Redis(url);
    try {
      const { messages, sets } = sortedIndexEntries(clean);
      const pipeline = redis.pipeline();
      for (const message of messages) pipeline.set(prefix + message.key, message.value);
      for (const set of sets) pipeline.zadd(prefix + set.key, ...set.members.flatMap((m) => [m.score, m.member]));
      // Not this layout's: must survive.
      pipeline.set(`${prefix}other`, 'kept');
      pipeline.lpush(`${prefix}lc:session-1`, JSON.stringify({ type: 'human', data: { content: 'hola' } }));
      pipeline.lpush(`${prefix}lc:session-1`, JSON.stringify({ type: 'ai', data: { content: '¡hola! 👋' } }));
      await pipeline.exec();
      const { store } = await targetStore('sqlite');
      const sorted = await migrate(store, {
        from: `${url}?keyPrefix=${encodeURIComponent(prefix)}`,
        deleteSource: true,
        runsDir: path('runs'),
      });
      expect(sorted.sourceDeletion).toEqual({ conversations: clean.customers.length, records: cleanMessages, kept: 0 });
      const lists = await migrate(store, {
        from: `${url}?match=${encodeURIComponent(`${prefix}lc:*`)}`,
        layout: 'langchain-redis',
        deleteSource: true,
        runsDir: path('runs'),
      });
      expect(lists.sourceDeletion).toEqual({ conversations: 1, records: 2, kept: 0 });
      const left: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        left.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect(left).toEqual([`${prefix}other`]);
    } finally {
      await deleteKeys(url, prefix);
      await redis.quit();
    }
  });
});

describe('the old PostgreSQL message log', () => {
  const schema = testSchemaName();
  const rows = messageLogRows(fixture);
  const source = `${storeUrl(schema)}&table=messages`;
  beforeAll(async () => {
    schemas.push(schema);
    await withAdmin(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`CREATE TABLE "${schema}".messages ${MESSAGE_LOG_TABLE}`);
      for (let i = 0; i < rows.length; i += 1000) {
        await client.query(
          `INSERT INTO "${schema}".messages SELECT * FROM json_populate_recordset(NULL::"${schema}".messages, $1)`,
          [JSON.stringify(rows.slice(i, i + 1000))],
        );
      }
    });
  });

  /** What the migration must store: rows with text, less the same message twice in a conversation. */
  const duplicateIds = new Set<string>();
  function expectedCounts(): { stored: number; corrupt: number; duplicates: number; conversations: number } {
    const seen = new Set<string>();
    let corrupt = 0;
    let duplicates = 0;
    for (const row of rows) {
      if (row.content === null) {
        corrupt += 1;
        continue;
      }
      const identity = `${row.context_id}|${row.created_at}|${row.direction}|${row.direction === 'incoming' ? row.sender : ''}|${row.content}`;
      if (seen.has(identity)) {
        duplicates += 1;
        duplicateIds.add(row.message_id);
      }
      seen.add(identity);
    }
    const conversations = new Set(rows.map((row) => row.context_id)).size;
    return { stored: rows.length - corrupt - duplicates, corrupt, duplicates, conversations };
  }

  test.each(['sqlite', 'postgres'] as const)(
    'into %s: statuses, media, commands, replies, groups and deletions come along, verified',
    async (engine) => {
      const { store } = await targetStore(engine);
      const expected = expectedCounts();
      const report = await migrate(store, { from: source, verify: true, runsDir: path('runs') });
      expect(report).toMatchObject({
        layout: 'message-log',
        customers: { before: expected.conversations, after: expected.conversations },
        messages: {
          before: rows.length,
          stored: expected.stored,
          duplicatesInSource: expected.duplicates,
          failed: expected.corrupt,
        },
        verification: { ok: true },
      });
      // Rows that became messages: with text, not the same message twice.
      const kept = rows.filter((r) => r.content !== null && !duplicateIds.has(r.message_id));
      const byId = async (messageId: string) => {
        const row = rows.find((r) => r.message_id === messageId) as MessageLogRow;
        return { row, message: await store.getByExternalId(messageId, row.context_id) };
      };
      const failed = kept.find((r) => r.status === 'failed') as MessageLogRow;
      expect((await byId(failed.message_id)).message).toMatchObject({
        role: 'assistant',
        direction: 'outgoing',
        status: 'failed',
        error: { message: 'recipient not on WhatsApp' },
      });
      const read = kept.find((r) => r.status === 'read' && r.deleted_at === null) as MessageLogRow;
      expect((await byId(read.message_id)).message).toMatchObject({
        status: 'read',
        statusAt: { delivered: read.delivered_at, read: read.read_at },
        recipientId: read.context_id,
      });
      const withMedia = kept.find((r) => r.media_url !== null && r.deleted_at === null) as MessageLogRow;
      expect((await byId(withMedia.message_id)).message?.media).toEqual([
        { url: withMedia.media_url, type: 'image', mimeType: 'image/jpeg', size: withMedia.media_size },
      ]);
      const command = kept.find((r) => r.command_name !== null) as MessageLogRow;
      expect((await byId(command.message_id)).message?.command).toEqual({
        name: 'menu',
        admin: command.is_admin_command,
      });
      const reply = kept.find((r) => r.reply_to_message_id !== null) as MessageLogRow;
      expect((await byId(reply.message_id)).message?.replyTo).toBe(reply.reply_to_message_id);
      const inGroup = kept.find((r) => r.context_type === 'group' && r.direction === 'incoming') as MessageLogRow;
      expect((await byId(inGroup.message_id)).message).toMatchObject({ senderId: inGroup.sender, role: 'user' });
      expect(await store.getConversation(inGroup.context_id)).toMatchObject({ type: 'group' });
      const deleted = kept.find((r) => r.is_deleted) as MessageLogRow;
      expect((await byId(deleted.message_id)).message?.deletedAt).toEqual(expect.any(String));
      expect((await store.recent(deleted.context_id, 1000)).some((m) => m.externalId === deleted.message_id)).toBe(
        false,
      );
      const extra = kept.find((r) => r.metadata !== null && r.deleted_at === null) as MessageLogRow;
      expect((await byId(extra.message_id)).message?.metadata).toMatchObject({
        ...extra.metadata,
        migratedFrom: { layout: 'message-log', key: `messages:${extra.id}`, run: report.runId },
        legacy: { id: extra.id, context_type: extra.context_type },
      });
    },
  );
});

describe('LangChain chat histories', () => {
  /** Sessions of LangChain messages, stored as LangChain's own code stores them (`toDict`). */
  const sessions = Array.from({ length: 120 }, (_, s) => ({
    id: `session-${String(s).padStart(3, '0')}`,
    messages: mapChatMessagesToStoredMessages([
      new SystemMessage('You are a helpful shop assistant.'),
      new HumanMessage(`¿Tienen la talla ${s}? 👟`),
      new AIMessage({
        content: [
          { type: 'text', text: 'Sí, ' },
          { type: 'text', text: `la talla ${s} está 🟢` },
        ],
      }),
      ...(s % 4 === 0
        ? [
            new AIMessage({ content: '', tool_calls: [{ id: `call-${s}`, name: 'stock', args: { size: s } }] }),
            new ToolMessage({ content: `{"size":${s},"count":3}`, tool_call_id: `call-${s}` }),
          ]
        : []),
      new HumanMessage('Gracias'),
      // The same words twice: with no time to tell them apart, both are kept.
      ...(s % 5 === 1 ? [new HumanMessage('Gracias')] : []),
    ]),
  }));
  const total = sessions.reduce((sum, session) => sum + session.messages.length, 0);
  const schema = testSchemaName();
  const prefix = `${TEST_KEY_ROOT}langchain:${process.pid}:`;
  const redisUrl = redisTestUrl(10);
  beforeAll(async () => {
    schemas.push(schema);
    await withAdmin(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      // PostgresChatMessageHistory's own table and insert (@langchain/community).
      await client.query(`CREATE TABLE "${schema}".langchain_chat_histories (
        id SERIAL PRIMARY KEY, session_id VARCHAR(255) NOT NULL, message JSONB NOT NULL)`);
      for (const session of sessions) {
        for (const message of session.messages) {
          await client.query(`INSERT INTO "${schema}".langchain_chat_histories (session_id, message) VALUES ($1, $2)`, [
            session.id,
            message,
          ]);
        }
      }
    });
    // RedisChatMessageHistory's addMessage: LPUSH of the stored message under the session id.
    const redis = new Redis(redisUrl);
    for (const session of sessions) {
      for (const message of session.messages) await redis.lpush(prefix + session.id, JSON.stringify(message));
    }
    await redis.quit();
  });
  afterAll(async () => {
    await deleteKeys(redisUrl, prefix);
  });

  test.each([
    ['langchain-postgres', () => `${storeUrl(schema)}&table=langchain_chat_histories`],
    ['langchain-redis', () => `${redisUrl}?match=${encodeURIComponent(`${prefix}*`)}`],
  ] as const)(
    '%s into sqlite and postgres: roles, text blocks and tool messages, in their order',
    async (layout, from) => {
      for (const engine of ['sqlite', 'postgres'] as const) {
        const { store } = await targetStore(engine);
        const report = await migrate(store, { from: from(), layout, verify: true, runsDir: path('runs') });
        expect(report).toMatchObject({
          layout,
          customers: { before: sessions.length, after: sessions.length },
          messages: { before: total, stored: total, failed: 0 },
          verification: { ok: true },
          complete: true,
        });
        const id = layout === 'langchain-redis' ? `${prefix}session-004` : 'session-004';
        const messages = await store.recent(id, 10);
        expect(messages.map((m) => [m.role, m.content])).toEqual([
          ['system', 'You are a helpful shop assistant.'],
          ['user', '¿Tienen la talla 4? 👟'],
          ['assistant', 'Sí, la talla 4 está 🟢'],
          ['assistant', ''],
          ['tool', '{"size":4,"count":3}'],
          ['user', 'Gracias'],
        ]);
        expect(messages[3]?.metadata?.legacy).toMatchObject({
          tool_calls: [{ id: 'call-4', name: 'stock', args: { size: 4 } }],
        });
        expect(messages[4]?.metadata?.legacy).toMatchObject({ tool_call_id: 'call-4', langchainType: 'tool' });
        expect(messages[2]?.parts).toEqual([
          { type: 'text', text: 'Sí, ' },
          { type: 'text', text: 'la talla 4 está 🟢' },
        ]);
        // No time in LangChain: every message takes the run's start, and seq keeps the stored order.
        expect(new Set(messages.map((m) => m.createdAt)).size).toBe(1);
      }
    },
  );
});

describe('Mastra memory threads', () => {
  // Mastra's own stores write the tables: @mastra/pg's PostgresStore into a schema of its own, and
  // @mastra/libsql's LibSQLStore into a libSQL file.
  const threads = Array.from({ length: 40 }, (_, t) => {
    const resourceId = `customer-${t % 30}`;
    const base = Date.UTC(2026, 2, 1) + t * 3_600_000;
    const messages = Array.from({ length: 2 + (t % 7) }, (_, i) => {
      const user = i % 2 === 0;
      // Every fifth thread has two messages in the same millisecond: the id decides.
      const at = base + (t % 5 === 0 && i === 1 ? 0 : i * 1000);
      const text = user ? `Pregunta ${i}: ¿tienen café? ☕ ${t}` : `Respuesta ${i}: sí, 会有的 🙂 ${t}`;
      const parts: unknown[] = user
        ? [{ type: 'text', text }]
        : [
            { type: 'step-start' },
            ...(i === 1
              ? [
                  {
                    type: 'tool-invocation',
                    toolInvocation: {
                      state: 'result',
                      toolCallId: `call-${t}`,
                      toolName: 'stock',
                      args: { t },
                      result: { left: 3 },
                    },
                  },
                ]
              : []),
            { type: 'text', text },
          ];
      return {
        id: `msg-${String(t).padStart(3, '0')}-${String(i).padStart(2, '0')}`,
        threadId: `thread-${t}`,
        resourceId,
        role: user ? ('user' as const) : ('assistant' as const),
        type: 'v2',
        createdAt: new Date(at),
        content: {
          format: 2 as const,
          parts,
          ...(user ? { content: text } : {}),
          ...(user && i === 2
            ? { experimental_attachments: [{ url: `https://cdn.example.com/${t}.png`, contentType: 'image/png' }] }
            : {}),
        },
      };
    });
    return {
      thread: {
        id: `thread-${t}`,
        resourceId,
        title: `Pedido ${t} 📦`,
        metadata: { channel: 'whatsapp', t },
        createdAt: new Date(base),
        updatedAt: new Date(base),
      },
      messages,
    };
  });
  const total = threads.reduce((sum, thread) => sum + thread.messages.length, 0);
  const schema = testSchemaName();
  const libsqlFile = path('mastra.db');
  beforeAll(async () => {
    schemas.push(schema);
    const postgres = new PostgresStore({ connectionString: storeUrl(schema).replace(/\?.*$/, ''), schemaName: schema });
    const libsql = new LibSQLStore({ url: `file:${libsqlFile}` });
    for (const mastra of [postgres, libsql]) {
      await mastra.init();
      for (const { thread, messages } of threads) {
        await mastra.saveThread({ thread });
        await mastra.saveMessages({ format: 'v2', messages: messages as never });
      }
    }
    await postgres.close();
  });

  test.each([
    ['mastra-postgres', () => `${storeUrl(schema)}`, 'mastra-postgres'],
    ['mastra-libsql', () => libsqlFile, undefined],
  ] as const)(
    '%s into sqlite and postgres: threads, parts, tool calls and ids, in their order',
    async (layout, from, named) => {
      for (const engine of ['sqlite', 'postgres'] as const) {
        const { store } = await targetStore(engine);
        const report = await migrate(store, {
          from: from(),
          ...(named === undefined ? {} : { layout: named }),
          verify: true,
          runsDir: path('runs'),
        });
        expect(report).toMatchObject({
          layout,
          customers: { before: threads.length, after: threads.length },
          messages: { before: total, stored: total, failed: 0, duplicatesInSource: 0 },
          verification: { ok: true },
          complete: true,
        });
        for (const { thread, messages } of threads) {
          const stored = await store.recent(thread.id, 100);
          expect(stored.map((m) => m.externalId)).toEqual(messages.map((m) => m.id));
        }
        const { thread, messages } = threads[5] as (typeof threads)[number];
        expect(await store.getConversation(thread.id)).toMatchObject({
          title: thread.title,
          metadata: thread.metadata,
          participants: expect.arrayContaining([expect.objectContaining({ id: thread.resourceId })]),
        });
        const stored = await store.recent(thread.id, 100);
        expect(stored[0]).toMatchObject({
          role: 'user',
          content: 'Pregunta 0: ¿tienen café? ☕ 5',
          senderId: thread.resourceId,
          createdAt: messages[0]?.createdAt.toISOString(),
          parts: messages[0]?.content.parts,
        });
        expect(stored[1]).toMatchObject({
          role: 'assistant',
          content: 'Respuesta 1: sí, 会有的 🙂 5',
          recipientId: thread.resourceId,
          parts: messages[1]?.content.parts,
          metadata: { legacy: { mastraType: 'v2' } },
        });
        expect(stored[2]?.metadata?.legacy).toMatchObject({
          experimental_attachments: [{ url: 'https://cdn.example.com/5.png', contentType: 'image/png' }],
        });
        // Two messages of thread 0 in the same millisecond keep the order of their ids.
        const tied = await store.recent('thread-0', 2);
        expect(tied.map((m) => m.createdAt)).toEqual([tied[0]?.createdAt, tied[0]?.createdAt]);
      }
    },
  );

  // Last: it empties the tables the tests above read.
  test('deleteSource empties both stores, threads included; Mastra reads nothing back', async () => {
    const copy = path('mastra-copy.db');
    // A copy as SQLite's backup makes it: the file and what its WAL holds.
    const original = new Database(libsqlFile, { readonly: true });
    await original.backup(copy);
    original.close();
    for (const [from, layout] of [
      [copy, undefined],
      [storeUrl(schema), 'mastra-postgres'],
    ] as const) {
      const { store } = await targetStore('sqlite');
      const report = await migrate(store, {
        from,
        ...(layout === undefined ? {} : { layout }),
        deleteSource: true,
        runsDir: path('runs'),
      });
      expect(report).toMatchObject({
        complete: true,
        sourceDeletion: { conversations: threads.length, records: total, kept: 0 },
      });
    }
    const postgres = new PostgresStore({ connectionString: storeUrl(schema).replace(/\?.*$/, ''), schemaName: schema });
    const libsql = new LibSQLStore({ url: `file:${copy}` });
    for (const mastra of [postgres, libsql]) {
      await mastra.init();
      expect(await mastra.getThreadById({ threadId: 'thread-5' })).toBeNull();
      expect(await mastra.getMessages({ threadId: 'thread-5' })).toEqual([]);
    }
    await postgres.close();
  });
});

describe('a run killed with SIGKILL', () => {
  const big = legacyFixture(3000, 30, 11);
  const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

  test.each(['sqlite', 'postgres'] as const)(
    'into %s: --resume ends with the store an uninterrupted run makes',
    async (engine) => {
      const file = path('big.json');
      writeJsonFile(file, big);
      const runsDir = path('runs');
      const killed = await targetStore(engine);
      await killed.store.close();
      stores.splice(stores.indexOf(killed.store), 1);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', cli, 'migrate', '--from', file, '--to', killed.url, '--runs-dir', runsDir, '--batch', '7'],
        {
          stdio: 'ignore',
        },
      );
      // Killed once the run has checkpointed some conversations and is still going.
      const checkpointed = (): number => {
        const run = existsSync(runsDir) ? (readdirSync(runsDir)[0] as string | undefined) : undefined;
        const checkpoint = run === undefined ? undefined : join(runsDir, run, 'checkpoint.json');
        if (checkpoint === undefined || !existsSync(checkpoint)) return 0;
        try {
          return (JSON.parse(readFileSync(checkpoint, 'utf8')) as { conversationsDone: number }).conversationsDone;
        } catch {
          return 0;
        }
      };
      while (checkpointed() === 0 && child.exitCode === null) await sleep(20);
      expect(child.exitCode).toBeNull();
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const done = checkpointed();
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThan(big.customers.length);

      const resumedStore = await openStore(killed.url);
      stores.push(resumedStore);
      const resumed = await migrate(resumedStore, { from: file, resume: true, runsDir, verify: true, batchSize: 7 });
      expect(resumed).toMatchObject({ resumed: true, verification: { ok: true } });
      expect(resumed.messages.after).toBe(big.expected.stored);

      const { store: straight } = await targetStore(engine);
      const uninterrupted = await migrate(straight, { from: file, runsDir: path('runs'), batchSize: 7 });
      const comparable = (messages: Message[]) =>
        messages.map((message) => {
          const { migratedFrom, ...rest } = (message.metadata ?? {}) as { migratedFrom?: { run?: string } };
          return { ...message, metadata: { ...rest, migratedFrom: { ...migratedFrom, run: 'the run' } } };
        });
      expect(comparable(await everything(resumedStore))).toEqual(comparable(await everything(straight)));
      expect(uninterrupted.messages.stored).toBe(big.expected.stored);
    },
  );
});
