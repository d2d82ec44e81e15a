import type { Writable } from 'node:stream';
import { openStore } from '../open.js';
import type { ChatStore } from '../store.js';

/** What every subcommand gets: the chosen URL and where to write. */
export interface CommandContext {
  url: string | undefined;
  stdout: Writable;
  stderr: Writable;
}

/** Exit codes (sysexits-style) so scripts can tell bad input from an unreachable engine. */
export const EXIT = { ok: 0, failure: 1, usage: 64, data: 65, unavailable: 69 } as const;

/** Opens the store, runs `work`, and always closes it. */
export async function withStore<T>(context: CommandContext, work: (store: ChatStore) => Promise<T>): Promise<T> {
  const store = await openStore(context.url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
