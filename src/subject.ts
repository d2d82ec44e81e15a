/**
 * Who a data subject is in the store: the one rule erasure (`eraseSubject`) removes by and the
 * access export (`exportSubject`) returns by, so that what one removes is what the other shows.
 * Engines that erase in their own query language (SQL, Lua) state the same rule there; the
 * conformance suite holds every engine to it.
 */
import type { Message, Participant } from './model.js';

/** The conversation is the subject's own (its id is theirs: a phone number, say): it is theirs whole. */
export function isSubjectsConversation(conversationId: string, subjectId: string): boolean {
  return conversationId === subjectId;
}

/** The subject sent or received the message, in whatever conversation. */
export function concernsSubject(message: Pick<Message, 'senderId' | 'recipientId'>, subjectId: string): boolean {
  return message.senderId === subjectId || message.recipientId === subjectId;
}

/** The subject's own entry in a participant list, if they have one. */
export function subjectEntry(participants: readonly Participant[], subjectId: string): Participant | undefined {
  return participants.find((participant) => participant.id === subjectId);
}
