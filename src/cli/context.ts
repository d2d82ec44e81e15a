import type { Writable } from 'node:stream';
import { DEFAULT_URL, openStore } from '../open.js';
import type { ChatStore } from '../store.js';
import { withTierEnvironment } from './environment.js';

/** What every subcommand gets: the chosen URL and where to write. */
export interface CommandContext {
  url: string | undefined;
  stdout: Writable;
  stderr: Writable;
}

/** Exit codes (sysexits-style) so scripts can tell bad input from an unreachable engine. */
export const EXIT = { ok: 0, failure: 1, usage: 64, data: 65, unavailable: 69 } as const;

/** The store URL a command opens: `--url`, else `CHATSTORE_URL`, else the default, with the environment's storage settings. */
export function storeUrlOf(context: CommandContext, env: NodeJS.ProcessEnv = process.env): string {
  return withTierEnvironment(context.url ?? env.CHATSTORE_URL ?? DEFAULT_URL, env);
}

/** Opens the store, runs `work`, and always closes it. */
export async function withStore<T>(context: CommandContext, work: (store: ChatStore) => Promise<T>): Promise<T> {
  const store = await openStore(storeUrlOf(context));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
