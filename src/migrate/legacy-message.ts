/**
 * One legacy message as a chatstore message: the shapes bots have written (`role`/`content`,
 * `isUser`/`message`/`text`, times in milliseconds, seconds or ISO), a deterministic id and external
 * id from its source key, where it came from in `metadata.migratedFrom` (layout, key and the run that
 * stored it: what a rollback removes), and everything else it held in `metadata.legacy`, so nothing
 * is lost.
 * A record of no known shape is an error with its reason, never a guess.
 */
import { createHash } from 'node:crypto';
import {
  type JsonObject,
  type JsonValue,
  MESSAGE_STATUSES,
  type Media,
  type MessageStatus,
  type NewMessage,
  type Role,
} from '../model.js';
import { normalizeTime } from '../time.js';
import type { LayoutName, SourceRecord } from './source.js';

/** A record as a message to append, with the time that orders it. */
export interface LegacyMessage {
  message: NewMessage & { id: string; externalId: string; createdAt: string };
  /** Epoch milliseconds of `createdAt`. */
  at: number;
  /** Deleted in the source: stored, then soft-deleted (its deletion time is the migration's). */
  deleted: boolean;
  /** The time is the record's own, not the fallback. */
  timed: boolean;
}

export type Converted = { ok: true; value: LegacyMessage } | { ok: false; reason: string };

const ROLE_FIELDS = ['role', 'direction', 'sender', 'from', 'author', 'type'] as const;
const TEXT_FIELDS = ['content', 'message', 'text', 'body'] as const;
const TIME_FIELDS = ['timestamp', 'createdAt', 'created_at', 'time', 'date', 'ts'] as const;

/** Role words of the common layouts, lower-cased. */
const ROLE_WORDS: Readonly<Record<string, Role>> = {
  user: 'user',
  human: 'user',
  customer: 'user',
  client: 'user',
  incoming: 'user',
  inbound: 'user',
  assistant: 'assistant',
  bot: 'assistant',
  ai: 'assistant',
  agent: 'assistant',
  model: 'assistant',
  outgoing: 'assistant',
  outbound: 'assistant',
  system: 'system',
  tool: 'tool',
  function: 'tool',
};

/** Times below this many are seconds, at or above it milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const SECONDS_BELOW = 1e11;

/**
 * The message a record holds, in conversation `conversationId` (whose person is `person`, a phone
 * number or user id). `fallbackTime` (ms) is used when the record has no time of its own.
 */
export function legacyMessage(
  layout: LayoutName,
  record: SourceRecord,
  person: string,
  fallbackTime: number | undefined,
  runId: string,
): Converted {
  const value = typeof record.value === 'string' ? parseJson(record.value) : record.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not a message object' };
  }
  const fields = value as Record<string, unknown>;
  const role = roleOf(fields);
  if (role === undefined) return { ok: false, reason: 'no role: expected role, isUser, sender, from or type' };
  const text = TEXT_FIELDS.find((name) => typeof fields[name] === 'string');
  if (text === undefined) return { ok: false, reason: 'no text: expected content, message, text or body as a string' };
  const timeField = TIME_FIELDS.find((name) => fields[name] !== undefined && fields[name] !== null);
  let at: number | undefined;
  if (timeField !== undefined) {
    at = timeOf(fields[timeField]);
    if (at === undefined)
      return { ok: false, reason: `${timeField} is not a time (milliseconds, seconds or ISO 8601)` };
  } else {
    at = fallbackTime;
    if (at === undefined) return { ok: false, reason: 'no time: expected timestamp, createdAt, time or date' };
  }
  const media = mediaOf(fields);
  const log = logFieldsOf(fields, role.role, person);
  // Structured AI content (LangChain's content blocks, Mastra's and the AI SDK's parts) is kept as it was.
  const parts = Array.isArray(fields.parts) ? (fields.parts as JsonValue[]) : undefined;
  // What the message took its fields from; the rest is kept as it was.
  const used = new Set<string>([
    role.field,
    text,
    ...(timeField === undefined ? [] : [timeField]),
    ...(media?.fields ?? []),
    ...log.fields,
    ...(parts === undefined ? [] : ['parts']),
  ]);
  const legacy: JsonObject = {};
  for (const [name, field] of Object.entries(fields)) {
    if (!used.has(name) && field !== undefined && field !== null) legacy[name] = field as JsonObject[string];
  }
  const metadata: JsonObject = { ...log.metadata, migratedFrom: { layout, key: record.key, run: runId } };
  if (Object.keys(legacy).length > 0) metadata.legacy = legacy;
  return {
    ok: true,
    value: {
      at,
      deleted: log.deleted,
      timed: timeField !== undefined,
      message: {
        id: migratedId(layout, record.key, at),
        externalId: log.externalId ?? record.key,
        role: role.role,
        content: fields[text] as string,
        ...log.message,
        ...(parts === undefined ? {} : { parts }),
        ...(media === undefined ? {} : { media: [media.media] }),
        createdAt: new Date(at).toISOString(),
        metadata,
      },
    },
  };
}

