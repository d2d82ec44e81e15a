/**
 * The zod schemas of what callers hand the store, built once per store from its limits: values
 * (ids, text, times, JSON), messages (new and as stored, for a restore) and conversations.
 * `validate.ts` runs them and turns their first issue into `INVALID_ARGUMENT`.
 */
import { z } from 'zod';
import { jsonProblem, withoutNegativeZero } from './json-value.js';
import type { Limits } from './limits.js';
import { DIRECTIONS, type JsonObject, type JsonValue, MESSAGE_STATUSES, PARTICIPANT_KINDS, ROLES } from './model.js';
import { isStorableText, utf8Length } from './text.js';
import { normalizeTime } from './time.js';

/** A channel: `whatsapp`, `sms`, `telegram`, `web`… Lowercase, so that one channel is counted once. */
export const CHANNEL = /^[a-z0-9][a-z0-9._-]{0,31}$/;

export type InputSchemas = ReturnType<typeof inputSchemas>;

export function inputSchemas(limits: Limits) {
  const values = valueSchemas(limits);
  return { ...values, ...messageSchemas(values), ...conversationSchemas(values, limits) };
}

type ValueSchemas = ReturnType<typeof valueSchemas>;

function valueSchemas(limits: Limits) {
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
  const error = z.strictObject({ code: shortText(255).optional(), message: shortText(4096) });
  const status = z.enum(MESSAGE_STATUSES);
  return { text, id, shortText, content, time, json, jsonObject, seq, count, error, status };
}

function messageSchemas({ id, shortText, content, time, json, jsonObject, seq, error, status }: ValueSchemas) {
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
  const statusAt = z.strictObject({
    queued: time.optional(),
    sent: time.optional(),
    delivered: time.optional(),
    read: time.optional(),
    failed: time.optional(),
  });
  const command = z.strictObject({ name: shortText(64), admin: z.boolean() });
  // One schema for the parts of an append, a restore and an edit.
  const parts = z.array(json);
  const messageFields = {
    id: id.optional(),
    externalId: id.optional(),
    role: z.enum(ROLES).optional(),
    direction: z.enum(DIRECTIONS).optional(),
    senderId: id.optional(),
    recipientId: id.optional(),
    content: content.optional(),
    parts: parts.optional(),
    media: z.array(media).max(100).optional(),
    status: status.optional(),
    statusAt: statusAt.optional(),
    error: error.optional(),
    replyTo: id.optional(),
    command: command.nullable().optional(),
    metadata: jsonObject.optional(),
    createdAt: time.optional(),
  };
  const message = z.strictObject(messageFields);
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
  return { message, storedMessage, parts };
}

function conversationSchemas({ id, shortText, time, jsonObject, count }: ValueSchemas, limits: Limits) {
  const type = shortText(64).refine((value) => value.length > 0, 'must not be empty');
  const channel = z
    .string()
    .regex(CHANNEL, 'must be a lowercase token of letters, digits, `.`, `_` or `-` (at most 32), such as whatsapp');
  const participant = z.strictObject({
    id,
    kind: z.enum(PARTICIPANT_KINDS).optional(),
    name: shortText(1024).optional(),
  });
  const participants = z.array(participant).max(limits.maxBatchSize);
  const storedConversation = z.strictObject({
    id,
    type,
    title: shortText(1024).optional(),
    channel: channel.optional(),
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
    type: type.optional(),
    title: shortText(1024).optional(),
    channel: channel.optional(),
    metadata: jsonObject.optional(),
    participants: participants.optional(),
  });
  const patch = z.strictObject({
    type: type.optional(),
    title: shortText(1024).nullable().optional(),
    channel: channel.nullable().optional(),
    metadata: jsonObject.optional(),
  });
  return { participants, storedConversation, conversation, patch, channel };
}
