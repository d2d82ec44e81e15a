/** Named groups of the contract's calls, for the engine files that implement one group each. */
import type { Backend } from '../backend.js';

/** The contract's conversation calls: what an engine's `conversations.ts` implements. */
export type ConversationOperations = Pick<
  Backend,
  | 'getConversation'
  | 'listConversations'
  | 'createConversation'
  | 'updateConversation'
  | 'addParticipants'
  | 'removeParticipant'
  | 'deleteConversation'
>;
