/**
 * The in-process tier (L1): a `Backend` in front of a `Backend` that keeps the newest messages of the
 * most recently used conversations in process memory and answers the range reads they cover
 * (`recent`, `context`, `around`, the newest pages of `list`) without the engine. Everything else
 * goes to the engine. Writes go to the engine first; the tails change only after it committed.
 *
 * Freshness (docs/tiers.md):
 * - this instance's own writes are seen by its next read, always: an append that follows on from a
 *   tail extends it, any other write drops the conversation's tail, and a tail read from the engine
 *   while a write to its conversation was under way is not kept;
 * - other instances' writes: over SQLite, the file's `data_version` is compared before every read
 *   from a tail, and any change by another connection drops every tail (no read is ever stale); over
 *   an engine with a change feed (PostgreSQL), every change is announced at its commit and the other
 *   instances drop that conversation's tail when the announcement reaches them (a read in another
 *   instance can be stale for that delivery time, typically under a millisecond); while the feed is
 *   down no tail is served, and every tail is dropped when it is back.
 */
import { LRUCache } from 'lru-cache';
import type {
  AppendRequest,
  Backend,
  ChangeFeed,
  ConversationPosition,
  ExpiryCounts,
  ExpiryRequest,
  RangeQuery,
  TierStats,
} from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { AppendResult, Message } from '../../model.js';
import { passedThrough, positiveInteger } from './pass-through.js';
import { extendedTail, rangeFromTail, replacedInTail, type Tail, tailOf, withoutMessage } from './tails.js';

export interface TailCacheOptions {
  /** Conversations whose tails are kept; the least recently read is dropped first. Default 1,000. */
  maxActiveConversations?: number;
  /** Newest messages kept per conversation (soft-deleted ones count). Default 50. */
  maxMessagesPerConversation?: number;
  /**
   * Set when this store is the only one writing to the storage, over an engine that can tell a
   * cache nothing of other writers (MySQL, Redis, memory): the tier then trusts its own writes alone.
   */
  singleWriter?: boolean;
  /**
   * Warm-up: the tails of this many conversations, the most recently active first, are read when the
   * tier opens (at most `maxActiveConversations`). Default 0: tails are read on first use.
   */
  warmConversations?: number;
}

/** Conversations listed per call, and tails read at once, by the warm-up. */
const WARM_PAGE = 100;
const WARM_READS_AT_ONCE = 8;

/** How the tier learns of other instances' writes. */
export type TailCoherence = 'data-version' | 'change-feed' | 'single-writer';

export const DEFAULT_MAX_ACTIVE_CONVERSATIONS = 1_000;
export const DEFAULT_MAX_MESSAGES_PER_CONVERSATION = 50;

/** A read of a conversation's tail from the engine, under way; a write to the conversation spoils it. */
interface Fill {
  spoiled: boolean;
}

/**
 * Puts the in-process tier in front of `inner`. Resolves once the tier listens for other instances'
 * changes (when the engine has a change feed).
 * @example const store = new ChatStore(await tailCache(await sqliteBackend({ path: './chat.db' })));
 */
