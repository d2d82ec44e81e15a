/** How the store turns validated input into what engines store: drafts, participants, sizes. */
import type { MessageDraft } from '../backend.js';
import type { Message, NewParticipant, Participant, ParticipantKind } from '../model.js';
import { utf8Length } from '../text.js';

/** A stored message as `restore` hands it to the engine: normalized as `#draft` normalizes, its seq kept. */
export function restoredDraft(message: Message): MessageDraft {
  const { conversationId: _conversationId, media, statusAt, metadata, ...fields } = message;
  const draft: MessageDraft = fields;
  if (media !== undefined && media.length > 0) draft.media = media;
  if (statusAt !== undefined && Object.keys(statusAt).length > 0) draft.statusAt = statusAt;
  if (metadata !== undefined && Object.keys(metadata).length > 0) draft.metadata = metadata;
  return draft;
}

export function participant(input: NewParticipant, now: string): Participant {
  return {
    id: input.id,
    kind: input.kind ?? 'human',
    ...(input.name === undefined ? {} : { name: input.name }),
    joinedAt: now,
  };
}

/** Who a message shows to be in the conversation: the people on either side, and the bot. */
export function impliedParticipants(message: MessageDraft, now: string): Participant[] {
  const found: Participant[] = [];
  const add = (id: string | undefined, kind: ParticipantKind) => {
    if (id !== undefined) found.push({ id, kind, joinedAt: now });
  };
  if (message.direction === 'incoming') {
    add(message.senderId, 'human');
    add(message.recipientId, 'bot');
  } else {
    add(message.senderId, message.role === 'assistant' ? 'ai' : 'bot');
    add(message.recipientId, 'human');
  }
  return found;
}

export function dedupeParticipants(participants: Participant[]): Participant[] {
  const byId = new Map<string, Participant>();
  for (const p of participants) if (!byId.has(p.id)) byId.set(p.id, p);
  return [...byId.values()];
}

export function structuredBytes(message: Message): number {
  return utf8Length(JSON.stringify([message.metadata, message.parts, message.media]));
}

/*
 * The documented key order (docs/api.md, src/model.ts) of everything the store returns. Engines
 * build their objects in their own orders (a row's columns, a stored body, a Redis header); one
 * function per type rebuilds the object in a fixed order, skipping absent fields. Only the model's
 * own objects are rebuilt: metadata and parts keep the caller's key order, as stored.
 */
