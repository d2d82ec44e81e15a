/**
 * Runs examples/ai-sdk-chat-route as a user would (`node --import tsx …/main.ts`, chatstore imported
 * by its own name from dist/, so `npm run build` first) on a fresh SQLite file: two chat turns over
 * HTTP, the history the model was given, and what the store holds once the server has stopped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { openStore } from '../../src/open.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'chatstore-example-ai-sdk-'));
const url = `sqlite://${join(dir, 'chat.db')}`;
let server: ChildProcess | undefined;
afterAll(() => {
  if (server?.exitCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the example on a free port; resolves with its address once it says it is listening. */
async function start(): Promise<{ base: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/ai-sdk-chat-route/main.ts'], {
    cwd: root,
    env: { ...process.env, CHATSTORE_URL: url, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\/api\/chat/.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the example exited (${code}) before listening: ${stderr}`)));
  });
  return { base, stderr: () => stderr };
}

const say = (id: string, text: string) => ({
  id: 'chat-1',
  message: { id, role: 'user', parts: [{ type: 'text', text }] },
});

test('the chat route stores each question and answer, and hands the model the stored history', async () => {
  const { base, stderr } = await start();
  const post = (body: unknown) =>
    fetch(`${base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const first = await post(say('m-1', 'Hola'));
  expect(first.status).toBe(200);
  expect(first.headers.get('content-type')).toContain('text/event-stream');
  expect(await first.text()).toContain('"type":"finish"');
  const second = await post(say('m-2', '¿Envían a Lima?'));
  await second.text();

  const history = (await (await fetch(`${base}/api/chat?id=chat-1`)).json()) as {
    id: string;
    role: string;
    parts: { type: string; text?: string }[];
  }[];
  const texts = history.map((m) => [
    m.id,
    m.role,
    m.parts
      .filter((p) => p.type === 'text')
      .map((p) => p.text)
      .join(''),
  ]);
  expect(texts).toEqual([
    ['m-1', 'user', 'Hola'],
    [expect.any(String), 'assistant', 'You said: "Hola". I was given 2 messages.'],
    ['m-2', 'user', '¿Envían a Lima?'],
    [expect.any(String), 'assistant', 'You said: "¿Envían a Lima?". I was given 4 messages.'],
  ]);
  const bad = await post({ id: 'chat-1', message: { id: 'm-3', role: 'developer', parts: [] } });
  expect([bad.status, await bad.json()]).toEqual([
    400,
    { error: 'messages[0].role must be one of system, user, assistant', path: 'messages[0].role' },
  ]);

  server?.kill('SIGTERM');
  const [code] = await once(server as ChildProcess, 'exit');
  expect(code).toBe(0);
  expect(stderr()).toBe('');

  // What the store holds, read after the server closed it.
  const store = await openStore(url);
  try {
    const stored = await store.recent('chat-1', 10);
    expect(stored.map((m) => [m.seq, m.role, m.direction, m.content])).toEqual([
      [1, 'user', 'incoming', 'Hola'],
      [2, 'assistant', 'outgoing', 'You said: "Hola". I was given 2 messages.'],
      [3, 'user', 'incoming', '¿Envían a Lima?'],
      [4, 'assistant', 'outgoing', 'You said: "¿Envían a Lima?". I was given 4 messages.'],
    ]);
    expect(stored.map((m) => m.externalId)).toEqual(history.map((m) => m.id));
    expect(stored.some((m) => m.metadata?.aiSdk !== undefined)).toBe(false);
  } finally {
    await store.close();
  }
});
