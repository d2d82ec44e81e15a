/**
 * The append rules every backend applies inside its own transaction, written once: idempotency,
 * optimistic concurrency, and consecutive seqs. A backend reads what it needs under its lock, asks
 * for a plan, and writes the plan's `inserts`.
 */
import type { AppendRequest } from './backend.js';
import { ChatStoreError } from './errors.js';
import type { AppendResult, Message } from './model.js';

/** Stored messages that could collide with a request, read by the backend under its lock. */
export interface StoredMatches {
  /** Stored messages whose id is one of the request's ids, in any conversation. */
  byId: ReadonlyMap<string, Message>;
  /** Stored messages of this conversation whose externalId is one of the request's. */
  byExternalId: ReadonlyMap<string, Message>;
}

/**
 * What to write: the new messages in seq order and the conversation's counters after them. When
 * `inserts` is empty (every message was a duplicate) the backend writes nothing at all: no
 * conversation change, no `updatedAt` bump, no participants. The one exception is a restore
 * (`request.restore`) into a conversation that does not exist: it is created, with the restore's
 * values (`writesNothing` tells the two apart).
 */
export interface AppendPlan {
  results: AppendResult[];
  inserts: Message[];
  lastSeq: number;
  lastMessageAt: string | undefined;
}

/**
 * @example
 * const plan = planAppend(request, conversation?.lastSeq ?? 0, matches);
 * insert(plan.inserts); setLastSeq(plan.lastSeq);
 */
export function planAppend(request: AppendRequest, lastSeq: number, stored: StoredMatches): AppendPlan {
  const results: AppendResult[] = [];
  const inserts: Message[] = [];
  const batchIds = new Map<string, Message>();
  const batchExternalIds = new Map<string, Message>();
  const restore = request.restore;
  let seq = lastSeq;

  for (const draft of request.messages) {
    const sameId = stored.byId.get(draft.id) ?? batchIds.get(draft.id);
    if (sameId !== undefined && sameId.conversationId !== request.conversationId) {
      throw new ChatStoreError('CONFLICT', `message id ${draft.id} is already used in another conversation`);
    }
    const duplicateOf =
      sameId ??
      (draft.externalId === undefined
        ? undefined
        : (stored.byExternalId.get(draft.externalId) ?? batchExternalIds.get(draft.externalId)));
    if (duplicateOf !== undefined) {
      results.push({ message: duplicateOf, duplicate: true });
      continue;
    }
    // Key order is no promise here (nor in any engine): the store rebuilds every message it returns
    // in the documented order (`canonicalMessage` in store.ts), so an append's JSON matches a later
    // read's, byte for byte, on every engine.
    const { id, seq: given, ...fields } = draft;
    if (restore === undefined) seq += 1;
    else if (given !== undefined && given > seq) seq = given;
    else {
      throw new ChatStoreError(
        'CONFLICT',
        `message ${id} has seq ${given}, not above seq ${seq} of conversation ${request.conversationId}`,
      );
    }
    const message: Message = { id, conversationId: request.conversationId, seq, ...fields };
    inserts.push(message);
    batchIds.set(message.id, message);
    if (message.externalId !== undefined) batchExternalIds.set(message.externalId, message);
    results.push({ message, duplicate: false });
  }

  if (inserts.length > 0 && request.expectedLastSeq !== undefined && request.expectedLastSeq !== lastSeq) {
    throw new ChatStoreError(
      'CONFLICT',
      `conversation ${request.conversationId} is at seq ${lastSeq}, not the expected ${request.expectedLastSeq}`,
    );
  }
  return {
    results,
    inserts,
    lastSeq: Math.max(seq, restore?.lastSeq ?? 0),
    lastMessageAt: restore?.lastMessageAt ?? inserts.at(-1)?.createdAt,
  };
}

/**
 * True when the backend must write nothing for this plan: every message was a duplicate, unless a
 * restore finds its conversation missing (it then creates it). `exists`: the conversation was
 * stored before this call.
 * @example if (writesNothing(request, plan, existing !== undefined)) return plan.results;
 */
export function writesNothing(request: AppendRequest, plan: AppendPlan, exists: boolean): boolean {
  return plan.inserts.length === 0 && (request.restore === undefined || exists);
}
