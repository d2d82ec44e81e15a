/**
 * Input validation at the store boundary (docs/api.md; invariant 7 in docs/ARCHITECTURE.md): schemas built once per store from its
 * limits. Every failure is `ChatStoreError('INVALID_ARGUMENT')` with the path of the failing field.
 */
import { z } from 'zod';
import { ChatStoreError } from './errors.js';
import type { Limits } from './limits.js';
import {
  type Command,
  type Conversation,
  type ConversationPatch,
  DIRECTIONS,
  type Direction,
  type JsonObject,
  type JsonValue,
  MESSAGE_STATUSES,
  type Media,
  type Message,
  type MessageError,
  type MessageStatus,
  type NewConversation,
  type NewParticipant,
  PARTICIPANT_KINDS,
  ROLES,
  type Role,
  type StatusTimes,
} from './model.js';
import { isStorableText, utf8Length } from './text.js';

/** A message as validated: times normalized to ISO strings, nothing else changed. */
export interface ValidMessage {
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
  statusAt?: StatusTimes;
  error?: MessageError;
  replyTo?: string;
  command?: Command | null;
  metadata?: JsonObject;
  createdAt?: string;
}

// Year, month, day, then optionally hour, minute, second, fraction and a zone (Z or ±hh[:]mm).
const TIME_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2})))?$/;
// Date.UTC maps years 0–99 to 19xx, so the first instant of year 1 is spelled out.
const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MINUTE = 60_000;

/** Days in a month (1–12) of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The instant an ISO-8601 text names, or NaN when a field is outside the real calendar: month 1–12,
 * a day that month has (February 29th only in leap years), hour 0–23 (no `24:00`), minute 0–59,
 * second 0–59 (no leap second: no engine or `Date` can hold one), an offset up to ±23:59. `Date.parse`
 * would roll `2026-02-30` over to March 2nd; nothing is rolled over here. Digits past milliseconds
 * are cut.
 */
function parseTime(text: string): number {
  const match = TIME_TEXT.exec(text);
  if (match === null) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone, sign, zh = '0', zm = '0'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const offsetHours = Number(zh);
  const offsetMinutes = Number(zm);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, '0')));
  const offset = zone === undefined || zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  return utc.getTime() - offset * MINUTE;
}

/**
 * Normalizes a time given as an ISO-8601 string (with a zone, or a bare date), a `Date` or epoch
 * milliseconds to `YYYY-MM-DDTHH:mm:ss.sssZ`; `undefined` when it is not one, or names a day or
 * time the calendar does not have (`2026-02-30`, `T24:00`, a leap second).
 */
export function normalizeTime(value: unknown): string | undefined {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') ms = parseTime(value);
  else return undefined;
  if (!Number.isFinite(ms) || ms < MIN_TIME || ms > MAX_TIME) return undefined;
  return new Date(ms).toISOString();
}

/**
 * `value` with every -0 turned into 0 (JSON has one zero; engines that store JSON text would give
 * back 0 anyway). The same object when there is none, so the common case allocates nothing.
 */
function withoutNegativeZero<T>(value: T): T {
  if (typeof value === 'number') return (Object.is(value, -0) ? 0 : value) as T;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item = value[index];
      const normalized = withoutNegativeZero(item);
      if (normalized !== item || Object.is(item, -0)) {
        copy ??= value.slice();
        copy[index] = normalized;
      }
    }
    return (copy ?? value) as T;
  }
  let copy: object | undefined;
  for (const [key, item] of Object.entries(value)) {
    const normalized = withoutNegativeZero(item);
    if (normalized !== item || Object.is(item, -0)) {
      copy ??= { ...value };
      // Defined, not assigned: a key named __proto__ stays a key.
      Object.defineProperty(copy, key, { value: normalized, enumerable: true, writable: true, configurable: true });
    }
  }
  return (copy ?? value) as T;
}

/** The schemas and checks of one store. */
export interface Validator {
  /** Validates one message or a batch; always returns a non-empty array. */
  messages(input: unknown): ValidMessage[];
  /**
   * Validates messages as reads return them (for a restore): every stored field well-formed, times
   * normalized, all of `conversationId`, seqs strictly increasing. May be empty.
   */
  storedMessages(input: unknown, conversationId: string): Message[];
  /** Validates a conversation as reads return it (for a restore). */
  storedConversation(value: unknown, path: string): Conversation;
  id(value: unknown, path: string): string;
  time(value: unknown, path: string): string;
  limit(value: unknown, fallback: number, path: string): number;
  seq(value: unknown, path: string): number;
  text(value: unknown, path: string): string;
  conversation(value: unknown, path: string): NewConversation;
  patch(value: unknown, path: string): ConversationPatch;
  participants(value: unknown, path: string): NewParticipant[];
  status(value: unknown, path: string): MessageStatus;
  error(value: unknown, path: string): MessageError;
  metadata(value: unknown, path: string): JsonObject;
  content(value: unknown, path: string): string;
}

