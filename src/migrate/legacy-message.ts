/**
 * One legacy message as a chatstore message: the shapes bots have written (`role`/`content`,
 * `isUser`/`message`/`text`, times in milliseconds, seconds or ISO), a deterministic id and external
 * id from its source key, where it came from in `metadata.migratedFrom` (layout, key and the run that
 * stored it: what a rollback removes), and everything else it held in `metadata.legacy`, so nothing
 * is lost.
 * A record of no known shape is an error with its reason, never a guess.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, Media, NewMessage, Role } from '../model.js';
import { normalizeTime } from '../time.js';
import type { LayoutName, SourceRecord } from './source.js';

/** A record as a message to append, with the time that orders it. */
export interface LegacyMessage {
  message: NewMessage & { id: string; externalId: string; createdAt: string };
  /** Epoch milliseconds of `createdAt`. */
  at: number;
}

export type Converted = { ok: true; value: LegacyMessage } | { ok: false; reason: string };

const ROLE_FIELDS = ['role', 'sender', 'from', 'author', 'type'] as const;
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
  // What the message took its role, text, time and media from; the rest is kept as it was.
  const used = new Set<string>([
    role.field,
    text,
    ...(timeField === undefined ? [] : [timeField]),
    ...(media?.fields ?? []),
  ]);
  const legacy: JsonObject = {};
  for (const [name, field] of Object.entries(fields)) {
    if (!used.has(name) && field !== undefined) legacy[name] = field as JsonObject[string];
  }
  const metadata: JsonObject = { migratedFrom: { layout, key: record.key, run: runId } };
  if (Object.keys(legacy).length > 0) metadata.legacy = legacy;
  const incoming = role.role === 'user';
  return {
    ok: true,
    value: {
      at,
      message: {
        id: migratedId(layout, record.key),
        externalId: record.key,
        role: role.role,
        content: fields[text] as string,
        ...(incoming ? { senderId: person } : role.role === 'assistant' ? { recipientId: person } : {}),
        ...(media === undefined ? {} : { media: [media.media] }),
        createdAt: new Date(at).toISOString(),
        metadata,
      },
    },
  };
}

/**
 * A message id derived from where the message came from: the same source key always gives the same
 * id, so a re-run or a resumed run stores nothing twice. UUID-shaped (version 8, "custom").
 */
export function migratedId(layout: LayoutName, key: string): string {
  const hex = createHash('sha256').update(`${layout}\u0000${key}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Epoch milliseconds of a legacy time: a number of ms or seconds, a numeric string, or ISO 8601. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) ? (value < SECONDS_BELOW ? value * 1000 : value) : undefined;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) return timeOf(Number(value));
  const iso = normalizeTime(value);
  return iso === undefined ? undefined : Date.parse(iso);
}

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
  return {
    media: { url: fields[urlField] as string, type, ...(mimeType === undefined ? {} : { mimeType }) },
    fields: [
      urlField,
      ...(typeField === undefined ? [] : [typeField]),
      ...(mimeField === undefined ? [] : [mimeField]),
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