const STATUS_TIME_FIELDS: Readonly<Record<string, MessageStatus>> = {
  sent_at: 'sent',
  delivered_at: 'delivered',
  read_at: 'read',
  failed_at: 'failed',
};

/**
 * The columns of a message log (the old PostgreSQL `messages` table, and JSON that kept the same
 * fields): who sent it to whom, the provider's message id (kept as the external id, so status
 * reports after the migration find the message), status and its times, error, reply, command,
 * metadata and deletion.
 */
function logFieldsOf(
  fields: Record<string, unknown>,
  role: Role,
  person: string,
): {
  message: Partial<NewMessage>;
  fields: string[];
  metadata: JsonObject;
  externalId: string | undefined;
  deleted: boolean;
} {
  const used: string[] = [];
  const take = (names: readonly string[], accept: (value: unknown) => boolean): unknown => {
    const name = names.find((candidate) => accept(fields[candidate]));
    if (name === undefined) return undefined;
    used.push(name);
    return fields[name];
  };
  const someText = (value: unknown) =>
    typeof value === 'string' && value !== '' && ROLE_WORDS[value.toLowerCase()] === undefined;
  const message: Partial<NewMessage> = {};
  const sender = take(['sender', 'from', 'sender_id', 'senderId'], someText) as string | undefined;
  const recipient = take(['recipient', 'to', 'recipient_id', 'recipientId'], someText) as string | undefined;
  if (sender !== undefined) message.senderId = sender;
  else if (role === 'user') message.senderId = person;
  if (recipient !== undefined) message.recipientId = recipient;
  else if (role === 'assistant') message.recipientId = person;
  const status = take(['status'], (value) => (MESSAGE_STATUSES as readonly unknown[]).includes(value));
  if (status !== undefined) message.status = status as MessageStatus;
  const statusAt: Record<string, string> = {};
  for (const [name, reported] of Object.entries(STATUS_TIME_FIELDS)) {
    const at = fields[name] === undefined || fields[name] === null ? undefined : timeOf(fields[name]);
    if (at === undefined) continue;
    used.push(name);
    statusAt[reported] = new Date(at).toISOString();
  }
  if (Object.keys(statusAt).length > 0) message.statusAt = statusAt;
  const error = take(['error_message', 'errorMessage'], (value) => typeof value === 'string' && value !== '');
  if (error !== undefined) message.error = { message: error as string };
  const replyTo = take(
    ['reply_to_message_id', 'replyTo', 'reply_to'],
    (value) => typeof value === 'string' && value !== '',
  );
  if (replyTo !== undefined) message.replyTo = replyTo as string;
  const command = take(['command_name', 'commandName'], (value) => typeof value === 'string' && value !== '');
  if (command !== undefined) {
    message.command = { name: command as string, admin: fields.is_admin_command === true };
    used.push('is_admin_command', 'is_bot_command');
  } else if (fields.is_bot_command === false) used.push('is_admin_command', 'is_bot_command');
  const externalId = take(['message_id', 'messageId'], (value) => typeof value === 'string' && value !== '') as
    | string
    | undefined;
  const metadataValue = take(
    ['metadata'],
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  );
  const deletedAt = fields.deleted_at;
  const deleted =
    fields.is_deleted === true || fields.deleted === true || (deletedAt !== undefined && deletedAt !== null);
  if (deleted || fields.is_deleted === false || deletedAt === null) used.push('deleted_at', 'is_deleted', 'deleted');
  return {
    message,
    fields: used,
    metadata: (metadataValue ?? {}) as JsonObject,
    externalId,
    deleted,
  };
}

