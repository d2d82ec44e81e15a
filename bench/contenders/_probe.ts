/**
 * Reading a server's settings while the contenders are listed, which happens synchronously: the
 * query runs in a child Node process with the project's drivers.
 */
import { spawnSync } from 'node:child_process';

/** What an acknowledged write survives, as a table label and a sentence. */
export interface ServerDurability {
  label: string;
  sentence: string;
}

/**
 * Runs an ES module `script` that writes one JSON value to stdout; its parsed value, or `undefined`
 * when the script fails (the server cannot be reached) within 10 s.
 * @example const row = probeInChild<{ fsync: string }>(`…; process.stdout.write(JSON.stringify(row));`);
 */
export function probeInChild<T>(script: string): T | undefined {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 10_000,
    cwd: new URL('../..', import.meta.url).pathname,
  });
  return result.status === 0 ? (JSON.parse(result.stdout) as T) : undefined;
}
