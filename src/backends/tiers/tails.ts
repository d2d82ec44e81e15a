/**
 * A conversation's tail as the in-process tier keeps it: its newest messages in seq order, soft-deleted
 * ones included, and what the tail is known to hold. Which range reads a tail answers exactly, and
 * how an append or an edit that this instance made extends or changes it.
 */
import type { RangeQuery } from '../../backend.js';
import type { JsonObject, JsonValue, Message } from '../../model.js';

/** The newest messages of one conversation. */
export interface Tail {
  /** Ascending seq; soft-deleted messages too (a read may ask for them). */
  messages: Message[];
  /**
   * Every stored message with a seq above this is in `messages` (none below it is). For a tail
   * that holds the whole conversation, -1: it answers every range.
   */
  floor: number;
}

/**
 * The tail read from the engine: the `count` newest messages asked for, newest first. Fewer than
 * asked means the conversation has no more: the tail is all of it.
 */
export function tailOf(newestFirst: readonly Message[], count: number): Tail {
  const messages = [...newestFirst].reverse().map(copyMessage);
  const oldest = messages[0];
  const floor = newestFirst.length < count || oldest === undefined ? -1 : oldest.seq - 1;
  return { messages, floor };
}

/**
 * The answer of `range` from a tail, or `undefined` when the tail cannot tell it for certain: an
 * ascending read from below the tail's floor, or a descending one that would go past the floor
 * before it has `limit` messages.
 */
export function rangeFromTail(tail: Tail, query: RangeQuery): Message[] | undefined {
  const coversAll = tail.floor < 0 || (query.afterSeq !== undefined && query.afterSeq >= tail.floor);
  if (query.order === 'asc' && !coversAll) return undefined;
  const found: Message[] = [];
  const { messages } = tail;
  const matches = (message: Message): boolean =>
    (query.afterSeq === undefined || message.seq > query.afterSeq) &&
    (query.beforeSeq === undefined || message.seq < query.beforeSeq) &&
    (query.includeDeleted || message.deletedAt === undefined) &&
    (query.from === undefined || message.createdAt >= query.from) &&
    (query.to === undefined || message.createdAt < query.to);
  if (query.order === 'asc') {
    for (let i = 0; i < messages.length && found.length < query.limit; i++) {
      const message = messages[i] as Message;
      if (matches(message)) found.push(copyMessage(message));
    }
    return found;
  }
  for (let i = messages.length - 1; i >= 0 && found.length < query.limit; i--) {
    const message = messages[i] as Message;
    if (matches(message)) found.push(copyMessage(message));
  }
  // Short of the limit, the messages below the floor might hold the rest.
  return found.length === query.limit || coversAll ? found : undefined;
}

/**
 * The tail after this instance appended `added` (ascending, all new), or `undefined` when it cannot
 * be known: a seq between the tail's newest and the first added one may be stored by another writer
 * (or have been used by a message since deleted), so only an append that follows on directly extends
 * the tail. At most `keep` messages stay.
 */
export function extendedTail(tail: Tail, added: readonly Message[], keep: number): Tail | undefined {
  const first = added[0];
  if (first === undefined) return tail;
  const newest = tail.messages[tail.messages.length - 1]?.seq ?? (tail.floor < 0 ? 0 : tail.floor);
  if (first.seq !== newest + 1) return undefined;
  const messages = [...tail.messages, ...added.map(copyMessage)];
  if (messages.length <= keep) return { messages, floor: tail.floor };
  const kept = messages.slice(messages.length - keep);
  return { messages: kept, floor: (kept[0] as Message).seq - 1 };
}

/** The tail with `message` (as stored now) in place of its earlier version; unchanged when it is below the floor. */
export function replacedInTail(tail: Tail, message: Message): Tail | undefined {
  const index = tail.messages.findIndex((cached) => cached.seq === message.seq);
  if (index < 0) return message.seq > tail.floor ? undefined : tail;
  const messages = [...tail.messages];
  messages[index] = copyMessage(message);
  return { messages, floor: tail.floor };
}

/** The tail without the message `id`, or `undefined` when it does not hold it. */
export function withoutMessage(tail: Tail, id: string): Tail | undefined {
  const index = tail.messages.findIndex((cached) => cached.id === id);
  if (index < 0) return undefined;
  return { messages: tail.messages.filter((_, i) => i !== index), floor: tail.floor };
}

/**
 * A copy of a message going in (the engine's caller holds the original) or out (so that no caller
 * can change what the tier holds).
 */
function copyMessage(message: Message): Message {
  const copy: Message = { ...message };
  if (message.parts !== undefined) copy.parts = message.parts.map(copyJson);
  if (message.media !== undefined) copy.media = message.media.map((media) => ({ ...media }));
  if (message.statusAt !== undefined) copy.statusAt = { ...message.statusAt };
  if (message.error !== undefined) copy.error = { ...message.error };
  if (message.command !== undefined) copy.command = { ...message.command };
  if (message.metadata !== undefined) copy.metadata = copyJson(message.metadata) as JsonObject;
  return copy;
}

function copyJson(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const copy: { [key: string]: JsonValue } = {};
  for (const key in value) copy[key] = copyJson(value[key] as JsonValue);
  return copy;
}
