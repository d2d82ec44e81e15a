/**
 * What every part of the redis backend shares: the client, the key names, the way scripts run, the
 * guard every public method goes through, and the mutable state (closed flag, background tasks,
 * queued index upkeep). `connect.ts` builds it once per backend; each `…Operations(ctx)` factory
 * and the helpers of the other files read it.
 */
import { ChatStoreError } from '../../errors.js';
import { toChatStoreError } from './errors.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './options.js';
import { conversationKeyList, type RedisScript } from './scripts.js';

/** Conversations read per round trip by listings, stats and erasure. */
export const PAGE = 200;

/** A client the backend created, and how to close it. */
export interface Connection {
  client: RedisClient;
  close(): Promise<void>;
}

/** Index upkeep queued for the next background round of one conversation (see `scheduleUpkeep`). */
export interface UpkeepRound {
  readonly confirm: Set<string>;
  readonly remove: Set<string>;
}

/** The mutable state of one backend, shared by all its parts. */
export interface RedisState {
  /** Set once by `close`; every call after it is `UNAVAILABLE`. */
  closed: boolean;
  /** Background tasks still running; `close` waits for them. */
  readonly pending: Set<Promise<unknown>>;
  /** Per conversation, the upkeep waiting for its next round while one is running. */
  readonly upkeep: Map<string, UpkeepRound>;
}

export interface RedisContext {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  /** True on Redis Cluster: the backend then keeps its cross-slot indexes itself. */
  readonly cluster: boolean;
  /** The client the backend created and closes; undefined for a client of the caller's. */
  readonly connection: Connection | undefined;
  readonly state: RedisState;
  /** Runs a script by its SHA, and by its text when the server does not have it cached. */
  readonly run: (script: RedisScript, scriptKeys: string[], args: (string | number)[]) => Promise<unknown>;
  /** Runs a script over the keys of one conversation (`conversationKeyList`). */
  readonly inConversation: (
    script: RedisScript,
    conversationId: string,
    args?: (string | number)[],
  ) => Promise<unknown>;
  /** Every public method: closed check and error mapping in one place. */
  readonly guard: <T>(body: () => Promise<T>) => Promise<T>;
  /** Index upkeep that need not delay an acknowledgement. Failures leave stale entries, which readers skip. */
  readonly background: (task: () => Promise<unknown>) => void;
}

export function redisContext(client: RedisClient, keys: RedisKeys, connection: Connection | undefined): RedisContext {
  const state: RedisState = { closed: false, pending: new Set(), upkeep: new Map() };

  const run = async (script: RedisScript, scriptKeys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      return await client.call('EVALSHA', script.sha, scriptKeys.length, ...scriptKeys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.call('EVAL', script.lua, scriptKeys.length, ...scriptKeys, ...args);
    }
  };

  return {
    client,
    keys,
    cluster: client.isCluster === true,
    connection,
    state,
    run,
    inConversation: (script, conversationId, args = []) =>
      run(script, conversationKeyList(keys.conversation(conversationId)), args),
    guard: async <T>(body: () => Promise<T>): Promise<T> => {
      if (state.closed) throw new ChatStoreError('UNAVAILABLE', 'the redis backend is closed');
      try {
        return await body();
      } catch (error) {
        throw toChatStoreError(error);
      }
    },
    background: (task) => {
      const promise = task()
        .catch(() => undefined)
        .finally(() => state.pending.delete(promise));
      state.pending.add(promise);
    },
  };
}

/** Runs `task` over `items`, at most PAGE at a time, and returns the results in order. */
export async function inBatches<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += PAGE) {
    results.push(...(await Promise.all(items.slice(i, i + PAGE).map(task))));
  }
  return results;
}
