/**
 * The shared tier (L2): a `Backend` in front of a `Backend` that keeps conversation tails in a server
 * every instance shares (Redis: `redisTailStore`), read through and filled on a miss, so that an
 * instance that never read a conversation still answers `recent` without the engine. The protocol in
 * `shared-tail-store.ts` keeps a shared tail from holding less than the engine once a write is
 * acknowledged, whichever instance wrote.
 *
 * Degradation: when the tail server fails, every call goes on against the engine with no error to
 * the caller, and the tier stops asking the server for a growing pause (a circuit breaker: 0.5 s,
 * doubling to 10 s). The conversations written meanwhile are remembered; when the server answers
 * again their tails are dropped first, and nothing is served from it until that is done.
 */
import { randomUUID } from 'node:crypto';
import type { AppendRequest, Backend, ExpiryRequest, RangeQuery, TierStats } from '../../backend.js';
import type { AppendResult, Message } from '../../model.js';
import { coherencePassedThrough, passedThrough, positiveInteger } from './pass-through.js';
import type { SharedTailChange, SharedTailStore } from './shared-tail-store.js';
import { rangeFromTail, tailOf } from './tails.js';

export interface SharedTailsOptions {
  /** Newest messages kept per conversation (soft-deleted ones count). Default 50. */
  maxMessagesPerConversation?: number;
  /** How long a writer's lease lasts: a writer that died holding one is forgotten after this. Default 30 s. */
  leaseMs?: number;
}

const DEFAULT_KEEP = 50;
const DEFAULT_LEASE_MS = 30_000;
/** The circuit breaker's first pause after a failure, and its longest. */
const FIRST_PAUSE_MS = 500;
const LONGEST_PAUSE_MS = 10_000;

/**
 * Puts the shared tier in front of `inner`, over `tails` (which it closes with itself).
 * @example const backend = await sharedTails(await mysqlBackend({ url }), await redisTailStore({ url: 'redis://cache:6379' }));
 */
