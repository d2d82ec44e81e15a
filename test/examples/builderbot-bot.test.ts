/**
 * Runs examples/builderbot-bot as a user would, twice, as two processes on one SQLite file: the second
 * continues the flow the first left at a question. From a temporary folder, where BuilderBot writes
 * its log files and the example its default database.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { openStore } from '../../src/open.js';

const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'builderbot-bot', 'main.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const dir = mkdtempSync(join(tmpdir(), 'chatstore-example-builderbot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...messages: string[]): string {
  const result = spawnSync(process.execPath, ['--import', tsx, example, ...messages], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CHATSTORE_URL: undefined, CUSTOMER: '34600000000' },
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

test('the BuilderBot example: a second process continues the order the first one left at a question', async () => {
  expect(existsSync(join(root, 'dist', 'integrations', 'builderbot', 'index.js')), 'npm run build first').toBe(true);
  const greeting = ['👤 hola', '🤖 ¡Hola! Soy el bot de la cafetería ☕', '🤖 ¿Cuántos cafés quieres?'];
  expect(run('hola')).toBe(`${greeting.join('\n')}\n`);
  const order = [
    ...greeting,
    '👤 dos',
    '🤖 Escribe un número, por favor',
    '👤 2',
    '🤖 Anotado: 2 cafés',
    '🤖 ¿A nombre de quién?',
    '👤 Ana',
    '🤖 Gracias, Ana. Tu pedido está en camino',
  ];
  expect(run('dos', '2', 'Ana')).toBe(`${order.join('\n')}\n`);

  // Its default database, relative to the working directory, next to BuilderBot's logs.
  expect(readdirSync(dir).sort()).toEqual(['core.class.log', 'data', 'queue.class.log']);
  const store = await openStore(`sqlite://${join(dir, 'data', 'builderbot.db')}`);
  try {
    const messages = await store.recent('+34600000000', 50);
    expect(messages.map((m) => [m.role, m.senderId, m.content])).toEqual(
      order.map((line) =>
        line.startsWith('👤') ? ['user', '+34600000000', line.slice(3)] : ['assistant', '+15550783881', line.slice(3)],
      ),
    );
    const conversation = await store.getConversation('+34600000000');
    const participants = conversation?.participants.map((p) => [p.id, p.kind, p.name]) ?? [];
    expect(participants.sort()).toEqual([
      ['+15550783881', 'bot', undefined],
      ['+34600000000', 'human', 'Ana'],
    ]);
    // The flow's step, in the conversation: the order ended.
    const { step } = (conversation?.metadata.builderbot ?? {}) as { step?: string };
    expect(JSON.parse(step ?? 'null')).toMatchObject({ answer: '__end_flow__', from: '34600000000' });
  } finally {
    await store.close();
  }
});
