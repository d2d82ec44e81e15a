/**
 * Every SQL statement of the sqlite backend, in one place so that the indexes they need (see
 * `schema.ts`) can be checked against them. `prepared.ts` prepares each once per connection.
 */
import type { MessageRow } from './rows.js';

/** The fixed statements of the sqlite backend. */
export const SQLITE_SQL = {
  conversation: 'SELECT * FROM conversations WHERE id = ?',
  participants: 'SELECT * FROM participants WHERE conversation_id = ? ORDER BY joined_at, participant_id',
  participantsOfMany: `SELECT * FROM participants WHERE conversation_id IN (SELECT value FROM json_each(?))
    ORDER BY conversation_id, joined_at, participant_id`,
  insertConversation: `INSERT INTO conversations (id, type, title, channel, metadata, created_at, updated_at,
      activity_at)
    VALUES (:id, :type, :title, :channel, :metadata, :now, :now, :now) ON CONFLICT (id) DO NOTHING`,
  /**
   * The counters after an append (`updatedAt` now, `deletedAt` NULL: appending to a soft-deleted
   * conversation brings it back) or a restore (`AppendRequest.restore`'s times and deletedAt).
   */
  afterAppend: `UPDATE conversations SET
      last_seq = :lastSeq,
      message_count = message_count + :inserted,
      last_message_at = coalesce(:lastMessageAt, last_message_at),
      activity_at = coalesce(:lastMessageAt, last_message_at, created_at),
      updated_at = :updatedAt,
      deleted_at = :deletedAt
    WHERE id = :id`,
  updateConversation: `UPDATE conversations SET
      type = coalesce(:type, type),
      title = CASE WHEN :setTitle THEN :title ELSE title END,
      channel = CASE WHEN :setChannel THEN :channel ELSE channel END,
      metadata = CASE WHEN :patch IS NULL THEN metadata ELSE json_patch(metadata, :patch) END,
      updated_at = :now
    WHERE id = :id`,
  touchConversation: 'UPDATE conversations SET updated_at = :now WHERE id = :id',
  insertParticipant: `INSERT INTO participants (conversation_id, participant_id, kind, name, joined_at)
    VALUES (:conversationId, :id, :kind, :name, :joinedAt) ON CONFLICT DO NOTHING`,
  removeParticipant: 'DELETE FROM participants WHERE conversation_id = ? AND participant_id = ?',
  softDeleteConversation: `UPDATE conversations SET deleted_at = coalesce(deleted_at, :now), updated_at = :now
    WHERE id = :id`,
  softDeleteMessagesOf: `UPDATE messages SET deleted_at = :now, body = json_set(body, '$.deletedAt', :now)
    WHERE conversation_id = :id AND deleted_at IS NULL`,
  deleteMessagesOf: 'DELETE FROM messages WHERE conversation_id = ?',
  /** What a hard delete of a conversation erases (see erasure.ts). */
  bodiesOfConversation: 'SELECT body FROM messages WHERE conversation_id = ?',
  deleteParticipantsOf: 'DELETE FROM participants WHERE conversation_id = ?',
  deleteConversation: 'DELETE FROM conversations WHERE id = ?',
  conversationIds: 'SELECT id FROM conversations WHERE id > ? ORDER BY id LIMIT ?',

  messageById: 'SELECT body FROM messages WHERE id = ?',
  messagesByIds: 'SELECT body FROM messages WHERE id IN (SELECT value FROM json_each(?))',
  messagesByExternalIds: `SELECT body FROM messages
    WHERE external_id IN (SELECT value FROM json_each(?)) AND external_id IS NOT NULL AND conversation_id = ?`,
  firstMessageByExternalId: `SELECT body FROM messages WHERE external_id = ? AND external_id IS NOT NULL
    ORDER BY conversation_id LIMIT 1`,
  messageByExternalId: `SELECT body FROM messages
    WHERE external_id = ? AND external_id IS NOT NULL AND conversation_id = ?`,
  /** The newest pk of the next batch of edited messages waiting to be indexed again for search. */
  pendingBatchEnd: 'SELECT max(pk) AS pk FROM (SELECT pk FROM search_pending ORDER BY pk LIMIT ?)',
  /** The newest pk of the next batch of appended messages not indexed yet (above the mark). */
  unindexedBatchEnd: `SELECT max(pk) AS pk FROM (
      SELECT pk FROM messages WHERE pk > (SELECT through FROM search_indexed) ORDER BY pk LIMIT ?
    )`,
  anyPending: `SELECT 1 AS pending FROM search_pending
    UNION ALL SELECT 1 FROM messages WHERE pk > (SELECT through FROM search_indexed)
    LIMIT 1`,
  indexUnindexed: `INSERT INTO messages_fts (rowid, terms)
    SELECT pk, chatstore_search_terms(json_extract(body, '$.content'))
    FROM messages
    WHERE pk > (SELECT through FROM search_indexed) AND pk <= ?`,
  markIndexed: 'UPDATE search_indexed SET through = ?',
  indexPending: `INSERT INTO messages_fts (rowid, terms)
    SELECT m.pk, chatstore_search_terms(json_extract(m.body, '$.content'))
    FROM search_pending p JOIN messages m ON m.pk = p.pk
    WHERE p.pk <= ?`,
  clearPending: 'DELETE FROM search_pending WHERE pk <= ?',
  /** The common range shapes (live messages, no time bounds), named for the query-plan test. */
  rangeAsc: rangeSql({ order: 'asc', includeDeleted: false, from: false, to: false }),
  rangeDesc: rangeSql({ order: 'desc', includeDeleted: false, from: false, to: false }),
  insertMessage: `INSERT INTO messages (conversation_id, seq, id, external_id, role, direction, sender_id,
      recipient_id, has_media, status, command_name, command_admin, created_at, deleted_at, body)
    VALUES (:conversation_id, :seq, :id, :external_id, :role, :direction, :sender_id, :recipient_id, :has_media,
      :status, :command_name, :command_admin, :created_at, :deleted_at, :body)`,
  /** Only what `Backend.updateMessage` may change: content and metadata live in the body. */
  updateMessage: `UPDATE messages SET status = :status, deleted_at = :deleted_at, body = :body WHERE id = :id`,
  removeMessage: 'DELETE FROM messages WHERE id = ? RETURNING conversation_id',
  uncountMessage: 'UPDATE conversations SET message_count = message_count - 1 WHERE id = ?',

  /** Ties on score resume by id; the outer WHERE is the keyset after the previous page's last hit. */
  search: `SELECT * FROM (
      SELECT m.body, m.id, -bm25(messages_fts) AS score
      FROM messages_fts JOIN messages m ON m.pk = messages_fts.rowid
      WHERE messages_fts MATCH :match
        AND m.deleted_at IS NULL
        AND (:conversationId IS NULL OR m.conversation_id = :conversationId)
        AND (:senderId IS NULL OR m.sender_id = :senderId)
        AND (:from IS NULL OR m.created_at >= :from)
        AND (:to IS NULL OR m.created_at < :to)
    )
    WHERE :afterScore IS NULL OR score < :afterScore OR (score = :afterScore AND id > :afterId)
    ORDER BY score DESC, id ASC
    LIMIT :limit`,
  statsOfAll: statsSql('', ''),
  statsOfOne: statsSql('WHERE conversation_id = :id', 'AND id = :id'),
  channelStatsOfAll: channelStatsSql(''),
  channelStatsOfOne: channelStatsSql('AND c.id = :id'),

  deleteParticipantEverywhere: 'DELETE FROM participants WHERE participant_id = ?',
  /** What an erasure erases (see erasure.ts). */
  participantEntries: 'SELECT * FROM participants WHERE participant_id = ?',
  bodiesOfSubject: 'SELECT body FROM messages WHERE sender_id = :subjectId OR recipient_id = :subjectId',
  /** Whether any message still has this search term (a quoted FTS5 string). */
  termIsIndexed: 'SELECT 1 AS indexed FROM messages_fts WHERE messages_fts MATCH ? LIMIT 1',
  uncountMessagesOfSubject: `UPDATE conversations SET message_count = message_count - erased.n
    FROM (
      SELECT conversation_id, count(*) AS n FROM messages
      WHERE sender_id = :subjectId OR recipient_id = :subjectId
      GROUP BY conversation_id
    ) AS erased
    WHERE conversations.id = erased.conversation_id`,
  deleteMessagesOfSubject: 'DELETE FROM messages WHERE sender_id = :subjectId OR recipient_id = :subjectId',
} as const;

