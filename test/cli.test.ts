import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/open.js';

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
    const messages = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
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
    expect(exported.stderr).toContain('exported 3 messages');

    const copyUrl = `sqlite://${join(dir, 'copy.db')}`;
    const imported = run(['import', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(imported.stderr).toContain('imported 3 messages');
    const reimported = run(['import', file], { env: { CHATSTORE_URL: copyUrl } });
    expect(reimported.stderr).toContain('imported 0 messages, 3 duplicates skipped');

    const [source, copy] = await Promise.all([openStore(url), openStore(copyUrl)]);
    try {
      for (const conversationId of ['+15550001', 'tg:42']) {
        expect(await copy.recent(conversationId, 10)).toEqual(await source.recent(conversationId, 10));
      }
    } finally {
      await Promise.all([source.close(), copy.close()]);
    }
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('prints stats as JSON, for the store and for one conversation', () => {
    run(['import'], { input: jsonl });
    const all = run(['stats']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ total: 3, incoming: 2, outgoing: 1, commands: 1, conversations: 2 });
    const one = run(['--url', url, 'stats', '-c', 'tg:42']);
    expect(JSON.parse(one.stdout)).toMatchObject({ total: 1, conversations: 1 });
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
