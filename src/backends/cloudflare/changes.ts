/**
 * What a conversation's object tells the directory after each write it commits. The object writes
 * the change into its outbox in the same transaction as the write, sends its pending changes in
 * order after the commit (and from its alarm after a failure), and deletes them once the directory
 * has applied them; the directory applies each numbered change once, in order, per conversation.
 */
import type { Conversation, Message } from '../../model.js';

export interface DirectoryChange {
  /** The conversation as it is after the write, participants included; `null` once hard-deleted (with all its messages). */
  conversation: Conversation | null;
  /** Messages the write stored or changed, whole. */
  messages: Message[];
  /** Ids of messages the write removed. */
  removed: string[];
}

/** A change with its number in the conversation's outbox (increasing, never reused). */
export interface NumberedChange {
  n: number;
  change: DirectoryChange;
}

/** What an append asks the directory before it plans: who owns each message id. */
export interface IdClaim {
  /** Ids already owned by another conversation, with that conversation. */
  foreign: Record<string, string>;
  /** Ids this claim recorded for the conversation (they were owned by nobody). */
  claimed: string[];
}
