/**
 * End to end: the CLI serves a SQLite file over HTTP, receives SIGTERM while 200 appends are in
 * flight, finishes them, and exits 0; reopening the file shows exactly the acknowledged messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { openStore } from '../../src/open.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WRITE_KEY = 'e2e-write-key-0123456789abcdef';
const READ_KEY = 'e2e-read-key-0123456789abcdef';
/** Concurrent clients, each appending one message after another. */
const CLIENTS = 200;
/** SIGTERM goes out once this many appends were answered: every client is connected by then. */
const SIGNAL_AFTER = 400;

let dir: string;
let child: ChildProcess | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatstore-e2e-'));
});
afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

interface LogLine {
  msg?: string;
  port?: number;
  level?: number;
  [key: string]: unknown;
}

/** Starts `chatstore serve` from source; resolves with its port once it logs that it listens. */
async function startCli(url: string): Promise<{ port: number; logs: LogLine[]; stderr: () => string }> {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
    cwd: ROOT,
    env: {
      ...process.env,
      CHATSTORE_URL: url,
      CHATSTORE_API_KEYS: `${WRITE_KEY}:write;${READ_KEY}:read`,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const logs: LogLine[] = [];
  const listening = new Promise<number>((resolvePort, reject) => {
    child?.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    createInterface({ input: child?.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const entry = JSON.parse(line) as LogLine;
      logs.push(entry);
      if (entry.msg === 'chatstore listening') resolvePort(entry.port as number);
    });
  });
  return { port: await listening, logs, stderr: () => stderr };
}

interface Answer {
  status: number;
  body: { message: { id: string; seq: number } };
  afterSignal: boolean;
}
test('SIGTERM with appends in flight: every answered request succeeded, the process exits 0, nothing acknowledged is lost', async () => {
  const url = `sqlite://${join(dir, 'x.db')}`;
  const { port, logs, stderr } = await startCli(url);
  const base = `http://127.0.0.1:${port}`;

  const ready = await fetch(`${base}/readyz`);
  expect([ready.status, await ready.json()]).toStrictEqual([200, { status: 'ok', backend: 'sqlite' }]);
  expect((await fetch(`${base}/v1/stats`)).status).toBe(401);

  const exited = once(child as ChildProcess, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const answers: Answer[] = [];
  const failures: string[] = [];
  let signalled = false;
  let next = 0;
  // Each client appends one message after another on its keep-alive connection until the server
  // closes it, so when SIGTERM goes out every client has a request in flight.
  const client = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      try {
        const res = await fetch(`${base}/v1/conversations/load/messages`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${WRITE_KEY}`,
            'content-type': 'application/json',
            'idempotency-key': `e2e-${i}`,
          },
          body: JSON.stringify({ role: 'user', content: `message ${i}` }),
        });
        answers.push({ status: res.status, body: (await res.json()) as Answer['body'], afterSignal: signalled });
        if (!signalled && answers.length >= SIGNAL_AFTER) {
          signalled = true;
          child?.kill('SIGTERM');
        }
        if (res.headers.get('connection') === 'close') return;
      } catch (error) {
        failures.push(String((error as Error).cause ?? error));
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const [code, signal] = await exited;

  expect(answers.filter((answer) => answer.status !== 201)).toStrictEqual([]);
  expect(
    answers.filter((answer) => answer.afterSignal).length,
    'requests in flight at SIGTERM were answered',
  ).toBeGreaterThan(0);
  // Requests that reached a closed listener or a closing idle socket fail at the connection level only.
  for (const failure of failures) expect(failure).toMatch(/ECONNREFUSED|ECONNRESET|other side closed/);
  expect({ code, signal, stderr: stderr() }).toStrictEqual({ code: 0, signal: null, stderr: '' });
  expect(logs.map((entry) => entry.msg)).toEqual(
    expect.arrayContaining(['chatstore listening', 'shutting down: finishing in-flight requests', 'chatstore stopped']),
  );
  expect(JSON.stringify(logs)).not.toContain(WRITE_KEY);
  expect(JSON.stringify(logs)).not.toContain('message 1');

  const store = await openStore(url);
  try {
    const stored = (await store.list('load', { limit: 1000 })).messages;
    expect(stored.map((m) => m.id).sort()).toStrictEqual(answers.map((answer) => answer.body.message.id).sort());
    expect(stored.map((m) => m.seq)).toStrictEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    const seqById = new Map(stored.map((m) => [m.id, m.seq]));
    for (const answer of answers) expect(seqById.get(answer.body.message.id)).toBe(answer.body.message.seq);
  } finally {
    await store.close();
  }
});
