import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ChatStoreError } from '../errors.js';
import type { CommandContext } from './context.js';

export interface BenchOptions {
  /** Comma-separated backends (default sqlite). */
  backend?: string;
  quick?: boolean;
  out?: string;
  /** Comma-separated workloads, `W1` … `W6`. */
  workloads?: string;
  /** Comma-separated naive designs; `false` for none (`--no-naive`). */
  naive?: string | boolean;
}

/** What this command needs from bench/cli.ts (typed here: the harness lives outside `src`). */
interface BenchCli {
  benchFromFlags(flags: BenchOptions, io: { stdout: Writable; stderr: Writable }): Promise<number>;
}

/**
 * `chatstore bench`: the harness of this checkout's bench/ folder, the same one `npm run bench`
 * runs. The harness is not published with the package, so this works from a source checkout
 * only; from `dist` it registers tsx to load the harness's TypeScript.
 */
export async function bench(context: CommandContext, options: BenchOptions): Promise<void> {
  const source = new URL('../../bench/cli.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source))) {
    throw new ChatStoreError(
      'UNSUPPORTED',
      'chatstore bench runs from a source checkout of chatstore (the bench/ folder is not published)',
    );
  }
  if (context.url !== undefined) {
    context.stderr.write(
      'chatstore bench: --url is ignored: the bench opens its own stores in a temporary directory\n',
    );
  }
  const runningTypeScript = import.meta.url.endsWith('.ts');
  if (!runningTypeScript) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  const cli = (await import(
    runningTypeScript ? new URL('../../bench/cli.js', import.meta.url).href : source.href
  )) as BenchCli;
  process.exitCode = await cli.benchFromFlags(options, { stdout: context.stdout, stderr: context.stderr });
}
