/**
 * What every tier shares: the calls it leaves to the backend below it unchanged, and the check of
 * its size options.
 */
import type { Backend } from '../../backend.js';
import { ChatStoreError } from '../../errors.js';

/** The calls of `inner` a tier does not change (reads a tail cannot answer, conversations, upkeep). */
export function passedThrough(
  inner: Backend,
): Pick<
  Backend,
  | 'getMessage'
  | 'getMessageByExternalId'
  | 'search'
  | 'getConversation'
  | 'listConversations'
  | 'createConversation'
  | 'updateConversation'
  | 'addParticipants'
  | 'removeParticipant'
  | 'stats'
  | 'conversationIds'
  | 'storageBytes'
  | 'compact'
  | 'archive'
> {
  const { storageBytes, compact, archive } = inner;
  return {
    getMessage: (id) => inner.getMessage(id),
    getMessageByExternalId: (externalId, conversationId) => inner.getMessageByExternalId(externalId, conversationId),
    search: (query) => inner.search(query),
    getConversation: (id) => inner.getConversation(id),
    listConversations: (query) => inner.listConversations(query),
    createConversation: (request) => inner.createConversation(request),
    updateConversation: (id, patch, now) => inner.updateConversation(id, patch, now),
    addParticipants: (id, participants, now) => inner.addParticipants(id, participants, now),
    removeParticipant: (id, participantId, now) => inner.removeParticipant(id, participantId, now),
    stats: (conversationId) => inner.stats(conversationId),
    conversationIds: (after, limit) => inner.conversationIds(after, limit),
    ...(storageBytes === undefined ? {} : { storageBytes: () => storageBytes.call(inner) }),
    ...(compact === undefined ? {} : { compact: () => compact.call(inner) }),
    ...(archive === undefined ? {} : { archive }),
  };
}

/**
 * How the engine tells of other instances' writes (`dataVersion`, `changeFeed`), passed up by a
 * tier that is not the outermost, so that an in-process tier in front of it can still hear them.
 */
export function coherencePassedThrough(inner: Backend): Pick<Backend, 'dataVersion' | 'changeFeed'> {
  const { dataVersion, changeFeed } = inner;
  return {
    ...(dataVersion === undefined ? {} : { dataVersion: () => dataVersion.call(inner) }),
    ...(changeFeed === undefined ? {} : { changeFeed: () => changeFeed.call(inner) }),
  };
}

/** A tier's size option: a positive integer, else INVALID_ARGUMENT naming it. */
export function positiveInteger(value: number, path: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ChatStoreError('INVALID_ARGUMENT', `${path} must be a positive integer`, { path });
  }
  return value;
}
