import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const running: { child: ChildProcess; dir: string }[] = [];

afterEach(async () => {
  for (const { child, dir } of running.splice(0)) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The `sh` blocks of docs/http-api.md, the HTTP API page, in order. */
function shellBlocks(): string[] {
  const page = readFileSync(join(root, 'docs', 'http-api.md'), 'utf8');
  expect(page.startsWith('# HTTP API\n')).toBe(true);
  return [...page.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts `chatstore serve` the way `npm start` does, on a fresh SQLite file and a free port. */
async function startServer(env: Record<string, string> = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'chatstore-docs-http-api-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port)], {
    cwd: root,
    env: { ...process.env, CHATSTORE_URL: `sqlite://${join(dir, 'chat.db')}`, LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  running.push({ child, dir });
  for (let attempt = 0; attempt < 200; attempt++) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return port;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not become ready');
}

/** Runs a docs block's curl commands as written, pointed at the test server, failing on any HTTP error. */
function runCurls(block: string, port: number): string {
  const script = block
    .split('\n')
    .filter((line) => !line.includes('npm start'))
    .join('\n')
    .replaceAll('localhost:8080', `127.0.0.1:${port}`)
    .replaceAll('curl -s ', 'curl -sS --fail-with-body ');
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8' });
}

it('runs the docs/http-api.md curl examples against a keyless server, twice, storing each message once', async () => {
  const [examples] = shellBlocks();
  expect(examples).toContain('curl');
  const port = await startServer();
  const output = runCurls(examples as string, port);
  expect(output).toContain('"content":"Yes, from 10:00 to 14:00."');
  expect(output).toContain('<mark>Sundays</mark>');

  runCurls(examples as string, port); // webhook retries: nothing new
  const recent = await fetch(`http://127.0.0.1:${port}/v1/conversations/%2B15550001/messages/recent`);
  const { messages } = (await recent.json()) as { messages: { seq: number; status?: string; id: string }[] };
  expect(messages.map((m) => m.seq)).toEqual([1, 2]);
  expect(messages[1]).toMatchObject({ id: 'reply-7f3a', status: 'delivered' });
});

it('runs the docs/http-api.md key examples against a server started with those keys', async () => {
  const keyed = shellBlocks().find((block) => block.includes('CHATSTORE_API_KEYS='));
  const keys = /CHATSTORE_API_KEYS='([^']+)'/.exec(keyed ?? '')?.[1];
  expect(keys).toBeDefined();
  const port = await startServer({ CHATSTORE_API_KEYS: keys as string });
  const output = runCurls(keyed as string, port);
  expect(output).toContain('"total":0');
  const anonymous = await fetch(`http://127.0.0.1:${port}/v1/stats`);
  expect(anonymous.status).toBe(401);
});
