import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

/** The code and output blocks of one README section, in order. */
function section(heading: string): { code: string; output: string } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const body = readme.slice(start, end === -1 ? undefined : end);
  const blocks = [...body.matchAll(/```(\w+)\n([\s\S]*?)```/g)];
  const pick = (lang: string) =>
    blocks
      .filter((block) => block[1] === lang)
      .map((block) => block[2])
      .join('');
  return { code: pick('ts'), output: pick('text') };
}

/** Runs a README section's TypeScript as a user would (`npx tsx file.mts` inside the checkout) on a fresh SQLite file. */
function runSection(heading: string, runs: number): void {
  const { code, output } = section(heading);
  expect(code).toContain('openStore');
  const dir = mkdtempSync(join(tmpdir(), 'chatstore-readme-'));
  // Inside the package so that `import … from 'chatstore'` resolves to this package (self-reference).
  const file = join(root, `.readme-tour-${process.pid}.mts`);
  writeFileSync(file, code);
  try {
    for (let run = 1; run <= runs; run++) {
      const result = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, CHATSTORE_URL: `sqlite://${join(dir, 'tour.db')}` },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout, `run ${run}`).toBe(output);
      expect(result.status).toBe(0);
    }
  } finally {
    rmSync(file, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

it('runs the README API tour and prints exactly what the README shows', () => {
  runSection('API tour', 1);
});

it('runs the README smallest program twice on one file and prints the same both times', () => {
  runSection('The smallest program', 2);
});