export async function tailCache(inner: Backend, options: TailCacheOptions = {}): Promise<Backend> {
  const maxConversations = positiveInteger(
    options.maxActiveConversations ?? DEFAULT_MAX_ACTIVE_CONVERSATIONS,
    'maxActiveConversations',
  );
  const keep = positiveInteger(
    options.maxMessagesPerConversation ?? DEFAULT_MAX_MESSAGES_PER_CONVERSATION,
    'maxMessagesPerConversation',
  );
  const warm = Math.min(nonNegative(options.warmConversations ?? 0, 'warmConversations'), maxConversations);
  const coherence = coherenceOf(inner, options);
  const counts = { hits: 0, misses: 0, fills: 0, evictions: 0, invalidations: 0 };
  /** Which conversation a cached message is in, for writes that name only the message. */
  const conversationOf = new Map<string, string>();
  let cachedMessages = 0;
  const tails = new LRUCache<string, Tail>({
    max: maxConversations,
    dispose: (tail, id, reason) => {
      cachedMessages -= tail.messages.length;
      for (const message of tail.messages) if (conversationOf.get(message.id) === id) conversationOf.delete(message.id);
      if (reason === 'evict') counts.evictions++;
    },
  });
  const fills = new Map<string, Set<Fill>>();

  const put = (id: string, tail: Tail): void => {
    drop(id, false);
    tails.set(id, tail);
    cachedMessages += tail.messages.length;
    for (const message of tail.messages) conversationOf.set(message.id, id);
  };
  /** Forgets a conversation's tail, and spoils the reads of it under way. */
  const drop = (id: string, counted = true): void => {
    for (const fill of fills.get(id) ?? []) fill.spoiled = true;
    if (tails.delete(id) && counted) counts.invalidations++;
  };
  const dropAll = (): void => {
    for (const pending of fills.values()) for (const fill of pending) fill.spoiled = true;
    counts.invalidations += tails.size;
    tails.clear();
  };

  // Other instances' writes.
  let feed: ChangeFeed | undefined;
  let version: number | undefined;
  if (coherence === 'change-feed') {
    feed = inner.changeFeed?.();
    await feed?.subscribe((change) => {
      if (change === '*') dropAll();
      else for (const id of change) drop(id);
    });
  } else if (coherence === 'data-version') {
    version = inner.dataVersion?.();
  }
  /** Retention runs below this tier (`expireMessages`) under way: no tail is served meanwhile. */
  let bulkWrites = 0;
  const expireInner = inner.expireMessages;
  /** True when tails may be served now; drops them all first when another connection wrote. */
  const serving = (): boolean => {
    if (bulkWrites > 0) return false;
    if (feed !== undefined) return feed.live;
    if (version !== undefined) {
      const now = inner.dataVersion?.();
      if (now !== version) {
        version = now;
        dropAll();
      }
    }
    return true;
  };
  /**
   * After a write of this instance committed: the other instances hear of it before it is
   * acknowledged. When the announcement cannot be sent the call fails (docs/tiers.md).
   */
  const announce = async (change: readonly string[] | '*'): Promise<void> => {
    // An engine that announces its writes in their own transaction needs no word from here.
    if (feed === undefined || feed.announcesWrites || (change !== '*' && change.length === 0)) return;
    try {
      await feed.publish(change);
    } catch (error) {
      throw new ChatStoreError('UNAVAILABLE', 'the change was stored but the other instances could not be told of it', {
        cause: error,
      });
    }
  };
  /** After a write that failed (it may still have committed): forget and tell, as far as possible. */
  const afterFailure = async (id: string | undefined): Promise<void> => {
    if (id === undefined) dropAll();
    else drop(id);
    await announce(id === undefined ? '*' : [id]).catch(() => undefined);
  };
  /** After a write of this instance: runs `update` on the conversation's tail (drops it when `update` cannot tell). */
  const afterWrite = (id: string, update: (tail: Tail) => Tail | undefined): void => {
    for (const fill of fills.get(id) ?? []) fill.spoiled = true;
    if (coherence === 'data-version') serving();
    const tail = tails.peek(id);
    if (tail === undefined) return;
    const next = update(tail);
    if (next === undefined) drop(id);
    else if (next !== tail) put(id, next);
  };

  /** Reads the conversation's tail from the engine and keeps it, unless a write spoiled the read. */
  const fill = async (id: string): Promise<Tail> => {
    const reading: Fill = { spoiled: false };
    const pending = fills.get(id) ?? new Set<Fill>();
    pending.add(reading);
    fills.set(id, pending);
    try {
      const newest = await inner.range(id, { order: 'desc', limit: keep, includeDeleted: true });
      const tail = tailOf(newest, keep);
      counts.fills++;
      // serving() first: another connection's commit seen now spoils this read (it may predate it).
      if (serving() && !reading.spoiled) put(id, tail);
      return tail;
    } finally {
      pending.delete(reading);
      if (pending.size === 0) fills.delete(id);
    }
  };

  const range = async (id: string, query: RangeQuery): Promise<Message[]> => {
    if (!serving()) {
      counts.misses++;
      return inner.range(id, query);
    }
    const cached = tails.get(id);
    const answer = rangeFromTail(cached ?? (await fill(id)), query);
    // A read the tier had to fill first went to the engine: a miss, even when the new tail answers it.
    if (answer !== undefined && cached !== undefined) counts.hits++;
    else counts.misses++;
    return answer ?? inner.range(id, query);
  };

  const append = async (request: AppendRequest): Promise<AppendResult[]> => {
    const id = request.conversationId;
    let results: AppendResult[];
    try {
      results = await inner.append(request);
    } catch (error) {
      // A failed call may still have committed (a lost reply): the tail cannot be trusted.
      await afterFailure(id);
      throw error;
    }
    const added = results.filter((result) => !result.duplicate).map((result) => result.message);
    if (request.restore !== undefined) afterWrite(id, () => undefined);
    else afterWrite(id, (tail) => extendedTail(tail, added, keep));
    if (added.length > 0 || request.restore !== undefined) await announce([id]);
    return results;
  };

  const updateMessage: Backend['updateMessage'] = async (messageId, change) => {
    let touched: string | undefined = conversationOf.get(messageId);
    let updated: Message | undefined;
    try {
      updated = await inner.updateMessage(messageId, (current) => {
        touched = current.conversationId;
        return change(current);
      });
    } catch (error) {
      await afterFailure(touched);
      throw error;
    }
    if (updated !== undefined) {
      const stored = updated;
      afterWrite(stored.conversationId, (tail) => replacedInTail(tail, stored));
      await announce([stored.conversationId]);
    }
    return updated;
  };

  const removeMessage: Backend['removeMessage'] = async (messageId, removal) => {
    // The conversation is known for a cached message; the others' caches need it too.
    const conversationId =
      conversationOf.get(messageId) ??
      (feed === undefined || feed.announcesWrites ? undefined : (await inner.getMessage(messageId))?.conversationId);
    let removed: boolean;
    try {
      removed = await inner.removeMessage(messageId, removal);
    } catch (error) {
      await afterFailure(conversationId);
      throw error;
    }
    if (conversationId === undefined) {
      // Not in any tail here, and no other instance to tell: only reads under way could hold it.
      for (const pending of fills.values()) for (const reading of pending) reading.spoiled = true;
    } else if (removed) {
      afterWrite(conversationId, (tail) => withoutMessage(tail, messageId) ?? tail);
      await announce([conversationId]);
    }
    return removed;
  };

  /** A write that changes a conversation in ways a tail cannot follow: its tail goes, here and elsewhere. */
  const dropping =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>, conversationOfCall: (...args: A) => string) =>
    async (...args: A): Promise<R> => {
      const id = conversationOfCall(...args);
      let result: R;
      try {
        result = await write(...args);
      } catch (error) {
        await afterFailure(id);
        throw error;
      }
      drop(id);
      await announce([id]);
      return result;
    };

  if (warm > 0) {
    // Newest activity first; read in reverse so that the most active end up most recently used.
    const ids: string[] = [];
    let after: ConversationPosition | undefined;
    while (ids.length < warm) {
      const want = Math.min(WARM_PAGE, warm - ids.length);
      const page = await inner.listConversations({
        limit: want,
        includeDeleted: false,
        ...(after === undefined ? {} : { after }),
      });
      ids.push(...page.map((conversation) => conversation.id));
      const last = page[page.length - 1];
      if (last === undefined || page.length < want) break;
      after = { activityAt: last.lastMessageAt ?? last.createdAt, id: last.id };
    }
    const order = ids.reverse();
    for (let start = 0; start < order.length; start += WARM_READS_AT_ONCE) {
      await Promise.all(order.slice(start, start + WARM_READS_AT_ONCE).map((id) => fill(id)));
    }
  }

  /** The tier's figures now. */
  const stats = (): TierStats => ({
    tier: 'l1',
    coherence,
    serving: feed === undefined || feed.live,
    conversations: tails.size,
    messages: cachedMessages,
    maxActiveConversations: maxConversations,
    maxMessagesPerConversation: keep,
    hits: counts.hits,
    misses: counts.misses,
    hitRatio: counts.hits + counts.misses === 0 ? 0 : counts.hits / (counts.hits + counts.misses),
    fills: counts.fills,
    evictions: counts.evictions,
    invalidations: counts.invalidations,
    failures: 0,
  });

  return {
    ...passedThrough(inner),
    name: `${inner.name}+l1`,
    append,
    range,
    updateMessage,
    removeMessage,
    deleteConversation: dropping(
      (id: string, deletion: Parameters<Backend['deleteConversation']>[1]) => inner.deleteConversation(id, deletion),
      (id) => id,
    ),
    async eraseSubject(subjectId, now, removal) {
      let counts: Awaited<ReturnType<Backend['eraseSubject']>>;
      try {
        counts = await inner.eraseSubject(subjectId, now, removal);
      } catch (error) {
        await afterFailure(undefined);
        throw error;
      }
      dropAll();
      await announce('*');
      return counts;
    },
    // Without the engine's own way, the store's scan removes message by message through this tier.
    ...(expireInner === undefined
      ? {}
      : {
          async expireMessages(request: ExpiryRequest): Promise<ExpiryCounts> {
            if (request.dryRun) return expireInner.call(inner, request);
            // No tail is served while messages go below it, and none is kept after.
            bulkWrites += 1;
            dropAll();
            try {
              return await expireInner.call(inner, request);
            } finally {
              bulkWrites -= 1;
              dropAll();
              await announce('*');
            }
          },
        }),
    tiers: () => [stats(), ...(inner.tiers?.() ?? [])],
    async close() {
      dropAll();
      try {
        await feed?.close();
      } finally {
        await inner.close();
      }
    },
  };
}

/** How other instances' writes reach this tier; an engine that cannot tell needs `singleWriter`. */
function coherenceOf(inner: Backend, options: TailCacheOptions): TailCoherence {
  if (inner.dataVersion !== undefined) return 'data-version';
  if (inner.changeFeed !== undefined) return 'change-feed';
  if (options.singleWriter === true || inner.name === 'memory') return 'single-writer';
  throw new ChatStoreError(
    'INVALID_ARGUMENT',
    `the ${inner.name} backend cannot tell a cache of other writers: set singleWriter when this store is the only one writing`,
    { path: 'singleWriter' },
  );
}

function nonNegative(value: number, path: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${path} must be a non-negative integer`, { path });
  }
  return value;
}