/** Which optional clauses a conversation listing needs. */
export interface ConversationListShape {
  participant: boolean;
  type: boolean;
  channel: boolean;
  after: boolean;
  includeDeleted: boolean;
}

/**
 * A listing is built per shape (and cached by the caller) rather than with `:x IS NULL OR …`
 * clauses, which would keep SQLite from starting the index scan at the cursor.
 */
export function conversationListSql(shape: ConversationListShape): string {
  const where: string[] = [];
  if (shape.participant) where.push('p.participant_id = :participantId');
  if (!shape.includeDeleted) where.push('c.deleted_at IS NULL');
  if (shape.type) where.push('c.type = :type');
  if (shape.channel) where.push('c.channel = :channel');
  if (shape.after) where.push('(c.activity_at, c.id) < (:afterActivityAt, :afterId)');
  // By participant, the scan starts from that participant's entries: cheap for a person, who is in
  // few conversations; a bot present everywhere pays a sort over its conversations instead.
  const from = shape.participant
    ? 'participants p JOIN conversations c ON c.id = p.conversation_id'
    : 'conversations c';
  return `SELECT c.* FROM ${from}
    ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
    ORDER BY c.activity_at DESC, c.id DESC
    LIMIT :limit`;
}

/** Which optional clauses a range read needs. */
export interface RangeShape {
  order: 'asc' | 'desc';
  includeDeleted: boolean;
  from: boolean;
  to: boolean;
}

