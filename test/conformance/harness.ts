/** Shared helpers of the conformance suite: a fresh store per test, error assertions, paging. */
import { expect, onTestFinished } from 'vitest';
import type { ChatStoreApi } from '../../src/api.js';
import { ChatStoreError, type ErrorCode } from '../../src/errors.js';
import type { Message, SearchPage } from '../../src/model.js';
import type { ChatStoreOptions, ListOptions } from '../../src/store.js';
import type { BackendEntry } from './backends.js';

/** The instant of the fixed clock most tests use, as the store returns it. */
export const T0 = '2026-01-02T03:04:05.678Z';

/**
 * What a function option of the store does, said as data, for entries whose store runs where a
 * function cannot be handed over (the Worker in workerd rebuilds it from this; see
 * test/fixtures/cloudflare/worker.ts). A function without one cannot go there.
 */
export type FunctionDescription = { clock: { startMs: number; stepMs: number } } | { constant: number };

const DESCRIPTIONS = new WeakMap<object, FunctionDescription>();

/** `fn`, remembered with what it does. */
export function described<F extends (...args: never[]) => unknown>(fn: F, description: FunctionDescription): F {
  DESCRIPTIONS.set(fn, description);
  return fn;
}

/** What `fn` does, when it was made by `described`. */
export function descriptionOf(fn: unknown): FunctionDescription | undefined {
  return typeof fn === 'function' ? DESCRIPTIONS.get(fn) : undefined;
}

/** A clock that starts at T0 and moves `stepMs` forward on every reading. */
function clockFromT0(stepMs: number): () => Date {
  let ms = Date.parse(T0);
  return described(
    () => {
      const now = new Date(ms);
      ms += stepMs;
      return now;
    },
    { clock: { startMs: Date.parse(T0), stepMs } },
  );
}

/** Options for a store whose clock is stopped at T0. */
export const atT0: ChatStoreOptions = { now: clockFromT0(0) };

/** A clock that moves one second forward on every reading, starting at T0. */
export function tickingClock(): () => Date {
  return clockFromT0(1000);
}

/** A store on fresh storage, closed and removed when the current test finishes. */
export async function freshStore(entry: BackendEntry, options?: ChatStoreOptions): Promise<ChatStoreApi> {
  const { store, cleanup } = await entry.open(options);
  onTestFinished(cleanup);
  return store;
}

/** Awaits `action`, which must fail with a ChatStoreError of `code` (and `path`, when given). */
export async function expectError(
  action: Promise<unknown> | (() => Promise<unknown>),
  code: ErrorCode,
  path?: string,
): Promise<ChatStoreError> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ChatStoreError ${code}, but nothing was thrown`).toBeInstanceOf(ChatStoreError);
  const error = caught as ChatStoreError;
  expect({ code: error.code, ...(path === undefined ? {} : { path: error.path }) }, error.message).toEqual({
    code,
    ...(path === undefined ? {} : { path }),
  });
  return error;
}

/** True unless the entry says its engine has no full-text index (`search: false`). */
export const hasSearch = (entry: BackendEntry): boolean => entry.search !== false;

/**
 * Checks a search answer; on an engine without full-text search the same call must fail with
 * UNSUPPORTED instead, so the assertion never silently passes.
 */
export async function expectSearch(
  entry: BackendEntry,
  search: () => Promise<SearchPage>,
  check: (page: SearchPage) => void,
): Promise<void> {
  if (hasSearch(entry)) check(await search());
  else await expectError(search, 'UNSUPPORTED');
}

/**
 * Checks the answer to a call that sends `query`; when the entry carries queries of at most
 * `maxQueryBytes` (URL-encoded) and this one is longer, the call must fail with PAYLOAD_TOO_LARGE
 * instead, so the assertion never silently passes.
 */
export async function expectWithinQueryLimit<T>(
  entry: BackendEntry,
  query: string,
  call: () => Promise<T>,
  check: (answer: T) => void,
): Promise<void> {
  if (entry.maxQueryBytes === undefined || encodeURIComponent(query).length <= entry.maxQueryBytes) {
    check(await call());
  } else {
    await expectError(call, 'PAYLOAD_TOO_LARGE');
  }
}

/** `expectSearch` for a search that must find nothing. */
export function expectNoHits(entry: BackendEntry, search: () => Promise<SearchPage>): Promise<void> {
  return expectSearch(entry, search, (page) => expect(page).toStrictEqual({ hits: [] }));
}

/** Every message of a conversation, read page by page with cursors. */
export async function listAll(
  store: ChatStoreApi,
  conversationId: string,
  options: Omit<ListOptions, 'cursor'> = {},
): Promise<Message[]> {
  const all: Message[] = [];
  let cursor: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 100_000) throw new Error('list never ended');
    const page = await store.list(conversationId, { ...options, ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.messages);
    if (page.next === undefined) return all;
    cursor = page.next;
  }
}

/** The seqs of some messages. */
export const seqs = (messages: readonly Message[]): number[] => messages.map((m) => m.seq);

/** 1..n */
export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
