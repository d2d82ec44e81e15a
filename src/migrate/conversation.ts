/**
 * One source conversation as the messages to store, in the order their seqs will follow: by time,
 * then by place in the source (ties keep the source's order). A record with no time of its own
 * takes its key's time (a KV key, a sorted set's score), else the message before it, else the
 * conversation's `lastUpdated`, else (a source that keeps no time) the run's start. The same message twice in the source (same role, sender, text and
 * time, the time the record's own) is stored once; records without a time of their own never count as
 * the same.
 */
import type { NewConversation, NewMessage } from '../model.js';
import { normalizedPhone } from '../phone.js';
import { legacyMessage, timeOf } from './legacy-message.js';
import type { LayoutName, SourceConversation, SourceError } from './source.js';

export interface PreparedConversation {
  conversationId: string;
  /** The person the conversation is with: its key, normalized as the conversation id is. */
  person: string;
  /** What the source says of the conversation (type, title, metadata, participants): it is created with these. */
  attributes?: NewConversation;
  messages: (NewMessage & { id: string; externalId: string; createdAt: string })[];
  /** Ids of the messages deleted in the source: stored, then soft-deleted. */
  deleted: string[];
  sourceMessages: number;
  duplicatesInSource: number;
  beforeSince: number;
  errors: SourceError[];
}

export interface PrepareOptions {
  /** Epoch ms: messages before it are left out. */
  since?: number;
  normalizePhone: boolean;
  /** The time (ms) of messages whose source keeps none at all (LangChain): the run's start. */
  defaultTime?: number;
  /** The run storing them, noted in each message's `metadata.migratedFrom`. */
  runId: string;
}

export function prepareConversation(
  layout: LayoutName,
  conversation: SourceConversation,
  options: PrepareOptions,
): PreparedConversation {
  const person = options.normalizePhone ? normalizedPhone(conversation.key) : conversation.key;
  const conversationTime = conversation.fallbackTime === undefined ? undefined : timeOf(conversation.fallbackTime);
  const converted: {
    at: number;
    position: number;
    deleted: boolean;
    /** Its time is its own (or its key's): only then can two records be the same message. */
    timed: boolean;
    message: PreparedConversation['messages'][number];
  }[] = [];
  const errors: SourceError[] = [];
  let previousAt: number | undefined;
  conversation.records.forEach((record, position) => {
    const recordTime = record.time === undefined ? undefined : timeOf(record.time);
    const result = legacyMessage(
      layout,
      record,
      person,
      recordTime ?? previousAt ?? conversationTime ?? options.defaultTime,
      options.runId,
    );
    if (!result.ok) {
      errors.push({ source: record.key, reason: result.reason });
      return;
    }
    previousAt = result.value.at;
    converted.push({
      at: result.value.at,
      position,
      deleted: result.value.deleted,
      timed: result.value.timed || recordTime !== undefined,
      message: result.value.message,
    });
  });
  converted.sort((a, b) => a.at - b.at || a.position - b.position);
  const seen = new Set<string>();
  const messages: PreparedConversation['messages'] = [];
  const deleted: string[] = [];
  let duplicatesInSource = 0;
  let beforeSince = 0;
  for (const { at, message, deleted: gone, timed } of converted) {
    const identity = `${at}\u0000${message.role}\u0000${message.senderId}\u0000${message.content}`;
    if (timed && seen.has(identity)) {
      duplicatesInSource += 1;
      continue;
    }
    seen.add(identity);
    if (options.since !== undefined && at < options.since) {
      beforeSince += 1;
      continue;
    }
    messages.push(message);
    if (gone) deleted.push(message.id);
  }
  return {
    conversationId: person,
    person,
    ...(conversation.attributes === undefined ? {} : { attributes: conversation.attributes }),
    messages,
    deleted,
    sourceMessages: conversation.records.length,
    duplicatesInSource,
    beforeSince,
    errors,
  };
}
