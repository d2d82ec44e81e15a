/**
 * The built command runs as a user starts it: `npx chatstore` inside a checkout after `npm run build`
 * (what `npm test` does first), which executes dist/cli/main.js through its shebang.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

it('the build leaves dist/cli/main.js executable, and npx chatstore runs it', () => {
  const mode = statSync(join(root, 'dist/cli/main.js')).mode;
  expect(mode & 0o111, 'execute bits of dist/cli/main.js').toBe(0o111);
  const result = spawnSync('npx', ['--no-install', 'chatstore', '--help'], { cwd: root, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain('Usage: chatstore');
  expect(result.status).toBe(0);
});
