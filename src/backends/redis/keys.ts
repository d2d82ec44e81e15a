/**
 * The key layout of the redis backend and the format of a stored message. The Lua scripts in
 * `scripts.ts` read the same format; this file and those scripts change together.
 *
 * Per conversation `c`, every key is `{prefix}{<tag>}:<part>`, where `<tag>` is `c` with `%`, `{`
 * and `}` percent-encoded: Redis Cluster hashes only the text between the first `{` and the next
 * `}`, so the tag is always the whole (encoded) conversation id, and all keys of a conversation share
 * one slot whatever characters the id holds. The prefix itself may not contain braces.
 *
 * | key | type | holds |
 * |---|---|---|
 * | `conv` | hash | type, title, channel, metadata (JSON), createdAt, updatedAt, lastSeq, messageCount, lastMessageAt, deletedAt, and the stats counters `c:*` |
 * | `live` | sorted set | the messages not soft-deleted: score = seq (never a time: ties and clock skew), member = the stored message (`encodeMessage`), so a page is one ZRANGE |
 * | `dead` | sorted set | the soft-deleted messages, the same way |
 * | `ids` | hash | message id → seq |
 * | `ext` | hash | externalId → seq |
 * | `parts` | hash | participant id → participant JSON |
 * | `people` | sorted set, by lex | `<participantId>\0<seq>` for the sender and the recipient of every message (erasure) |
 * | `revoked` | hash | message id → the newest claim generation taken away from this conversation (cluster claims) |
 * | `unindexed` | hash | outbox: global index entries a cluster append made true and has not yet added (see global-index.ts) |
 *
 * Global keys, one slot each (cross-slot indexes, kept as global-index.ts explains):
 *
 * | key | type | holds |
 * |---|---|---|
 * | `id:<messageId>` | string | `<generation>|<conversationId>`: which conversation owns the id (`<generation>|` once erased) |
 * | `conversations` | sorted set, by lex | every conversation id |
 * | `activity` | sorted set, by lex | `<activityAt>\0<conversationId>` (activityAt = lastMessageAt, else createdAt) |
 * | `p:<participantId>` | sorted set, by lex | conversations where the participant is a member or sent/received a message |
 * | `x:<externalId>` | sorted set, by lex | conversations holding a message with that externalId |
 */
import type { Message } from '../../model.js';

/** The keys of one conversation, in the order the scripts take them as KEYS. */
export interface ConversationKeys {
  conv: string;
  live: string;
  dead: string;
  ids: string;
  ext: string;
  parts: string;
  people: string;
  revoked: string;
  unindexed: string;
}

/** Every key name of one store, under one prefix. */
export interface RedisKeys {
  readonly prefix: string;
  conversation(conversationId: string): ConversationKeys;
  messageId(id: string): string;
  conversations: string;
  activity: string;
  participant(participantId: string): string;
  external(externalId: string): string;
}

/** Separates fields inside stored values and index members: the store rejects NUL in every text. */
export const SEPARATOR = '\u0000';

/** The key names of one store: a conversation's keys are `<prefix>{<tag>}:<part>` (see above). */
export function redisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    conversation(conversationId) {
      const base = `${prefix}${hashTag(conversationId)}:`;
      return {
        conv: `${base}conv`,
        live: `${base}live`,
        dead: `${base}dead`,
        ids: `${base}ids`,
        ext: `${base}ext`,
        parts: `${base}parts`,
        people: `${base}people`,
        revoked: `${base}revoked`,
        unindexed: `${base}unindexed`,
      };
    },
    messageId: (id) => `${prefix}id:${id}`,
    conversations: `${prefix}conversations`,
    activity: `${prefix}activity`,
    participant: (participantId) => `${prefix}p:${participantId}`,
    external: (externalId) => `${prefix}x:${externalId}`,
  };
}

/** `{id}` with `%`, `{` and `}` percent-encoded, so the tag can never end early. */
export function hashTag(conversationId: string): string {
  return `{${conversationId.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
}

/** The activity index member of a conversation. */
export function activityMember(activityAt: string, conversationId: string): string {
  return `${activityAt}${SEPARATOR}${conversationId}`;
}

/** One letter per stats counter a message feeds; the scripts map them to the `c:*` counters. */
function statsFlags(message: Omit<Message, 'seq' | 'conversationId'>): string {
  let flags = message.direction === 'incoming' ? 'i' : 'o';
  flags += { user: 'u', assistant: 'a', system: 's', tool: 't' }[message.role];
  if (message.media !== undefined) flags += 'M';
  if (message.command !== undefined) flags += 'C';
  if (message.command?.admin === true) flags += 'A';
  if (message.status === 'failed') flags += 'F';
  return flags;
}

/**
 * A message as stored (a member of `live` or `dead`): a header the scripts can read without a JSON
 * parser, then the JSON of the other fields. Header: deletedAt, createdAt, stats flags, id,
 * externalId, senderId, recipientId (empty when absent), separated by NUL. The id makes every
 * member unique; `conversationId` and `seq` come from the key and the score. Lua's cjson is not
 * used anywhere: it would round numbers (9007199254740991) and turn `[]` into `{}`.
 */
export function encodeMessage(
  message: Omit<Message, 'seq' | 'conversationId'> & { seq?: number; conversationId?: string },
): string {
  const {
    id,
    externalId,
    senderId,
    recipientId,
    createdAt,
    deletedAt,
    seq: _seq,
    conversationId: _conversationId,
    ...rest
  } = message;
  return [
    deletedAt ?? '',
    createdAt,
    statsFlags(message),
    id,
    externalId ?? '',
    senderId ?? '',
    recipientId ?? '',
    JSON.stringify(rest),
  ].join(SEPARATOR);
}

/** The message a stored value holds (see `encodeMessage`); `conversationId` and `seq` come from the key and the score. */
export function decodeMessage(conversationId: string, seq: number, value: string): Message {
  // Read on every page of every read: plain slicing and assignments, no intermediate objects.
  const end1 = value.indexOf(SEPARATOR);
  const end2 = value.indexOf(SEPARATOR, end1 + 1);
  const end3 = value.indexOf(SEPARATOR, end2 + 1);
  const end4 = value.indexOf(SEPARATOR, end3 + 1);
  const end5 = value.indexOf(SEPARATOR, end4 + 1);
  const end6 = value.indexOf(SEPARATOR, end5 + 1);
  const end7 = value.indexOf(SEPARATOR, end6 + 1);
  const message = { id: value.slice(end3 + 1, end4), conversationId, seq } as Message;
  if (end5 > end4 + 1) message.externalId = value.slice(end4 + 1, end5);
  if (end6 > end5 + 1) message.senderId = value.slice(end5 + 1, end6);
  if (end7 > end6 + 1) message.recipientId = value.slice(end6 + 1, end7);
  Object.assign(message, JSON.parse(value.slice(end7 + 1)));
  message.createdAt = value.slice(end1 + 1, end2);
  if (end1 > 0) message.deletedAt = value.slice(0, end1);
  return message;
}
