import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/open.js';
import { dropSchema, storeUrl as pgStoreUrl, testSchemaName } from './fixtures/pg-conformance.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

let dir: string;
let url: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatstore-cli-'));
  url = `sqlite://${join(dir, 'chat.db')}`;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(process.execPath, [...CLI, ...args], {
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, CHATSTORE_URL: url, ...options.env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = [
  { conversationId: '+15550001', role: 'user', content: 'Hola 👋', externalId: 'wamid.1', senderId: '+15550001' },
  { conversationId: '+15550001', role: 'assistant', content: '¿En qué puedo ayudar?', status: 'sent' },
  { conversationId: 'tg:42', role: 'user', content: '/start', createdAt: '2026-01-01T00:00:00Z' },
];
const jsonl = `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;

/** A store at `storeUrl` with what an exact copy must carry: groups, statuses, edits, deletes, gaps. */
async function buildVariedStore(storeUrl: string): Promise<void> {
  const store = await openStore(storeUrl);
  try {
    await store.createConversation('group', {
      type: 'group',
      title: 'Team',
      channel: 'whatsapp',
      metadata: { plan: 'pro' },
      participants: [
        { id: 'ana', kind: 'human', name: 'Ana' },
        { id: 'bot', kind: 'bot', name: 'Helper' },
      ],
    });
    await store.append('group', [
      { id: 'g1', role: 'user', content: '/help', senderId: 'ana' },
      // Stored with command detection off: it must not become a command on import.
      { id: 'g2', role: 'user', content: '/quiet please', senderId: 'ana', command: null },
      { id: 'g3', role: 'assistant', content: 'sent', senderId: 'bot', status: 'sent', externalId: 'x.3' },
    ]);
    await store.updateStatus('x.3', 'failed', { error: { code: 'E1', message: 'no route' } });
    await store.edit('g1', { content: '/help me' });
    await store.createConversation('empty', { type: 'channel' });
    await store.append(
      'long',
      Array.from({ length: 10 }, (_, i) => ({ id: `l${i + 1}`, role: 'user' as const, content: `step ${i + 1}` })),
    );
    await store.delete('l2', { hard: true });
    await store.delete('l10', { hard: true });
    await store.delete('l6');
  } finally {
    await store.close();
  }
}

describe('chatstore CLI', () => {
  it('imports JSONL from stdin, skips duplicates on a re-run, and exports the same messages', () => {
    const first = run(['import'], { input: jsonl });
    expect(first).toMatchObject({ code: 0 });
    expect(first.stderr).toContain('imported 3 messages, 0 duplicates skipped');

    const again = run(['import', '-'], { input: jsonl });
    expect(again.stderr).toContain('imported 2 messages, 1 duplicates skipped');
    // Lines without id or externalId cannot be recognized as duplicates: that is what ids are for.
    expect(again.code).toBe(0);

    const exported = run(['export', '--conversation', '+15550001']);
    expect(exported.code).toBe(0);
    const [conversation, ...messages] = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(conversation).toMatchObject({ conversation: { id: '+15550001', lastSeq: 3, messageCount: 3 } });
    expect(messages.map((m) => [m.seq, m.content])).toEqual([
      [1, 'Hola 👋'],
      [2, '¿En qué puedo ayudar?'],
      [3, '¿En qué puedo ayudar?'],
    ]);
  });

  it('round-trips a whole store through export --out and import into another file', async () => {
    expect(run(['import'], { input: jsonl }).code).toBe(0);
    const file = join(dir, 'all.jsonl');
    const exported = run(['export', '--out', file]);
    expect(exported.stderr).toContain('exported 3 messages, 2 conversation records');

    const copyUrl = `sqlite://${join(dir, 'copy.db')}`;
    const imported = run(['import', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(imported.stderr).toContain('imported 3 messages');
    const reimported = run(['import', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(reimported.stderr).toContain('imported 0 messages, 3 duplicates skipped');
    expect(run(['export'], { env: { CHATSTORE_URL: copyUrl } }).stdout).toBe(readFileSync(file, 'utf8'));

    const [source, copy] = await Promise.all([openStore(url), openStore(copyUrl)]);
    try {
      for (const conversationId of ['+15550001', 'tg:42']) {
        expect(await copy.recent(conversationId, 10)).toEqual(await source.recent(conversationId, 10));
      }
    } finally {
      await Promise.all([source.close(), copy.close()]);
    }
    // A conversation line, then its messages, per conversation.
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => Object.keys(JSON.parse(line))[0]),
    ).toEqual(['conversation', 'id', 'id', 'conversation', 'id']);
  });

  it('export --include-deleted then import into an empty store reproduces it exactly', async () => {
    await buildVariedStore(url);
    const file = join(dir, 'all.jsonl');
    expect(run(['export', '--include-deleted', '--out', file]).code).toBe(0);
    const source = readFileSync(file, 'utf8');

    const copyUrl = `sqlite://${join(dir, 'copy.db')}`;
    const imported = run(['import', '--batch', '2', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(imported).toMatchObject({ code: 0 });
    expect(imported.stderr).toContain(
      'imported 11 messages, 0 duplicates skipped, 0 deleted skipped, 3 conversation records',
    );
    expect(run(['export', '--include-deleted'], { env: { CHATSTORE_URL: copyUrl } }).stdout).toBe(source);
    expect(run(['stats'], { env: { CHATSTORE_URL: copyUrl } }).stdout).toBe(run(['stats']).stdout);

    const again = run(['import', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(again.stderr).toContain('imported 0 messages, 11 duplicates skipped');
    expect(run(['export', '--include-deleted'], { env: { CHATSTORE_URL: copyUrl } }).stdout).toBe(source);
  });

  it('an import stopped by a bad line names it; after the fix a re-run completes the store', async () => {
    await buildVariedStore(url);
    const file = join(dir, 'all.jsonl');
    expect(run(['export', '--include-deleted', '--out', file]).code).toBe(0);
    const source = readFileSync(file, 'utf8');
    const lines = source.trimEnd().split('\n');
    // The 3rd message line of the long conversation (seqs 1, 3, 4: 2 was hard-deleted), first of
    // its second batch: the first batch (seqs 1 and 3) is stored before it.
    const bad = lines.findIndex((line) => line.includes('"content":"step 4"'));
    expect(bad).toBeGreaterThan(0);
    const broken = lines.with(bad, lines[bad]?.replace('"role":"user"', '"role":"robot"') as string);
    writeFileSync(file, `${broken.join('\n')}\n`);

    const copyUrl = `sqlite://${join(dir, 'copy.db')}`;
    const failed = run(['import', '--batch', '2', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(failed.code).toBe(64);
    expect(failed.stderr).toContain(`INVALID_ARGUMENT: line ${bad + 1}: messages[0].role`);
    const partial = await openStore(copyUrl);
    try {
      expect((await partial.list('long', { includeDeleted: true })).messages.map((m) => m.seq)).toEqual([1, 3]);
    } finally {
      await partial.close();
    }

    writeFileSync(file, source);
    const resumed = run(['import', '--batch', '2', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(resumed).toMatchObject({ code: 0 });
    expect(resumed.stderr).toContain('duplicates skipped');
    expect(run(['export', '--include-deleted'], { env: { CHATSTORE_URL: copyUrl } }).stdout).toBe(source);
  });

  it('prints stats as JSON, for the store and for one conversation', () => {
    run(['import'], { input: jsonl });
    const all = run(['stats']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ total: 3, incoming: 2, outgoing: 1, commands: 1, conversations: 2 });
    const one = run(['--url', url, 'stats', '-c', 'tg:42']);
    expect(JSON.parse(one.stdout)).toMatchObject({ total: 1, conversations: 1 });
  });

  it('lists conversations by channel, a page at a time, and counts them per channel in stats', async () => {
    const store = await openStore(url);
    try {
      await store.append('+15550001', { role: 'user', content: 'hi' }, { conversation: { channel: 'whatsapp' } });
      await store.append('+15550002', { role: 'user', content: 'yo' }, { conversation: { channel: 'sms' } });
      await store.append('+15550003', { role: 'user', content: 'hey' }, { conversation: { channel: 'whatsapp' } });
    } finally {
      await store.close();
    }
    const first = run(['conversations', '--channel', 'whatsapp', '--limit', '1']);
    expect(first.code).toBe(0);
    const page = JSON.parse(first.stdout);
    expect(page.conversations.map((c: { id: string }) => c.id)).toEqual(['+15550003']);
    const second = JSON.parse(run(['conversations', '--channel', 'whatsapp', '--cursor', page.next]).stdout);
    expect(second).toMatchObject({ conversations: [{ id: '+15550001', channel: 'whatsapp' }] });
    expect(second.next).toBeUndefined();
    expect(JSON.parse(run(['conversations']).stdout).conversations).toHaveLength(3);
    expect(JSON.parse(run(['stats']).stdout).byChannel).toStrictEqual({
      sms: { conversations: 1, messages: 1 },
      whatsapp: { conversations: 2, messages: 2 },
    });
    const bad = run(['conversations', '--channel', 'WhatsApp']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('INVALID_ARGUMENT');
    expect(bad.stderr).toContain('channel');
  });

  it('reports bad input with the line number and exit code 64, storing nothing of that batch', async () => {
    const bad = `${JSON.stringify(lines[0])}\n${JSON.stringify({ conversationId: '+15550001', role: 'robot', content: 'x' })}\n`;
    const result = run(['import'], { input: bad });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/INVALID_ARGUMENT: line 2: messages\[1\]\.role/);
    const store = await openStore(url);
    try {
      expect(await store.recent('+15550001')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('rejects a line that is not JSON and a line without a conversation', () => {
    expect(run(['import'], { input: 'not json\n' })).toMatchObject({ code: 64 });
    const noConversation = run(['import'], { input: `${JSON.stringify({ role: 'user', content: 'x' })}\n` });
    expect(noConversation.code).toBe(64);
    expect(noConversation.stderr).toContain('has no conversationId');
    expect(
      run(['import', '--conversation', 'c1'], { input: `${JSON.stringify({ role: 'user', content: 'x' })}\n` }).code,
    ).toBe(0);
  });

  it('exits 69 with a redacted message when the engine is unreachable, and 64 for an unknown scheme', () => {
    writeFileSync(join(dir, 'file'), '');
    const unreachable = run(['stats'], { env: { CHATSTORE_URL: `sqlite://${join(dir, 'file', 'sub', 'x.db')}` } });
    expect(unreachable.code).toBe(69);
    expect(unreachable.stderr).toContain('UNAVAILABLE');
    const unknown = run(['stats'], { env: { CHATSTORE_URL: 'nosuch://user:secret@host/db' } });
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).not.toContain('secret');
  });

  it('refuses bad CHATSTORE_API_KEYS at startup without echoing any character of a key', () => {
    const result = run(['serve', '--port', '0'], {
      env: { CHATSTORE_API_KEYS: 'bot-0123456789abcdef:read,ops-fedcba9876543210' },
    });
    expect(result).toStrictEqual({
      code: 64,
      stdout: '',
      stderr: 'chatstore: INVALID_ARGUMENT: CHATSTORE_API_KEYS entry 1: scope 2 is not one of read, write, admin\n',
    });
  });

  it('serve --cors-origin takes exact origins only, refused before anything is opened', () => {
    const result = run(['serve', '--port', '0', '--cors-origin', 'https://app.example.com', '--cors-origin', '*']);
    expect(result).toStrictEqual({
      code: 64,
      stdout: '',
      stderr:
        'chatstore: INVALID_ARGUMENT: cors-origin "*" is not an origin (http or https, a host, a port only if not the default, no path: as a browser sends it)\n',
    });
  });

  it('shows usage for an unknown command with a non-zero exit code', () => {
    const result = run(['frobnicate']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('chatstore erase and compact', () => {
  it('erase prints the receipt as JSON; --compact says whether the engine had anything to rewrite', () => {
    expect(run(['import'], { input: jsonl })).toMatchObject({ code: 0 });
    const erased = run(['erase', '+15550001']);
    expect(erased).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(erased.stdout)).toStrictEqual({
      subjectId: '+15550001',
      messagesDeleted: 2,
      conversationsDeleted: ['+15550001'],
      participantEntriesRemoved: 1,
      erasedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    // SQLite leaves no erased bytes behind, so there is nothing to rewrite.
    const again = run(['erase', '--compact', 'tg:42']);
    expect(JSON.parse(again.stdout)).toMatchObject({ messagesDeleted: 1, compaction: 'not-needed' });
    expect(JSON.parse(run(['compact']).stdout)).toStrictEqual({ rewritten: [], skipped: [], ms: 0 });
    const missing = run(['erase']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("missing required argument 'subjectId'");
  });

  it('on postgres, erase --compact rewrites the tables and compact rewrites them all', async () => {
    const schema = testSchemaName();
    const storeAt = pgStoreUrl(schema);
    try {
      const store = await openStore(storeAt);
      await store.append('+15550009', { role: 'user', content: 'to be erased', senderId: '+15550009' });
      await store.append('c2', { role: 'user', content: 'kept', senderId: 'u2' });
      await store.close();
      const erased = run(['erase', '+15550009', '--compact', '--url', storeAt]);
      expect(erased).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(erased.stdout)).toMatchObject({ messagesDeleted: 1, compaction: 'done' });
      const report = JSON.parse(run(['compact'], { env: { CHATSTORE_URL: storeAt } }).stdout);
      expect(report.rewritten).toContain(`${schema}.messages`);
      expect(report.ms).toBeGreaterThanOrEqual(0);
    } finally {
      await dropSchema(schema);
    }
  });
});

describe('chatstore subject export', () => {
  it('writes what erase would remove as JSON Lines (stdout or -o file), the counts on stderr', async () => {
    expect(run(['import'], { input: jsonl })).toMatchObject({ code: 0 });
    const store = await openStore(url);
    try {
      await store.append('g', [
        { id: 'g1', role: 'user', content: 'ana in a group', senderId: '+15550001' },
        { id: 'g2', role: 'user', content: 'bob in a group', senderId: '+15550002' },
      ]);
    } finally {
      await store.close();
    }
    const exported = run(['subject', 'export', '+15550001']);
    expect(exported).toMatchObject({
      code: 0,
      stderr: 'exported 3 messages, 2 conversation records about +15550001\n',
    });
    const records = exported.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records[0]).toStrictEqual({
      subject: { id: '+15550001', exportedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) },
    });
    expect(records.slice(1).map((r) => r.conversation?.id ?? r.content)).toStrictEqual([
      '+15550001',
      'Hola 👋',
      '¿En qué puedo ayudar?',
      'g',
      'ana in a group',
    ]);
    expect(records[4].conversation.participants.map((p: { id: string }) => p.id)).toStrictEqual(['+15550001']);

    const file = join(dir, 'ana.jsonl');
    expect(run(['subject', 'export', '+15550001', '-o', file])).toMatchObject({ code: 0, stdout: '' });
    const written = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(written.slice(1)).toStrictEqual(records.slice(1));

    const erased = JSON.parse(run(['erase', '+15550001']).stdout);
    expect(erased).toMatchObject({
      messagesDeleted: 3,
      conversationsDeleted: ['+15550001'],
      participantEntriesRemoved: 2,
    });
    expect(run(['subject', 'export', '+15550001']).stderr).toBe(
      'exported 0 messages, 0 conversation records about +15550001\n',
    );
  });

  it('a missing id fails; a bad one is a usage error (64) and writes no file', () => {
    const missing = run(['subject', 'export']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("missing required argument 'subjectId'");
    const file = join(dir, 'bad.jsonl');
    const bad = run(['subject', 'export', 'x'.repeat(256), '-o', file]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('chatstore: INVALID_ARGUMENT');
    expect(existsSync(file)).toBe(false);
  });
});

describe('chatstore archive', () => {
  it('moves idle conversations (a dry run first), lists them, restores one; stats show the archive', () => {
    // The lines' times: wamid.1 and its reply now, tg:42 on 2026-01-01.
    expect(run(['import'], { input: jsonl })).toMatchObject({ code: 0 });
    const env = { CHATSTORE_ARCHIVE_DIR: join(dir, 'archive') };
    const dry = run(['archive', '--dry-run', '--before', '2026-06-01T00:00:00Z'], { env });
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, archived: ['tg:42'], messages: 1 });
    expect(JSON.parse(run(['archive', '--list'], { env }).stdout)).toStrictEqual({ conversations: [] });

    const moved = JSON.parse(run(['archive', '--older-than-days', '30'], { env }).stdout);
    expect(moved).toMatchObject({ dryRun: false, archived: ['tg:42'], skipped: [], messages: 1 });
    const listed = JSON.parse(run(['archive', '--list'], { env }).stdout);
    expect(listed.conversations).toMatchObject([{ conversationId: 'tg:42', state: 'archived', messages: 1 }]);
    // Still read as before, from the archive; the stats count it.
    const exported = run(['export', '--conversation', 'tg:42'], { env });
    expect(exported.stdout).toContain('/start');
    const stats = JSON.parse(run(['stats'], { env }).stdout);
    expect(stats).toMatchObject({ total: 3, conversations: 2, archive: { conversations: 1, messages: 1 } });

    expect(JSON.parse(run(['archive', '--restore', 'tg:42'], { env }).stdout)).toStrictEqual({
      conversationId: 'tg:42',
      restored: true,
    });
    expect(JSON.parse(run(['archive', '--list'], { env }).stdout)).toStrictEqual({ conversations: [] });
  });

  it('a store without archive, and bad options, exit non-zero with the reason', () => {
    const none = run(['archive']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('UNSUPPORTED: this store has no archive');
    const env = { ARCHIVE_AFTER_DAYS: '30', CHATSTORE_ARCHIVE_DIR: join(dir, 'archive') };
    expect(run(['archive', '--older-than-days', 'ten'], { env })).toMatchObject({ code: 64 });
    expect(run(['archive', '--list', '--restore', 'x'], { env })).toMatchObject({ code: 64 });
    expect(run(['archive'], { env: { ...env, COMPRESSION_ENABLED: 'maybe' } })).toMatchObject({ code: 64 });
  });
});

describe('chatstore retention', () => {
  it('deletes messages older than the cutoff, after a dry run that only counts', () => {
    // tg:42 was created on 2026-01-01; the others now.
    expect(run(['import'], { input: jsonl })).toMatchObject({ code: 0 });
    const dry = run(['retention', '--before', '2026-06-01T00:00:00Z', '--dry-run']);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, messagesDeleted: 1, partitionsDropped: [] });
    expect(JSON.parse(run(['stats']).stdout)).toMatchObject({ total: 3 });
    expect(JSON.parse(run(['retention', '--before', '2026-06-01T00:00:00Z']).stdout)).toMatchObject({
      dryRun: false,
      messagesDeleted: 1,
    });
    expect(JSON.parse(run(['stats']).stdout)).toMatchObject({ total: 2, conversations: 2 });
    expect(run(['retention'])).toMatchObject({ code: 64 });
    expect(run(['retention', '--older-than-days', 'many'])).toMatchObject({ code: 64 });
  });
});

describe('chatstore migrate', () => {
  it('prints the report, writes progress lines to stderr, exits 65 when a record failed, --delete-source deletes what a complete run moved, and --rollback removes a run', async () => {
    const source = join(dir, 'chat_logs.json');
    writeFileSync(
      source,
      JSON.stringify({
        '+15550001': [
          { role: 'user', content: 'Hola 👋', timestamp: 1_700_000_000_000 },
          { role: 'assistant', content: '¡Hola!', timestamp: 1_700_000_001_000 },
          { role: 'user', timestamp: 1_700_000_002_000 },
        ],
      }),
    );
    const runs = join(dir, 'runs');
    const migrated = run(['migrate', '--from', source, '--runs-dir', runs, '--verify']);
    expect(migrated.code).toBe(65);
    expect(migrated.stdout).toContain('| messages | 3 | 2 |');
    expect(migrated.stdout).toContain('| `+15550001#2` | no text');
    const progress = migrated.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { progress: { messages: number } });
    expect(progress.at(-1)?.progress).toMatchObject({ messages: 2, conversations: 1, errors: 1 });
    const runId = /run (\S+):/.exec(migrated.stderr)?.[1] as string;
    expect(JSON.parse(readFileSync(join(runs, runId, 'report.json'), 'utf8'))).toMatchObject({ complete: false });

    const clean = join(dir, 'clean.json');
    writeFileSync(clean, JSON.stringify({ '+15550002': [{ isUser: true, message: 'hi', timestamp: 1_700_000_000 }] }));
    const moved = run(['migrate', '--from', clean, '--runs-dir', runs, '--delete-source']);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain('1 conversations (1 records) deleted from the source');
    expect(existsSync(clean)).toBe(false);

    const rolledBack = run(['migrate', '--rollback', runId, '--runs-dir', runs]);
    expect([rolledBack.code, JSON.parse(rolledBack.stdout)]).toEqual([
      0,
      { runId, messagesRemoved: 2, conversationsRemoved: 1 },
    ]);
    const store = await openStore(url);
    try {
      expect((await store.listConversations()).conversations.map((c) => c.id)).toEqual(['+15550002']);
    } finally {
      await store.close();
    }
    expect(run(['migrate', '--runs-dir', runs]).code).toBe(64);
    expect(run(['migrate', '--from', join(dir, 'absent.json')]).stderr).toContain('INVALID_ARGUMENT');
  });
});