export function validator(limits: Limits): Validator {
  const text = z.string().refine(isStorableText, 'must not contain NUL characters or lone surrogates');
  const id = text
    .refine((value) => value.length > 0, 'must not be empty')
    .refine((value) => value.length <= limits.maxIdLength, `must be at most ${limits.maxIdLength} characters`);
  const shortText = (max: number) => text.refine((value) => value.length <= max, `must be at most ${max} characters`);
  const content = text.refine(
    (value) => utf8Length(value) <= limits.maxContentBytes,
    `must be at most ${limits.maxContentBytes} bytes of UTF-8`,
  );
  const time = z.unknown().transform((value, ctx) => {
    const normalized = normalizeTime(value);
    if (normalized === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 time with a zone, a Date or epoch milliseconds' });
      return z.NEVER;
    }
    return normalized;
  });
  const json = z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = jsonProblem(value, 0, limits.maxJsonDepth);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    })
    .transform(withoutNegativeZero) as unknown as z.ZodType<JsonValue>;
  const jsonObject = z
    .unknown()
    .superRefine((value, ctx) => {
      const problem =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? jsonProblem(value, 0, limits.maxJsonDepth)
          : { path: [], message: 'must be a JSON object' };
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    })
    .transform(withoutNegativeZero) as unknown as z.ZodType<JsonObject>;
  const media = z.strictObject({
    url: shortText(4096).refine((value) => value.length > 0, 'must not be empty'),
    type: shortText(64).refine((value) => value.length > 0, 'must not be empty'),
    mimeType: shortText(255).optional(),
    size: z.number().int().nonnegative().transform(withoutNegativeZero).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
      .optional(),
    providerId: id.optional(),
  });
  const error = z.strictObject({ code: shortText(255).optional(), message: shortText(4096) });
  const statusAt = z.strictObject({
    queued: time.optional(),
    sent: time.optional(),
    delivered: time.optional(),
    read: time.optional(),
    failed: time.optional(),
  });
  const command = z.strictObject({ name: shortText(64), admin: z.boolean() });
  const messageFields = {
    id: id.optional(),
    externalId: id.optional(),
    role: z.enum(ROLES).optional(),
    direction: z.enum(DIRECTIONS).optional(),
    senderId: id.optional(),
    recipientId: id.optional(),
    content: content.optional(),
    parts: z.array(json).optional(),
    media: z.array(media).max(100).optional(),
    status: z.enum(MESSAGE_STATUSES).optional(),
    statusAt: statusAt.optional(),
    error: error.optional(),
    replyTo: id.optional(),
    command: command.nullable().optional(),
    metadata: jsonObject.optional(),
    createdAt: time.optional(),
  };
  const message = z.strictObject(messageFields);
  const seq = z
    .number()
    .int()
    .positive()
    .refine((value) => Number.isSafeInteger(value), 'must be a safe integer');
  const count = z
    .number()
    .int()
    .nonnegative()
    .refine((value) => Number.isSafeInteger(value), 'must be a safe integer');
  // A message as a read returns it (restore): what the store derives or assigns is required, and
  // `command` is the stored one (absent: none), never detected again.
  const storedMessage = z.strictObject({
    ...messageFields,
    id,
    conversationId: id,
    seq,
    role: z.enum(ROLES),
    direction: z.enum(DIRECTIONS),
    content,
    command: command.optional(),
    createdAt: time,
    editedAt: time.optional(),
    deletedAt: time.optional(),
  });
  const participant = z.strictObject({
    id,
    kind: z.enum(PARTICIPANT_KINDS).optional(),
    name: shortText(1024).optional(),
  });
  const participants = z.array(participant).max(limits.maxBatchSize);
  const storedConversation = z.strictObject({
    id,
    type: shortText(64).refine((value) => value.length > 0, 'must not be empty'),
    title: shortText(1024).optional(),
    // As many as the conversation holds: added over time, they may be more than one call takes.
    participants: z.array(
      z.strictObject({ id, kind: z.enum(PARTICIPANT_KINDS), name: shortText(1024).optional(), joinedAt: time }),
    ),
    metadata: jsonObject,
    createdAt: time,
    updatedAt: time,
    lastSeq: count,
    messageCount: count,
    lastMessageAt: time.optional(),
    deletedAt: time.optional(),
  });
  const conversation = z.strictObject({
    type: shortText(64)
      .refine((value) => value.length > 0, 'must not be empty')
      .optional(),
    title: shortText(1024).optional(),
    metadata: jsonObject.optional(),
    participants: participants.optional(),
  });
  const patch = z.strictObject({
    type: shortText(64)
      .refine((value) => value.length > 0, 'must not be empty')
      .optional(),
    title: shortText(1024).nullable().optional(),
    metadata: jsonObject.optional(),
  });

  const structuredBytes = (value: unknown): number => utf8Length(JSON.stringify(value) ?? '');
  const checkStructuredSize = (value: unknown, path: string): void => {
    if (structuredBytes(value) > limits.maxStructuredBytes) {
      throw invalid(path, `must be at most ${limits.maxStructuredBytes} bytes serialized`);
    }
  };

  const checkMessageSize = (valid: { metadata?: unknown; parts?: unknown; media?: unknown }, path: string): void => {
    const structured = [valid.metadata, valid.parts, valid.media];
    if (structuredBytes(structured) > limits.maxStructuredBytes) {
      throw invalid(path, `metadata, parts and media must be at most ${limits.maxStructuredBytes} bytes serialized`);
    }
  };

  const parseMessage = (input: unknown, path: string): ValidMessage => {
    const valid = parse(message, input, path) as ValidMessage;
    if (valid.role === undefined && valid.direction === undefined) {
      throw invalid(path, 'needs a role or a direction');
    }
    checkMessageSize(valid, path);
    return valid;
  };

  return {
    messages(input) {
      if (!Array.isArray(input)) return [parseMessage(input, 'message')];
      if (input.length === 0) throw invalid('messages', 'must contain at least one message');
      if (input.length > limits.maxBatchSize) {
        throw invalid('messages', `must contain at most ${limits.maxBatchSize} messages`);
      }
      return input.map((item, index) => parseMessage(item, `messages[${index}]`));
    },
    storedMessages(input, conversationId) {
      if (!Array.isArray(input)) throw invalid('messages', 'must be an array');
      if (input.length > limits.maxBatchSize) {
        throw invalid('messages', `must contain at most ${limits.maxBatchSize} messages`);
      }
      let previous = 0;
      return input.map((item, index) => {
        const path = `messages[${index}]`;
        const valid = parse(storedMessage, item, path) as Message;
        if (valid.conversationId !== conversationId) {
          throw invalid(`${path}.conversationId`, 'must be the conversation restored');
        }
        if (valid.seq <= previous) throw invalid(`${path}.seq`, 'must be above the seq of the message before it');
        previous = valid.seq;
        checkMessageSize(valid, path);
        return valid;
      });
    },
    storedConversation(value, path) {
      const valid = parse(storedConversation, value, path) as Conversation;
      checkStructuredSize(valid.metadata, `${path}.metadata`);
      return valid;
    },
    id: (value, path) => parse(id, value, path),
    time: (value, path) => parse(time, value, path),
    text: (value, path) => parse(text, value, path),
    content: (value, path) => parse(content, value, path),
    limit(value, fallback, path) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > limits.maxPageSize) {
        throw invalid(path, `must be an integer from 1 to ${limits.maxPageSize}`);
      }
      return value;
    },
    seq(value, path) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw invalid(path, 'must be a non-negative integer');
      }
      return value;
    },
    conversation(value, path) {
      const valid = parse(conversation, value ?? {}, path) as NewConversation;
      checkStructuredSize(valid.metadata ?? {}, `${path}.metadata`);
      return valid;
    },
    patch(value, path) {
      const valid = parse(patch, value, path) as ConversationPatch;
      checkStructuredSize(valid.metadata ?? {}, `${path}.metadata`);
      return valid;
    },
    participants: (value, path) => parse(participants, value, path) as NewParticipant[],
    status: (value, path) => parse(z.enum(MESSAGE_STATUSES), value, path),
    error: (value, path) => parse(error, value, path) as MessageError,
    metadata(value, path) {
      const valid = parse(jsonObject, value, path);
      checkStructuredSize(valid, path);
      return valid;
    },
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  const where = joinPath(path, [...(issue?.path ?? []), ...unknownKey]);
  throw invalid(where, issue?.message ?? 'is not valid');
}

