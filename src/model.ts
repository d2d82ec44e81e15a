/**
 * The data model (docs/api.md). Every time is an ISO-8601 string in UTC with milliseconds
 * (`2026-11-22T02:15:06.123Z`); optional fields are absent, never `null`, so every backend
 * returns the same shape for the same input. The store returns every object below with its keys in
 * the order its fields are declared here (`canonicalMessage` and the others in store.ts), so the JSON
 * is the same text on every engine; metadata and parts keep the caller's key order.
 */

export const ROLES = ['user', 'assistant', 'system', 'tool'] as const;
export type Role = (typeof ROLES)[number];

export const DIRECTIONS = ['incoming', 'outgoing'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Outgoing lifecycle; see `nextStatus` for the forward-only rule. */
export const MESSAGE_STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const PARTICIPANT_KINDS = ['human', 'bot', 'ai', 'system'] as const;
export type ParticipantKind = (typeof PARTICIPANT_KINDS)[number];

/** Any value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An attachment, by reference only. */
export interface Media {
  url: string;
  type: string;
  mimeType?: string;
  size?: number;
  sha256?: string;
  providerId?: string;
}

/** The time of the first report of each status; keys come back in this (lifecycle) order. */
export interface StatusTimes {
  queued?: string;
  sent?: string;
  delivered?: string;
  read?: string;
  failed?: string;
}

export interface MessageError {
  code?: string;
  message: string;
}

/** A detected bot command (`/help`, `!ban`). */
export interface Command {
  name: string;
  admin: boolean;
}

/** A stored message, as every read returns it. @example const text = (m: Message) => `${m.seq}: ${m.content}`; */
export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  externalId?: string;
  role: Role;
  direction: Direction;
  senderId?: string;
  recipientId?: string;
  content: string;
  parts?: JsonValue[];
  media?: Media[];
  status?: MessageStatus;
  statusAt?: StatusTimes;
  error?: MessageError;
  replyTo?: string;
  command?: Command;
  metadata?: JsonObject;
  createdAt: string;
  editedAt?: string;
  deletedAt?: string;
}

/**
 * What a caller appends. `role` or `direction` is required (the other is derived: `user` ⇔ `incoming`,
 * anything else ⇔ `outgoing`); `createdAt` accepts an ISO string, a `Date` or epoch milliseconds.
 * `command: null` turns command detection off for this message.
 * @example await store.append('+15550001', { role: 'user', content: 'hi', externalId: 'wamid.1' });
 */
export interface NewMessage {
  id?: string;
  externalId?: string;
  role?: Role;
  direction?: Direction;
  senderId?: string;
  recipientId?: string;
  content?: string;
  parts?: JsonValue[];
  media?: Media[];
  status?: MessageStatus;
  /** Times of earlier status reports, e.g. when importing history. */
  statusAt?: { [status in keyof StatusTimes]?: string | Date | number };
  error?: MessageError;
  replyTo?: string;
  command?: Command | null;
  metadata?: JsonObject;
  createdAt?: string | Date | number;
}

export interface Participant {
  id: string;
  kind: ParticipantKind;
  name?: string;
  joinedAt: string;
}

/** @example await store.addParticipants('group-1', [{ id: 'bot', kind: 'bot' }]); */
export interface NewParticipant {
  id: string;
  kind?: ParticipantKind;
  name?: string;
}

/** @example const c = await store.getConversation('+15550001'); c?.lastSeq; */
export interface Conversation {
  id: string;
  type: string;
  title?: string;
  /** Where it lives (`whatsapp`, `sms`, `telegram`, `web`…): set by ingest and the adapters, or by the caller. */
  channel?: string;
  participants: Participant[];
  metadata: JsonObject;
  createdAt: string;
  updatedAt: string;
  lastSeq: number;
  /** Messages stored (soft-deleted ones included; hard-deleted ones not). */
  messageCount: number;
  lastMessageAt?: string;
  deletedAt?: string;
}

/** Attributes of a conversation created explicitly or by its first append. @example await store.createConversation('g1', { type: 'group', title: 'Ops' }); */
export interface NewConversation {
  type?: string;
  title?: string;
  /** A lowercase token such as `whatsapp`, `sms`, `telegram` or `web`. */
  channel?: string;
  metadata?: JsonObject;
  participants?: NewParticipant[];
}

/**
 * A change to a conversation. `metadata` is a JSON merge patch (RFC 7396): keys are merged into the
 * stored object by the engine, `null` removes a key.
 * @example await store.updateConversation('g1', { metadata: { plan: 'pro', trial: null } });
 */
export interface ConversationPatch {
  type?: string;
  title?: string | null;
  /** `null` removes it. */
  channel?: string | null;
  metadata?: JsonObject;
}

export interface AppendResult {
  message: Message;
  duplicate: boolean;
}

/** @example const { messages, next } = await store.list('c', { limit: 50 }); */
export interface Page {
  messages: Message[];
  /** Opaque cursor for the following page; absent when there is none. */
  next?: string;
}

/** @example const { hits } = await store.search('refund order'); hits[0]?.snippet; */
export interface SearchHit {
  message: Message;
  /**
   * The matching passage, matches wrapped in `<mark>`…`</mark>`. Safe HTML: the text is escaped (`&`, `<`,
   * `>`, `"`, `'`), so the `<mark>` tags are its only markup.
   */
  snippet: string;
  /** Engine relevance; higher is better; comparable only within one result list. */
  score: number;
}

export interface SearchPage {
  hits: SearchHit[];
  next?: string;
}

/** @example const { conversations, next } = await store.listConversations({ limit: 20 }); */
export interface ConversationPage {
  conversations: Conversation[];
  next?: string;
}

/** @example const s = await store.stats(); s.total; */
export interface Stats {
  /** Messages not deleted. */
  total: number;
  incoming: number;
  outgoing: number;
  withMedia: number;
  commands: number;
  adminCommands: number;
  failed: number;
  /** Soft-deleted messages still stored. */
  deleted: number;
  byRole: Record<Role, number>;
  /** Conversations counted (1 or 0 when a conversation was asked for). */
  conversations: number;
  /**
   * Per channel, its conversations and their messages, counted as `conversations` and `total` are
   * (deleted ones left out). Conversations without a channel are not in it.
   */
  byChannel: Record<string, ChannelStats>;
}

/** What `stats` counts on one channel. */
export interface ChannelStats {
  conversations: number;
  messages: number;
}

/** What `eraseSubject` removed. @example const r = await store.eraseSubject('+15550001'); r.messagesDeleted; */
export interface ErasureReceipt {
  subjectId: string;
  messagesDeleted: number;
  conversationsDeleted: string[];
  participantEntriesRemoved: number;
  /** Archive files rewritten without the subject (docs/archive.md); absent when none was. */
  archiveFilesRewritten?: number;
  erasedAt: string;
  /**
   * Only when `compact: true` was asked: `done` when the engine rewrote its storage after the
   * erasure, so the erased bytes had left its files when the call resolved; `not-needed` when the
   * engine leaves none behind (memory, SQLite). See docs/backends.md, "Erasure on disk".
   */
  compaction?: 'done' | 'not-needed';
}

/** A `{ role, content }` pair ready for an LLM. */
export interface ContextMessage {
  role: Role;
  content: string;
}
