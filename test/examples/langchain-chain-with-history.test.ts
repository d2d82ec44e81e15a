/**
 * Runs examples/langchain-chain-with-history twice as a user would (`npx tsx`, the package by its
 * own name, so after a build) on one SQLite file: the second run's chain hands the model the first
 * run's turns, read back from the store.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { openStore } from '../../src/open.js';

const root = join(import.meta.dirname, '..', '..');
const SESSION = '+34600000001';
const SIZE = 'Do you have these boots in size 42?';
const COLOUR = 'And in brown?';
const IN_STOCK = 'Yes, size 42 is in stock.';
const BROWN = 'Brown too, in every size from 38 to 46.';

test('each turn is stored, and a second run hands the model the first run’s history', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatstore-example-langchain-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const storeUrl = `sqlite://${join(dir, 'chat.db')}`;
  const run = () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'examples/langchain-chain-with-history/main.ts')],
      { cwd: root, encoding: 'utf8', env: { ...process.env, CHATSTORE_URL: storeUrl, SESSION_ID: SESSION } },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout;
  };
  const stored = async () => {
    const store = await openStore(storeUrl);
    try {
      return (await store.recent(SESSION, 20)).map((m) => [m.role, m.content]);
    } finally {
      await store.close();
    }
  };

  expect(run()).toBe(
    [
      `> ${SIZE}`,
      '  the model is given: system, human',
      `< ${IN_STOCK}`,
      `> ${COLOUR}`,
      '  the model is given: system, human, ai, human',
      `< ${BROWN}`,
      '',
    ].join('\n'),
  );
  const firstRun = [
    ['user', SIZE],
    ['assistant', IN_STOCK],
    ['user', COLOUR],
    ['assistant', BROWN],
  ];
  expect(await stored()).toEqual(firstRun);

  expect(run()).toBe(
    [
      `> ${SIZE}`,
      '  the model is given: system, human, ai, human, ai, human',
      `< ${IN_STOCK}`,
      `> ${COLOUR}`,
      '  the model is given: system, human, ai, human, ai, human, ai, human',
      `< ${BROWN}`,
      '',
    ].join('\n'),
  );
  expect(await stored()).toEqual([...firstRun, ...firstRun]);
});
