/**
 * Input validation at the store boundary (docs/api.md; invariant 7 in docs/ARCHITECTURE.md): the
 * schemas of `input-schemas.ts`, built once per store from its limits, and the checks no schema
 * says (sizes across fields, seq order, a role or a direction). Every failure is `ChatStoreError('INVALID_ARGUMENT')` with the path of the failing field.
 */
import type { z } from 'zod';
import { ChatStoreError } from './errors.js';
import { inputSchemas } from './input-schemas.js';
import type { Limits } from './limits.js';
import type {
  Command,
  Conversation,
  ConversationPatch,
  Direction,
  JsonObject,
  JsonValue,
  Media,
  Message,
  MessageError,
  MessageStatus,
  NewConversation,
  NewParticipant,
  Role,
  StatusTimes,
} from './model.js';
import { utf8Length } from './text.js';

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
  /** A conversation's channel: a lowercase token such as `whatsapp`. */
  channel(value: unknown, path: string): string;
  conversation(value: unknown, path: string): NewConversation;
  patch(value: unknown, path: string): ConversationPatch;
  participants(value: unknown, path: string): NewParticipant[];
  status(value: unknown, path: string): MessageStatus;
  error(value: unknown, path: string): MessageError;
  metadata(value: unknown, path: string): JsonObject;
  content(value: unknown, path: string): string;
  /** A message's parts, checked as an append checks them (each part, and their size on their own). */
  parts(value: unknown, path: string): JsonValue[];
}

export function validator(limits: Limits): Validator {
  const schemas = inputSchemas(limits);
  const { message, storedMessage, storedConversation, conversation, patch, jsonObject, parts } = schemas;
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
    id: (value, path) => parse(schemas.id, value, path),
    time: (value, path) => parse(schemas.time, value, path),
    text: (value, path) => parse(schemas.text, value, path),
    channel: (value, path) => parse(schemas.channel, value, path),
    content: (value, path) => parse(schemas.content, value, path),
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
    participants: (value, path) => parse(schemas.participants, value, path) as NewParticipant[],
    status: (value, path) => parse(schemas.status, value, path),
    error: (value, path) => parse(schemas.error, value, path) as MessageError,
    metadata(value, path) {
      const valid = parse(jsonObject, value, path);
      checkStructuredSize(valid, path);
      return valid;
    },
    parts(value, path) {
      const valid = parse(parts, value, path);
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
