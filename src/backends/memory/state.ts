/** The memory engine's state: maps of conversations and messages, and the helpers every part shares. */
import type { CreateConversationRequest } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';
import type { Conversation, Message, Participant } from '../../model.js';
import { compareUtf8 } from '../../text.js';

export interface StoredConversation {
  conversation: Omit<Conversation, 'participants'>;
  participants: Map<string, Participant>;
  /** Messages by seq; seqs only grow, so insertion order is seq order. */
  messages: Map<number, Message>;
  byExternalId: Map<string, Message>;
}

export interface MemoryState {
  readonly conversations: Map<string, StoredConversation>;
  readonly messagesById: Map<string, Message>;
  closed: boolean;
}

export function memoryState(): MemoryState {
  return { conversations: new Map(), messagesById: new Map(), closed: false };
}

export function ensureOpen(state: MemoryState): void {
  if (state.closed) throw new ChatStoreError('UNAVAILABLE', 'the memory backend is closed');
}

/** Copies on the way in and out, so callers can never mutate stored state. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}

/** A conversation as the contract returns it: a copy, participants by join time then id. */
export function snapshot(stored: StoredConversation): Conversation {
  const participants = [...stored.participants.values()].sort(
    (a, b) => compareUtf8(a.joinedAt, b.joinedAt) || compareUtf8(a.id, b.id),
  );
  return copy({ ...stored.conversation, participants });
}

export function createStored(state: MemoryState, request: CreateConversationRequest): StoredConversation {
  const stored: StoredConversation = {
    conversation: {
      id: request.id,
      type: request.type,
      ...(request.title === undefined ? {} : { title: request.title }),
      ...(request.channel === undefined ? {} : { channel: request.channel }),
      metadata: copy(request.metadata),
      createdAt: request.now,
      updatedAt: request.now,
      lastSeq: 0,
      messageCount: 0,
    },
    participants: new Map(),
    messages: new Map(),
    byExternalId: new Map(),
  };
  addMissing(stored, request.participants);
  state.conversations.set(request.id, stored);
  return stored;
}

export function addMissing(stored: StoredConversation, participants: Participant[]): void {
  for (const participant of participants) {
    if (!stored.participants.has(participant.id)) stored.participants.set(participant.id, copy(participant));
  }
}

export function removeStoredMessage(state: MemoryState, message: Message): void {
  const stored = state.conversations.get(message.conversationId);
  state.messagesById.delete(message.id);
  if (stored === undefined) return;
  stored.messages.delete(message.seq);
  if (message.externalId !== undefined) stored.byExternalId.delete(message.externalId);
  stored.conversation.messageCount -= 1;
}

export function removeConversation(state: MemoryState, id: string): void {
  const stored = state.conversations.get(id);
  if (stored === undefined) return;
  for (const message of stored.messages.values()) state.messagesById.delete(message.id);
  state.conversations.delete(id);
}

export function inTimeRange(message: Message, from: string | undefined, to: string | undefined): boolean {
  return (from === undefined || message.createdAt >= from) && (to === undefined || message.createdAt < to);
}
