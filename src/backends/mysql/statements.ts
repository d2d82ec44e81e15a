/**
 * Every SQL statement of the mysql backend, built once per database and layout, so that the
 * indexes they need (see `schema.ts`) can be checked against them (`test/mysql.test.ts`
 * EXPLAINs the reads). All are prepared statements with `?` parameters. Times are read as epoch
 * milliseconds and written as DATETIME literals: no session time zone can change what comes back.
 */

import {
  type SearchShape as CommonSearchShape,
  type ConversationListShape,
  paramList,
  type RangeShape,
  type ShapedSql,
} from '../sql/shapes.js';
import { ident, insertMessagesSql, insertParticipantsSql, type MysqlLayout } from './schema.js';

/** A DATETIME(3) column as epoch milliseconds (an integer; NULL stays NULL). */
const ms = (column: string): string => `TIMESTAMPDIFF(MICROSECOND, '1970-01-01', ${column}) DIV 1000`;

/** Which optional clauses a search needs, and how many terms it has. */
export interface SearchShape extends CommonSearchShape {
  terms: number;
}

/** The statements of one database. */
export type MysqlSql = ReturnType<typeof mysqlSql>;

/** Builds every statement for one layout (its database, collation and FULLTEXT token sizes). */
export function mysqlSql(layout: MysqlLayout) {
  const d = ident(layout.database);
  const idList = (param: string) =>
    `SELECT j.v FROM JSON_TABLE(${param}, '$[*]' COLUMNS (v VARCHAR(255) CHARACTER SET utf8mb4 COLLATE ${layout.collation} PATH '$')) AS j`;
  const message = (alias: string) =>
    `${alias}.conversation_id, ${alias}.seq, ${alias}.id, ${alias}.body, ${ms(`${alias}.deleted_at`)} AS deleted_at`;
  const conversation = (
    alias: string,
  ) => `${alias}.conversation_id, ${alias}.type, ${alias}.title, ${alias}.channel, ${alias}.metadata,
    ${ms(`${alias}.created_at`)} AS created_at, ${ms(`${alias}.updated_at`)} AS updated_at,
    ${alias}.last_seq, ${alias}.message_count, ${ms(`${alias}.last_message_at`)} AS last_message_at,
    ${ms(`${alias}.deleted_at`)} AS deleted_at`;
  const participant = (alias: string) =>
    `${alias}.participant_id, ${alias}.kind, ${alias}.name, ${ms(`${alias}.joined_at`)} AS joined_at`;

  return {
    layout,

    /** The conversation with its participants as rows (none: one row of NULLs), in joined order. */
    conversation: `SELECT ${conversation('c')}, ${participant('p')}
      FROM ${d}.conversations c LEFT JOIN ${d}.participants p ON p.conversation_id = c.conversation_id
      WHERE c.conversation_id = ?
      ORDER BY p.joined_at, p.participant_id`,
    participantsOf: `SELECT p.conversation_id, ${participant('p')} FROM ${d}.participants p
      WHERE p.conversation_id IN (${idList('?')})
      ORDER BY p.conversation_id, p.joined_at, p.participant_id`,
    createConversation: `INSERT INTO ${d}.conversations
        (conversation_id, type, title, channel, metadata, created_at, updated_at, activity_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    /** updateConversation: metadata merged by the engine, one single-key patch after another (see `mergePatches`). */
    updateConversation(patches: number): string {
      const metadata =
        patches === 0
          ? 'metadata'
          : `JSON_MERGE_PATCH(metadata, ${Array.from({ length: patches }, () => '?').join(', ')})`;
      return `UPDATE ${d}.conversations SET
          type = COALESCE(?, type),
          title = IF(?, ?, title),
          channel = IF(?, ?, channel),
          metadata = ${metadata},
          updated_at = ?
        WHERE conversation_id = ?`;
    },
    touchConversation: `UPDATE ${d}.conversations SET updated_at = ? WHERE conversation_id = ?`,
    insertParticipants: insertParticipantsSql(layout, '?', '?'),
    removeParticipant: `DELETE FROM ${d}.participants WHERE conversation_id = ? AND participant_id = ?`,
    lockConversation: `SELECT last_seq FROM ${d}.conversations WHERE conversation_id = ? FOR UPDATE`,
    softDeleteConversation: `UPDATE ${d}.conversations SET deleted_at = COALESCE(deleted_at, ?), updated_at = ?
      WHERE conversation_id = ?`,
    /** Bumps `version` too: an updateMessage that read the row before must not write its old deletedAt back. */
    softDeleteMessagesOf: `UPDATE ${d}.messages SET deleted_at = ?, version = version + 1
      WHERE conversation_id = ? AND deleted_at IS NULL`,
    deleteMessagesOf: `DELETE FROM ${d}.messages WHERE conversation_id = ?`,
    deleteParticipantsOf: `DELETE FROM ${d}.participants WHERE conversation_id = ?`,
    deleteConversation: `DELETE FROM ${d}.conversations WHERE conversation_id = ?`,
    conversationIds: `SELECT conversation_id FROM ${d}.conversations WHERE conversation_id > ?
      ORDER BY conversation_id LIMIT ?`,
    listConversations(shape: ConversationListShape): ShapedSql {
      const { params, param } = paramList('?');
      const where: string[] = [];
      if (shape.participant) where.push(`p.participant_id = ${param('participantId')}`);
      if (!shape.includeDeleted) where.push('c.deleted_at IS NULL');
      if (shape.type) where.push(`c.type = ${param('type')}`);
      if (shape.channel) where.push(`c.channel = ${param('channel')}`);
      if (shape.after) {
        where.push(
          `(c.activity_at < ${param('afterActivityAt')} OR (c.activity_at = ${param('afterActivityAt')} AND c.conversation_id < ${param('afterId')}))`,
        );
      }
      // By participant, the scan starts from that participant's entries: cheap for a person, who is in
      // few conversations; a bot present everywhere pays a sort over its conversations instead.
      const from = shape.participant
        ? `${d}.participants p JOIN ${d}.conversations c ON c.conversation_id = p.conversation_id`
        : `${d}.conversations c`;
      const text = `SELECT ${conversation('c')} FROM ${from}
        ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
        ORDER BY c.activity_at DESC, c.conversation_id DESC
        LIMIT ${param('limit')}`;
      return { text, params };
    },

    /** The one-trip append (the plain case), see the procedure in `schema.ts`. */
    appendCall: `CALL ${d}.chatstore_append(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    /** The general append path, in a transaction: the conversation row to lock, created when missing. */
    ensureConversation: `INSERT INTO ${d}.conversations
        (conversation_id, type, title, channel, metadata, created_at, updated_at, activity_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON DUPLICATE KEY UPDATE conversation_id = conversation_id`,
    insertMessages: insertMessagesSql(layout, '?', '?', '?'),
    /** search_terms first: it adds the term counts of the messages past the old last_seq. */
    afterAppend: `UPDATE ${d}.conversations SET
        search_terms = search_terms + (SELECT COALESCE(SUM(m.term_count), 0) FROM ${d}.messages m
          WHERE m.conversation_id = conversations.conversation_id AND m.seq > conversations.last_seq),
        last_seq = ?, message_count = message_count + ?, last_message_at = ?, activity_at = ?,
        updated_at = ?, deleted_at = NULL
      WHERE conversation_id = ?`,
    /** A restore's write (`AppendRequest.restore`): its times and deletedAt instead of an append's. */
    afterRestore: `UPDATE ${d}.conversations SET
        search_terms = (SELECT COALESCE(SUM(m.term_count), 0) FROM ${d}.messages m
          WHERE m.conversation_id = conversations.conversation_id),
        last_seq = ?, message_count = message_count + ?, last_message_at = COALESCE(?, last_message_at),
        activity_at = COALESCE(?, last_message_at, created_at), updated_at = ?, deleted_at = ?
      WHERE conversation_id = ?`,
    messagesByIds: `SELECT ${message('m')} FROM ${d}.messages m WHERE m.id IN (${idList('?')})`,
    messagesByExternalIds: `SELECT ${message('m')} FROM ${d}.messages m
      WHERE m.external_id IN (${idList('?')}) AND m.conversation_id = ?`,

    message: `SELECT ${message('m')} FROM ${d}.messages m WHERE m.id = ?`,
    /** For updateMessage: the row and its version, to update only if nobody changed it since. */
    messageForUpdate: `SELECT ${message('m')}, m.version FROM ${d}.messages m WHERE m.id = ?`,
    messageByExternalId: `SELECT ${message('m')} FROM ${d}.messages m WHERE m.external_id = ? AND m.conversation_id = ?`,
    firstMessageByExternalId: `SELECT ${message('m')} FROM ${d}.messages m WHERE m.external_id = ?
      ORDER BY m.conversation_id LIMIT 1`,
    /**
     * Compare-and-set on `version`; `term_count` and `search_text` are rewritten only when the content
     * changed (NULL keeps them), and then the conversation's `search_terms` moves by the difference:
     * see `chatstore_update_message` in `schema.ts`. Parameters: body, status, deleted_at, term_count,
     * search_text, conversation_id, seq, version; the affected rows are 0 when the version moved.
     */
    updateMessage: `CALL ${d}.chatstore_update_message(?, ?, ?, ?, ?, ?, ?, ?)`,
    /** removeMessage: where the message is, to lock its conversation first (the order appends lock in). */
    messageKey: `SELECT conversation_id, seq FROM ${d}.messages WHERE id = ?`,
    removeMessage: `DELETE FROM ${d}.messages WHERE conversation_id = ? AND seq = ? AND id = ?`,
    /**
     * After hard deletes in a conversation: its count goes down by the number deleted, and its
     * `search_terms` is summed again from the messages left (one pass over the conversation, on
     * deletes only: which rows went is not known here).
     */
    uncount: `UPDATE ${d}.conversations c SET c.message_count = c.message_count - ?,
        c.search_terms = (SELECT COALESCE(SUM(m.term_count), 0) FROM ${d}.messages m WHERE m.conversation_id = c.conversation_id)
      WHERE c.conversation_id = ?`,
    statsOfAll: statsSql(d, '', ''),
    /** Parameters: the conversation id twice. */
    statsOfOne: statsSql(d, 'WHERE conversation_id = ?', 'AND conversation_id = ?'),
    channelStatsOfAll: channelStatsSql(d, ''),
    channelStatsOfOne: channelStatsSql(d, 'AND c.conversation_id = ?'),
    deleteParticipantEverywhere: `DELETE FROM ${d}.participants WHERE participant_id = ?`,
    /** Erasure: the subject's messages, locked (with the gaps around them) until the erasure commits. */
    lockMessagesOfSubject: `SELECT conversation_id FROM ${d}.messages WHERE sender_id = ? OR recipient_id = ? FOR UPDATE`,
    deleteMessagesOfSubject: `DELETE FROM ${d}.messages WHERE sender_id = ? OR recipient_id = ?`,
    range(shape: RangeShape): ShapedSql {
      const { params, param } = paramList('?');
      const where = [
        `m.conversation_id = ${param('conversationId')}`,
        `m.seq > ${param('afterSeq')}`,
        `m.seq < ${param('beforeSeq')}`,
      ];
      if (!shape.includeDeleted) where.push('m.deleted_at IS NULL');
      if (shape.from) where.push(`m.created_at >= ${param('from')}`);
      if (shape.to) where.push(`m.created_at < ${param('to')}`);
      const text = `SELECT ${message('m')} FROM ${d}.messages m
        WHERE ${where.join(' AND ')}
        ORDER BY m.seq ${shape.order === 'asc' ? 'ASC' : 'DESC'}
        LIMIT ${param('limit')}`;
      return { text, params };
    },
    /**
     * The score of docs/api.md ("Search score"): Okapi BM25 as SQLite FTS5's bm25() computes it, in
     * DOUBLE and in the same operations and order, over the whole store: N and the average length
     * from the conversations' counters (`message_count`, `search_terms`), each term's document count
     * through the FULLTEXT index (soft-deleted messages included: the index holds every row), term
     * frequencies counted in `search_text`, lengths from `term_count`. A message scores the same on
     * every page. Ties resume by id; the outer WHERE is the keyset after the previous page's last hit.
     */
    search(shape: SearchShape): ShapedSql {
      const { params, param } = paramList('?');
      const indexes = Array.from({ length: shape.terms }, (_, i) => i);
      const frequencies = indexes
        .map(
          (i) =>
            `CAST((LENGTH(hit.words) - LENGTH(REPLACE(hit.words, ${param(`needle${i}`)}, ''))) DIV LENGTH(${param(`needle${i}`)}) AS DOUBLE) AS tf${i}`,
        )
        .join(', ');
      const where = [`MATCH (m.search_text) AGAINST (${param('query')} IN BOOLEAN MODE)`, 'm.deleted_at IS NULL'];
      if (shape.conversation) where.push(`m.conversation_id = ${param('conversationId')}`);
      if (shape.sender) where.push(`m.sender_id = ${param('senderId')}`);
      if (shape.from) where.push(`m.created_at >= ${param('from')}`);
      if (shape.to) where.push(`m.created_at < ${param('to')}`);
      // Per term: how many messages hold it, and its inverse document frequency (1e-6 at most 0).
      const counts = indexes
        .map(
          (i) =>
            `CROSS JOIN (SELECT COUNT(*) AS n FROM ${d}.messages WHERE MATCH (search_text) AGAINST (${param(`term${i}`)} IN BOOLEAN MODE)) c${i}`,
        )
        .join('\n              ');
      const idf = indexes
        .map((i) => `LN((totals.documents - c${i}.n + 0.5e0) / (c${i}.n + 0.5e0)) AS idf${i}`)
        .join(', ');
      const floored = indexes.map((i) => `IF(x.idf${i} <= 0, 1e-6, x.idf${i}) AS idf${i}`).join(', ');
      // k1 = 1.2, b = 0.75: idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * length / average))), summed in order.
      const score = indexes
        .map(
          (i) =>
            `st.idf${i} * ((t.tf${i} * 2.2e0) / (t.tf${i} + 1.2e0 * (0.25e0 + 0.75e0 * t.length / st.average_length)))`,
        )
        .join(' + ');
      const after = shape.after
        ? `WHERE s.score < ${param('afterScore')} OR (s.score = ${param('afterScore')} AND s.id > ${param('afterId')})`
        : '';
      const text = `SELECT s.conversation_id, s.seq, s.id, s.body, s.deleted_at, s.score FROM (
          SELECT t.conversation_id, t.seq, t.id, t.body, t.deleted_at, CAST(${score} AS DOUBLE) AS score
          FROM (
            SELECT hit.*, ${frequencies}
            FROM (
              SELECT ${message('m')}, CAST(m.term_count AS DOUBLE) AS length,
                CONCAT(' ', m.search_text, ' ') AS words
              FROM ${d}.messages m
              WHERE ${where.join(' AND ')}
            ) hit
          ) t
          CROSS JOIN (
            SELECT x.average_length, ${floored} FROM (
              SELECT totals.terms / totals.documents AS average_length, ${idf}
              FROM (
                SELECT CAST(GREATEST(SUM(message_count), 1) AS DOUBLE) AS documents,
                  CAST(GREATEST(SUM(search_terms), 1) AS DOUBLE) AS terms
                FROM ${d}.conversations
              ) totals
              ${counts}
            ) x
          ) st
        ) s
        ${after}
        ORDER BY s.score DESC, s.id ASC
        LIMIT ${param('limit')}`;
      return { text, params };
    },
  };
}

/** Per channel: its conversations not deleted, and the messages not deleted in its conversations. */
function channelStatsSql(d: string, conversationsAnd: string): string {
  return `SELECT channel, SUM(live) AS conversations, SUM(messages) AS messages FROM (
      SELECT c.channel, c.deleted_at IS NULL AS live,
        (SELECT COUNT(*) FROM ${d}.messages m WHERE m.conversation_id = c.conversation_id AND m.deleted_at IS NULL) AS messages
      FROM ${d}.conversations c WHERE c.channel IS NOT NULL ${conversationsAnd}
    ) t GROUP BY channel`;
}

function statsSql(d: string, messagesWhere: string, conversationsAnd: string): string {
  const live = 'deleted_at IS NULL';
  return `SELECT
      SUM(${live}) AS total,
      SUM(${live} AND direction = 'incoming') AS incoming,
      SUM(${live} AND direction = 'outgoing') AS outgoing,
      SUM(${live} AND has_media) AS with_media,
      SUM(${live} AND command_name IS NOT NULL) AS commands,
      SUM(${live} AND command_name IS NOT NULL AND command_admin) AS admin_commands,
      SUM(${live} AND status = 'failed') AS failed,
      SUM(deleted_at IS NOT NULL) AS deleted,
      SUM(${live} AND role = 'user') AS \`user\`,
      SUM(${live} AND role = 'assistant') AS assistant,
      SUM(${live} AND role = 'system') AS \`system\`,
      SUM(${live} AND role = 'tool') AS tool,
      (SELECT COUNT(*) FROM ${d}.conversations WHERE deleted_at IS NULL ${conversationsAnd}) AS conversations
    FROM ${d}.messages ${messagesWhere}`;
}