/**
 * A message id derived from where the message came from and when it was written: the same record
 * always gets the same id, so a re-run or a resumed run stores nothing twice. Laid out as a UUIDv7:
 * the time (ms) first, then 74 bits of the SHA-256 of the layout and the source key. Ordered by
 * time, the ids of a conversation go into the engine's id index next to each other, as the store's
 * own ids do; ids in hash order would land on a random index page each, and made a migration
 * write twice the pages an import does.
 */
export function migratedId(layout: LayoutName, key: string, at: number): string {
  const hex = createHash('sha256').update(`${layout}\u0000${key}`).digest('hex');
  const time = Math.max(0, Math.min(Math.trunc(at), 0xffff_ffff_ffff))
    .toString(16)
    .padStart(12, '0');
  const variant = ((Number.parseInt(hex[3] as string, 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${hex.slice(0, 3)}-${variant}${hex.slice(4, 7)}-${hex.slice(7, 19)}`;
}

/** Epoch milliseconds of a legacy time: a number of ms or seconds, a numeric string, or ISO 8601. */
export function timeOf(value: unknown): number | undefined {
  // The stored spelling (every PostgreSQL source's times, most JSON ones): one parse, checked by
  // spelling it back, instead of the general parse below (the same answer, three times the work).
  if (typeof value === 'string' && CANONICAL_TIME.test(value) && !value.startsWith('0000')) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms) && new Date(ms).toISOString() === value) return ms;
  }
  if (typeof value === 'number')
    return Number.isFinite(value) ? (value < SECONDS_BELOW ? value * 1000 : value) : undefined;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) return timeOf(Number(value));
  const iso = normalizeTime(value);
  return iso === undefined ? undefined : Date.parse(iso);
}

/** `YYYY-MM-DDTHH:mm:ss.sssZ`, the one spelling `normalizeTime` gives. */
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const MEDIA_URL_FIELDS = ['mediaUrl', 'media_url', 'imageUrl', 'fileUrl'] as const;
const MEDIA_TYPE_FIELDS = ['mediaType', 'media_type'] as const;
const MEDIA_MIME_FIELDS = ['mimeType', 'mime_type', 'media_content_type'] as const;

/** An attachment the old layouts kept as flat fields (`mediaUrl`, `mediaType`, `mimeType`), and those fields. */
function mediaOf(fields: Record<string, unknown>): { media: Media; fields: string[] } | undefined {
  const urlField = MEDIA_URL_FIELDS.find((name) => typeof fields[name] === 'string' && fields[name] !== '');
  if (urlField === undefined) return undefined;
  const typeField = MEDIA_TYPE_FIELDS.find((name) => typeof fields[name] === 'string' && fields[name] !== '');
  const mimeField = MEDIA_MIME_FIELDS.find((name) => typeof fields[name] === 'string' && fields[name] !== '');
  const mimeType = mimeField === undefined ? undefined : (fields[mimeField] as string);
  const type = typeField === undefined ? (mimeType?.split('/')[0] ?? 'file') : (fields[typeField] as string);
  const size = Number(fields.media_size);
  const sized =
    Number.isSafeInteger(size) && size >= 0 && fields.media_size !== null && fields.media_size !== undefined;
  return {
    media: {
      url: fields[urlField] as string,
      type,
      ...(mimeType === undefined ? {} : { mimeType }),
      ...(sized ? { size } : {}),
    },
    fields: [
      urlField,
      ...(typeField === undefined ? [] : [typeField]),
      ...(mimeField === undefined ? [] : [mimeField]),
      ...(sized ? ['media_size'] : []),
    ],
  };
}

/** The role, and the field it was read from. */
function roleOf(fields: Record<string, unknown>): { role: Role; field: string } | undefined {
  if (typeof fields.isUser === 'boolean') return { role: fields.isUser ? 'user' : 'assistant', field: 'isUser' };
  for (const field of ROLE_FIELDS) {
    const word = fields[field];
    const role = typeof word === 'string' ? ROLE_WORDS[word.toLowerCase()] : undefined;
    if (role !== undefined) return { role, field };
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
