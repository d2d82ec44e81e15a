/**
 * The sqlite backend's fixed statements (`SQLITE_SQL`), prepared once per connection and typed with
 * their bound values and rows.
 */
import type Database from 'better-sqlite3';
import type { ChannelStatsRow } from '../stats.js';
import type { ConversationRow, MessageParams, MessageRow, ParticipantRow } from './rows.js';
import { type SearchParams, type SearchRow, SQLITE_SQL, type StatsRow } from './statements.js';

type Statement<Params extends unknown[] | object, Row = unknown> = Database.Statement<Params, Row>;

/** Every fixed statement of one connection, by its name in `SQLITE_SQL`. */
export interface SqliteStatements {
  conversation: Statement<[string], ConversationRow>;
  participants: Statement<[string], ParticipantRow>;
  participantsOfMany: Statement<[string], ParticipantRow>;
  insertConversation: Statement<{
    id: string;
    type: string;
    title: string | null;
    channel: string | null;
    metadata: string;
    now: string;
  }>;
  afterAppend: Statement<{
    id: string;
    lastSeq: number;
    inserted: number;
    lastMessageAt: string | null;
    updatedAt: string;
    deletedAt: string | null;
  }>;
  updateConversation: Statement<{
    id: string;
    type: string | null;
    setTitle: number;
    title: string | null;
    setChannel: number;
    channel: string | null;
    patch: string | null;
    now: string;
  }>;
  touchConversation: Statement<{ id: string; now: string }>;
  insertParticipant: Statement<{
    conversationId: string;
    id: string;
    kind: string;
    name: string | null;
    joinedAt: string;
  }>;
  removeParticipant: Statement<[string, string]>;
  softDeleteConversation: Statement<{ id: string; now: string }>;
  softDeleteMessagesOf: Statement<{ id: string; now: string }>;
  deleteMessagesOf: Statement<[string]>;
  bodiesOfConversation: Statement<[string], MessageRow>;
  deleteParticipantsOf: Statement<[string]>;
  deleteConversation: Statement<[string]>;
  conversationIds: Statement<[string, number], { id: string }>;
  messageById: Statement<[string], MessageRow>;
  messagesByIds: Statement<[string], MessageRow>;
  messagesByExternalIds: Statement<[string, string], MessageRow>;
  messageByExternalId: Statement<[string, string], MessageRow>;
  firstMessageByExternalId: Statement<[string], MessageRow>;
  pendingBatchEnd: Statement<[number], { pk: number | null }>;
  unindexedBatchEnd: Statement<[number], { pk: number | null }>;
  anyPending: Statement<[], { pending: number }>;
  indexUnindexed: Statement<[number]>;
  markIndexed: Statement<[number]>;
  indexPending: Statement<[number]>;
  clearPending: Statement<[number]>;
  insertMessage: Statement<MessageParams>;
  updateMessage: Statement<MessageParams>;
  removeMessage: Statement<[string], { conversation_id: string }>;
  uncountMessage: Statement<[string]>;
  search: Statement<SearchParams, SearchRow>;
  statsOfAll: Statement<[], StatsRow>;
  statsOfOne: Statement<{ id: string }, StatsRow>;
  channelStatsOfAll: Statement<[], ChannelStatsRow>;
  channelStatsOfOne: Statement<{ id: string }, ChannelStatsRow>;
  deleteParticipantEverywhere: Statement<[string]>;
  participantEntries: Statement<[string], ParticipantRow>;
  bodiesOfSubject: Statement<{ subjectId: string }, MessageRow>;
  termIsIndexed: Statement<[string], { indexed: number }>;
  uncountMessagesOfSubject: Statement<{ subjectId: string }>;
  deleteMessagesOfSubject: Statement<{ subjectId: string }>;
}

// No foreign keys: the few deletes that cascade (a conversation's messages and participants) are
// explicit statements, and appends skip a parent lookup per inserted row.
export function prepareStatements(db: Database.Database): SqliteStatements {
  // The driver cannot check a statement's parameters and rows against its SQL: the interface above says them.
  const prepare = <Name extends keyof SqliteStatements>(name: Name): SqliteStatements[Name] =>
    db.prepare(SQLITE_SQL[name]) as SqliteStatements[Name];
  return {
    conversation: prepare('conversation'),
    participants: prepare('participants'),
    participantsOfMany: prepare('participantsOfMany'),
    insertConversation: prepare('insertConversation'),
    afterAppend: prepare('afterAppend'),
    updateConversation: prepare('updateConversation'),
    touchConversation: prepare('touchConversation'),
    insertParticipant: prepare('insertParticipant'),
    removeParticipant: prepare('removeParticipant'),
    softDeleteConversation: prepare('softDeleteConversation'),
    softDeleteMessagesOf: prepare('softDeleteMessagesOf'),
    deleteMessagesOf: prepare('deleteMessagesOf'),
    bodiesOfConversation: prepare('bodiesOfConversation'),
    deleteParticipantsOf: prepare('deleteParticipantsOf'),
    deleteConversation: prepare('deleteConversation'),
    conversationIds: prepare('conversationIds'),
    messageById: prepare('messageById'),
    messagesByIds: prepare('messagesByIds'),
    messagesByExternalIds: prepare('messagesByExternalIds'),
    messageByExternalId: prepare('messageByExternalId'),
    firstMessageByExternalId: prepare('firstMessageByExternalId'),
    pendingBatchEnd: prepare('pendingBatchEnd'),
    unindexedBatchEnd: prepare('unindexedBatchEnd'),
    anyPending: prepare('anyPending'),
    indexUnindexed: prepare('indexUnindexed'),
    markIndexed: prepare('markIndexed'),
    indexPending: prepare('indexPending'),
    clearPending: prepare('clearPending'),
    insertMessage: prepare('insertMessage'),
    updateMessage: prepare('updateMessage'),
    removeMessage: prepare('removeMessage'),
    uncountMessage: prepare('uncountMessage'),
    search: prepare('search'),
    statsOfAll: prepare('statsOfAll'),
    statsOfOne: prepare('statsOfOne'),
    channelStatsOfAll: prepare('channelStatsOfAll'),
    channelStatsOfOne: prepare('channelStatsOfOne'),
    deleteParticipantEverywhere: prepare('deleteParticipantEverywhere'),
    participantEntries: prepare('participantEntries'),
    bodiesOfSubject: prepare('bodiesOfSubject'),
    termIsIndexed: prepare('termIsIndexed'),
    uncountMessagesOfSubject: prepare('uncountMessagesOfSubject'),
    deleteMessagesOfSubject: prepare('deleteMessagesOfSubject'),
  };
}