export async function sharedTails(
  inner: Backend,
  tails: SharedTailStore,
  options: SharedTailsOptions = {},
): Promise<Backend> {
  const keep = positiveInteger(options.maxMessagesPerConversation ?? DEFAULT_KEEP, 'maxMessagesPerConversation');
  const leaseMs = positiveInteger(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs');
  const counts = { hits: 0, misses: 0, fills: 0, invalidations: 0, failures: 0 };

  // The circuit breaker, and what must be dropped from the server before it is trusted again.
  let pausedUntil = 0;
  let pause = FIRST_PAUSE_MS;
  const unannounced = new Set<string>();
  let unannouncedErasure = false;
  const failed = (): void => {
    counts.failures++;
    pausedUntil = Date.now() + pause;
    pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
  };
  /** True when the server may be asked now: not paused, and what it may hold stale is dropped. */
  const available = async (): Promise<boolean> => {
    if (Date.now() < pausedUntil) return false;
    if (!unannouncedErasure && unannounced.size === 0) return true;
    const stale = [...unannounced];
    const erasure = unannouncedErasure;
    try {
      if (erasure) await tails.dropAll();
      else await tails.drop(stale);
    } catch {
      failed();
      return false;
    }
    if (erasure) unannouncedErasure = false;
    for (const id of stale) unannounced.delete(id);
    counts.invalidations += stale.length;
    pause = FIRST_PAUSE_MS;
    return !unannouncedErasure && unannounced.size === 0;
  };

  /** Runs a write that may touch any conversation (an erasure, a retention run), dropping every tail before and after. */
  const droppingAll = async <T>(write: () => Promise<T>): Promise<T> => {
    const dropAll = async (): Promise<void> => {
      try {
        if (await available()) await tails.dropAll();
        else unannouncedErasure = true;
      } catch {
        failed();
        unannouncedErasure = true;
      }
    };
    await dropAll();
    try {
      return await write();
    } finally {
      await dropAll();
    }
  };

  const range = async (id: string, query: RangeQuery): Promise<Message[]> => {
    if (!(await available())) {
      counts.misses++;
      return inner.range(id, query);
    }
    let found: Awaited<ReturnType<SharedTailStore['read']>>;
    try {
      found = await tails.read(id, query);
    } catch {
      failed();
      counts.misses++;
      return inner.range(id, query);
    }
    if (found.answer !== undefined) {
      counts.hits++;
      return found.answer;
    }
    counts.misses++;
    if (found.uncovered === true) return inner.range(id, query);
    // A writer holds a lease: a tail read now might miss its write, and the server would refuse it.
    if (found.writing) return inner.range(id, query);
    const tail = tailOf(await inner.range(id, { order: 'desc', limit: keep, includeDeleted: true }), keep);
    try {
      if (await tails.fill(id, found.version, tail)) counts.fills++;
    } catch {
      failed();
    }
    return rangeFromTail(tail, query) ?? inner.range(id, query);
  };

  /**
   * A write to one conversation: a lease before it, the tail's change after it (a drop when the write
   * failed: it may still have committed). Without the server, the conversation is remembered.
   */
  const writing = async <R>(
    id: string,
    write: () => Promise<R>,
    change: (result: R) => SharedTailChange,
  ): Promise<R> => {
    const token = randomUUID();
    let leased = false;
    if (await available()) {
      try {
        await tails.beginWrite(id, token, leaseMs);
        leased = true;
      } catch {
        failed();
      }
    }
    const finish = async (after: SharedTailChange): Promise<void> => {
      if (after.kind === 'drop') counts.invalidations++;
      if (!leased) {
        unannounced.add(id);
        return;
      }
      try {
        await tails.endWrite(id, token, after);
      } catch {
        failed();
        unannounced.add(id);
      }
    };
    let result: R;
    try {
      result = await write();
    } catch (error) {
      await finish({ kind: 'drop' });
      throw error;
    }
    await finish(change(result));
    return result;
  };

  const append = (request: AppendRequest): Promise<AppendResult[]> =>
    writing(
      request.conversationId,
      () => inner.append(request),
      (results): SharedTailChange =>
        request.restore !== undefined
          ? { kind: 'drop' }
          : { kind: 'extend', keep, messages: results.filter((r) => !r.duplicate).map((r) => r.message) },
    );

  /** A write that names only a message: its conversation is looked up first, to take the lease. */
  const byMessage = async <R>(
    messageId: string,
    write: () => Promise<R>,
    change: (result: R) => SharedTailChange,
  ): Promise<R> => {
    const conversationId = (await inner.getMessage(messageId))?.conversationId;
    if (conversationId === undefined) return write();
    return writing(conversationId, write, change);
  };

  const stats = (): TierStats => ({
    tier: 'l2',
    coherence: 'shared',
    serving: Date.now() >= pausedUntil && unannounced.size === 0 && !unannouncedErasure,
    conversations: null,
    messages: null,
    maxActiveConversations: null,
    maxMessagesPerConversation: keep,
    hits: counts.hits,
    misses: counts.misses,
    hitRatio: counts.hits + counts.misses === 0 ? 0 : counts.hits / (counts.hits + counts.misses),
    fills: counts.fills,
    evictions: null,
    invalidations: counts.invalidations,
    failures: counts.failures,
  });

  return {
    ...passedThrough(inner),
    name: `${inner.name}+l2`,
    append,
    range,
    updateMessage: (id, change) =>
      byMessage(
        id,
        () => inner.updateMessage(id, change),
        (updated): SharedTailChange =>
          updated === undefined ? { kind: 'none' } : { kind: 'replace', message: updated },
      ),
    removeMessage: (id, removal) =>
      byMessage(
        id,
        () => inner.removeMessage(id, removal),
        (): SharedTailChange => ({ kind: 'drop' }),
      ),
    deleteConversation: (id, deletion) =>
      writing(
        id,
        () => inner.deleteConversation(id, deletion),
        (): SharedTailChange => ({ kind: 'drop' }),
      ),
    // Tails of any conversation may hold the subject's (or the expired) messages: all go, before and after.
    eraseSubject: (subjectId, now, removal) => droppingAll(() => inner.eraseSubject(subjectId, now, removal)),
    // Without the engine's own way, the store's scan removes message by message through this tier.
    ...(inner.expireMessages === undefined
      ? {}
      : {
          expireMessages: (request: ExpiryRequest) =>
            request.dryRun
              ? (inner.expireMessages as NonNullable<Backend['expireMessages']>)(request)
              : droppingAll(() => (inner.expireMessages as NonNullable<Backend['expireMessages']>)(request)),
        }),
    ...coherencePassedThrough(inner),
    tiers: () => [stats(), ...(inner.tiers?.() ?? [])],
    async close() {
      try {
        await tails.close();
      } finally {
        await inner.close();
      }
    },
  };
}
