/**
 * What an archived conversation's content says, without I/O: when it was last active, its
 * manifest's counts, whether two contents are the same, and the append that puts it back.
 */
import type { AppendRequest, MessageDraft } from '../../backend.js';
import type { Conversation, Message } from '../../model.js';
import { compareUtf8 } from '../../text.js';
import type { ArchiveEntry } from './directory.js';
import type { ArchivedConversation } from './format.js';

/**
 * When a conversation was last active, as conversation listings order them: its newest message,
 * else its creation. An imported history is as old as its messages.
 */
export function lastActivity(conversation: Conversation): string {
  return conversation.lastMessageAt ?? conversation.createdAt;
}

/** The manifest's counts of a content. */
export function describe(
  content: ArchivedConversation,
): Pick<ArchiveEntry, 'messages' | 'firstSeq' | 'lastSeq' | 'oldestAt' | 'messageIds' | 'externalIds' | 'people'> {
  const { messages, conversation } = content;
  const people = new Set(conversation.participants.map((p) => p.id));
  const externalIds: string[] = [];
  let oldestAt: string | undefined;
  for (const message of messages) {
    if (oldestAt === undefined || compareUtf8(message.createdAt, oldestAt) < 0) oldestAt = message.createdAt;
    if (message.senderId !== undefined) people.add(message.senderId);
    if (message.recipientId !== undefined) people.add(message.recipientId);
    if (message.externalId !== undefined) externalIds.push(message.externalId);
  }
  return {
    messages: messages.length,
    ...(messages.length === 0
      ? {}
      : { firstSeq: (messages[0] as Message).seq, lastSeq: (messages[messages.length - 1] as Message).seq }),
    ...(oldestAt === undefined ? {} : { oldestAt }),
    messageIds: messages.map((m) => m.id),
    externalIds,
    people: [...people],
  };
}

/** Same conversation and messages, key order aside (engines return keys in their own order). */
export function sameContent(a: ArchivedConversation, b: ArchivedConversation): boolean {
  if (a.messages.length !== b.messages.length) return false;
  if (canonicalJson(a.conversation) !== canonicalJson(b.conversation)) return false;
  return a.messages.every((message, i) => canonicalJson(message) === canonicalJson(b.messages[i]));
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([x], [y]) => compareUtf8(x, y)))
      : inner,
  );
}

/** The append that puts a conversation back as it was: every stored value kept (`RestoreRequest`). */
export function restoreRequest({ conversation, messages }: ArchivedConversation, now: string): AppendRequest {
  return {
    conversationId: conversation.id,
    messages: messages.map(({ conversationId: _, ...draft }) => draft as MessageDraft),
    conversation: {
      type: conversation.type,
      ...(conversation.title === undefined ? {} : { title: conversation.title }),
      ...(conversation.channel === undefined ? {} : { channel: conversation.channel }),
      metadata: conversation.metadata,
    },
    participants: conversation.participants,
    now,
    restore: {
      createdAt: conversation.createdAt,
      updatedAt: conversation.updatedAt,
      ...(conversation.lastMessageAt === undefined ? {} : { lastMessageAt: conversation.lastMessageAt }),
      ...(conversation.deletedAt === undefined ? {} : { deletedAt: conversation.deletedAt }),
      lastSeq: conversation.lastSeq,
    },
  };
}
