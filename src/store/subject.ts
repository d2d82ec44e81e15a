/**
 * ChatStore's subject access export (GDPR Art. 15): the mirror of `eraseSubject`. It returns what
 * an erasure of the same person would remove, by the same rule (`../subject.ts`), soft-deleted
 * messages and archived conversations included: they are stored.
 */
import type { Conversation } from '../model.js';
import { concernsSubject, isSubjectsConversation, subjectEntry } from '../subject.js';
import { canonicalConversation, canonicalMessage, canonicalParticipant } from './canonical.js';
import type { StoreCore } from './core.js';
import { allConversationIds, conversationRows } from './export.js';
import type { SubjectConversation, SubjectExportRecord } from './options.js';

/**
 * Every conversation is read, page by page: a message may name the subject in a conversation whose
 * participant list does not (they were removed from it, or a restore brought it without them), and
 * erasure removes those too. Memory stays at one page whatever the store holds.
 */
export async function* subjectScan(core: StoreCore, participantId: string): AsyncIterable<SubjectExportRecord> {
  const subjectId = core.validate.id(participantId, 'participantId');
  const exportedAt = core.timestamp();
  const conversationIds = allConversationIds(core)[Symbol.asyncIterator]();
  // The engine is asked before the first record, so an unreachable one fails the call (an HTTP
  // 503, a CLI error) instead of starting what would look like the export of a stranger.
  let next = await conversationIds.next();
  yield { subject: { id: subjectId, exportedAt } };
  while (next.done !== true) {
    yield* conversationOfSubject(core, subjectId, next.value);
    next = await conversationIds.next();
  }
}

async function* conversationOfSubject(
  core: StoreCore,
  subjectId: string,
  conversationId: string,
): AsyncIterable<SubjectExportRecord> {
  const { backend } = core;
  const whole = isSubjectsConversation(conversationId, subjectId);
  const conversation = await backend.getConversation(conversationId);
  let announced = false;
  if (conversation !== undefined && (whole || subjectEntry(conversation.participants, subjectId) !== undefined)) {
    yield { conversation: whole ? canonicalConversation(conversation) : narrowed(conversation, subjectId) };
    announced = true;
  }
  for await (const row of conversationRows(core, conversationId, { includeDeleted: true })) {
    if (!whole && !concernsSubject(row, subjectId)) continue;
    if (!announced && conversation !== undefined) {
      yield { conversation: narrowed(conversation, subjectId) };
      announced = true;
    }
    yield canonicalMessage(row);
  }
}

/** A conversation of others as far as it is about the subject (`SubjectConversation`), keys in the documented order. */
function narrowed(conversation: Conversation, subjectId: string): SubjectConversation {
  const entry = subjectEntry(conversation.participants, subjectId);
  return {
    id: conversation.id,
    type: conversation.type,
    ...(conversation.title === undefined ? {} : { title: conversation.title }),
    ...(conversation.channel === undefined ? {} : { channel: conversation.channel }),
    participants: entry === undefined ? [] : [canonicalParticipant(entry)],
    createdAt: conversation.createdAt,
    ...(conversation.deletedAt === undefined ? {} : { deletedAt: conversation.deletedAt }),
  };
}