function joinPath(base: string, path: readonly PropertyKey[]): string {
  let result = base;
  for (const key of path) {
    result += typeof key === 'number' ? `[${key}]` : result === '' ? String(key) : `.${String(key)}`;
  }
  return result;
}

export function invalid(path: string, problem: string): ChatStoreError {
  return new ChatStoreError('INVALID_ARGUMENT', `${path} ${problem}`, { path });
}

/**
 * What makes `value` unfit to store as JSON, and where. `depth` counts the keys and indexes from the
 * top of the value (metadata, one part) to here; nothing may sit deeper than `maxDepth`.
 */
function jsonProblem(
  value: unknown,
  depth: number,
  maxDepth: number,
): { path: (string | number)[]; message: string } | undefined {
  if (depth > maxDepth) return { path: [], message: `must be nested at most ${maxDepth} levels deep` };
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : { path: [], message: 'must be a finite number' };
  }
  if (typeof value === 'string') {
    return isStorableText(value)
      ? undefined
      : { path: [], message: 'must not contain NUL characters or lone surrogates' };
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = jsonProblem(value[index], depth + 1, maxDepth);
      if (problem !== undefined) return { path: [index, ...problem.path], message: problem.message };
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      return { path: [], message: 'must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)' };
    }
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key))
        return { path: [key], message: 'key must not contain NUL characters or lone surrogates' };
      if (item === undefined) return { path: [key], message: 'must not be undefined' };
      const problem = jsonProblem(item, depth + 1, maxDepth);
      if (problem !== undefined) return { path: [key, ...problem.path], message: problem.message };
    }
    return undefined;
  }
  return { path: [], message: 'must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)' };
}