/**
 * A range read is built per shape (and cached by the caller): generic `:x IS NULL OR …` clauses
 * cost more per row than the whole rest of the hot last-20 read.
 */
export function rangeSql(shape: RangeShape): string {
  const where = ['conversation_id = :conversationId', 'seq > :afterSeq', 'seq < :beforeSeq'];
  if (!shape.includeDeleted) where.push('deleted_at IS NULL');
  if (shape.from) where.push('created_at >= :from');
  if (shape.to) where.push('created_at < :to');
  return `SELECT body FROM messages WHERE ${where.join(' AND ')}
    ORDER BY seq ${shape.order === 'asc' ? 'ASC' : 'DESC'} LIMIT :limit`;
}

function statsSql(messagesWhere: string, conversationsAnd: string): string {
  const live = 'deleted_at IS NULL';
  return `SELECT
      count(*) FILTER (WHERE ${live}) AS total,
      count(*) FILTER (WHERE ${live} AND direction = 'incoming') AS incoming,
      count(*) FILTER (WHERE ${live} AND direction = 'outgoing') AS outgoing,
      count(*) FILTER (WHERE ${live} AND has_media = 1) AS withMedia,
      count(*) FILTER (WHERE ${live} AND command_name IS NOT NULL) AS commands,
      count(*) FILTER (WHERE ${live} AND command_admin = 1) AS adminCommands,
      count(*) FILTER (WHERE ${live} AND status = 'failed') AS failed,
      count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
      count(*) FILTER (WHERE ${live} AND role = 'user') AS user,
      count(*) FILTER (WHERE ${live} AND role = 'assistant') AS assistant,
      count(*) FILTER (WHERE ${live} AND role = 'system') AS system,
      count(*) FILTER (WHERE ${live} AND role = 'tool') AS tool,
      (SELECT count(*) FROM conversations WHERE deleted_at IS NULL ${conversationsAnd}) AS conversations
    FROM messages ${messagesWhere}`;
}

/**
 * Per channel: its conversations not deleted, and the messages not deleted in its conversations.
 * Walks the conversations that have a channel, each one's messages by `messages_by_seq`.
 */
function channelStatsSql(conversationsAnd: string): string {
  return `SELECT channel, sum(live) AS conversations, sum(messages) AS messages FROM (
      SELECT c.channel AS channel, CASE WHEN c.deleted_at IS NULL THEN 1 ELSE 0 END AS live,
        (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.deleted_at IS NULL) AS messages
      FROM conversations c WHERE c.channel IS NOT NULL ${conversationsAnd}
    ) GROUP BY channel`;
}

/** One `stats` row. */
export interface StatsRow {
  total: number;
  incoming: number;
  outgoing: number;
  withMedia: number;
  commands: number;
  adminCommands: number;
  failed: number;
  deleted: number;
  user: number;
  assistant: number;
  system: number;
  tool: number;
  conversations: number;
}

/** A search hit row: the message plus its relevance. */
export type SearchRow = MessageRow & { id: string; score: number };

/** Bound values of a range read (a shape binds only the ones it uses). */
export interface RangeParams {
  conversationId: string;
  afterSeq: number;
  beforeSeq: number;
  from?: string;
  to?: string;
  limit: number;
}

/** Bound values of a conversation listing (a shape may leave some unused). */
export interface ListParams {
  participantId: string | null;
  type: string | null;
  channel: string | null;
  afterActivityAt: string | null;
  afterId: string | null;
  limit: number;
}

/** Bound values of a search. */
export interface SearchParams {
  match: string;
  conversationId: string | null;
  senderId: string | null;
  from: string | null;
  to: string | null;
  afterScore: number | null;
  afterId: string | null;
  limit: number;
}
