/**
 * Every SQL statement of the postgres backend, built once per schema and layout, so that the
 * indexes they need (see `schema.ts`) can be checked against them (`test/postgres-explain`).
 * Times are read as epoch milliseconds and written as ISO strings: no session time zone or date
 * style can change what comes back.
 */

import {
  type ConversationListShape,
  paramList,
  type RangeShape,
  type SearchShape,
  type ShapedSql,
} from '../sql/shapes.js';
import { ident, type PgLayout, searchLengthSql } from './schema.js';
import { pgTextSearch } from './text-search.js';

/** A timestamptz column as epoch milliseconds (float8; the reader rounds to whole milliseconds). */
const ms = (column: string): string => `(date_part('epoch', ${column}) * 1000)`;

/**
 * A message as read (see `sql/rows.ts` StoredMessageRow), from the table aliased `m`: its body and
 * the four fields kept as columns (the content among them: the body does not repeat it). One JSON value per row to decode (natively), so a page of
 * messages costs the client about what the raw driver's minimal table costs.
 */
const MESSAGE = `m.conversation_id, m.seq, m.body, m.content, ${ms('m.deleted_at')} AS deleted_at`;

/** The message columns an append takes from its JSON argument, with their types. */
const MESSAGE_INPUT: readonly (readonly [string, string])[] = [
  ['rel_seq', 'bigint'],
  ['id', 'text'],
  ['external_id', 'text'],
  ['role', 'text'],
  ['direction', 'text'],
  ['sender_id', 'text'],
  ['recipient_id', 'text'],
  ['content', 'text'],
  ['search_text', 'text'],
  // The words' count when the store decides the words (`simple`'s literal vectors), else NULL: counted from the vector.
  ['word_count', 'integer'],
  ['parts', 'json'],
  ['media', 'json'],
  ['media_url', 'text'],
  ['media_type', 'text'],
  ['media_content_type', 'text'],
  ['media_size', 'bigint'],
  ['status', 'text'],
  ['error_code', 'text'],
  ['error_message', 'text'],
  ['queued_at', 'timestamptz'],
  ['sent_at', 'timestamptz'],
  ['delivered_at', 'timestamptz'],
  ['read_at', 'timestamptz'],
  ['failed_at', 'timestamptz'],
  ['reply_to', 'text'],
  ['command_name', 'text'],
  ['is_admin_command', 'boolean'],
  ['metadata', 'json'],
  ['created_at', 'timestamptz'],
  ['edited_at', 'timestamptz'],
  ['deleted_at', 'timestamptz'],
  ['body', 'json'],
];

/** The input columns stored as they are (rel_seq becomes seq; search_text and word_count become search_vector and search_length). */
const STORED_INPUT = MESSAGE_INPUT.map(([name]) => name).filter(
  (name) => name !== 'rel_seq' && name !== 'search_text' && name !== 'word_count',
);

/** SQL: a lexeme (text) as the tsquery of that one lexeme, quoted so that it is never an operator. */
const LEXEME_QUERY = (lexeme: string): string =>
  `('''' || replace(replace(${lexeme}, '\\', '\\\\'), '''', '''''') || '''')::tsquery`;

/** The statements of one schema. */
export type PgSql = ReturnType<typeof pgSql>;

/** Every statement of the backend for one schema and layout, built once when the backend opens. */
export function pgSql(layout: PgLayout) {
  const s = ident(layout.schema);
  const partitioned = layout.partitioning === 'monthly';
  const text = pgTextSearch(layout);
  const conversation = (
    alias: string,
  ) => `${alias}.conversation_id, ${alias}.type, ${alias}.title, ${alias}.channel, ${alias}.metadata,
    ${ms(`${alias}.created_at`)} AS created_at, ${ms(`${alias}.updated_at`)} AS updated_at,
    ${alias}.last_seq, ${alias}.message_count, ${ms(`${alias}.last_message_at`)} AS last_message_at,
    ${ms(`${alias}.deleted_at`)} AS deleted_at,
    (SELECT coalesce(json_agg(json_build_array(p.participant_id, p.kind, p.name, ${ms('p.joined_at')})
        ORDER BY p.joined_at, p.participant_id), '[]'::json)
      FROM ${s}.participants p WHERE p.conversation_id = ${alias}.conversation_id) AS participants`;
  // A message by its key in message_ids (or message_external_ids): created_at prunes partitions.
  const joinMessage = (alias: string) =>
    `JOIN ${s}.messages m ON m.conversation_id = ${alias}.conversation_id AND m.seq = ${alias}.seq AND m.created_at = ${alias}.created_at`;
  const removeExternalIds = (from: string) =>
    partitioned
      ? `, external AS (
        DELETE FROM ${s}.message_external_ids e USING ${from} r
        WHERE e.conversation_id = r.conversation_id AND e.external_id = r.external_id)`
      : '';
  // One index probe per external id, on the (external_id, conversation_id) key: written as a join
  // over the ids so that no plan (a generic one made while the table was small, say) can scan the
  // conversation by its seq key instead, which would cost O(history) per append.
  const externalIdLookup = (conversation: string, externalIds: string) =>
    partitioned
      ? `SELECT 1 FROM unnest(${externalIds}) AS wanted(external_id)
         JOIN ${s}.message_external_ids e ON e.external_id = wanted.external_id AND e.conversation_id = ${conversation}`
      : `SELECT 1 FROM unnest(${externalIds}) AS wanted(external_id)
         JOIN ${s}.messages m ON m.external_id = wanted.external_id AND m.conversation_id = ${conversation}`;
  const participantsInput =
    'json_to_recordset($PARTICIPANTS::json) AS p(participant_id text, kind text, name text, joined_at timestamptz)';

  return {
    layout,

    conversation: `SELECT ${conversation('c')} FROM ${s}.conversations c WHERE c.conversation_id = $1`,
    createConversation: `WITH created AS (
        INSERT INTO ${s}.conversations (conversation_id, type, title, channel, metadata, created_at, updated_at,
          activity_at)
        VALUES ($1, $2, $3, $7, $4::json, $5, $5, $5)
        ON CONFLICT (conversation_id) DO NOTHING
        RETURNING conversation_id
      ), added AS (
        INSERT INTO ${s}.participants (conversation_id, participant_id, kind, name, joined_at)
        SELECT created.conversation_id, p.participant_id, p.kind, p.name, p.joined_at
        FROM created, ${participantsInput.replace('$PARTICIPANTS', '$6')}
        ON CONFLICT DO NOTHING
      )
      SELECT count(*)::int AS created FROM created`,
    updateConversation: `WITH updated AS (
        UPDATE ${s}.conversations SET
          type = coalesce($2, type),
          title = CASE WHEN $3::boolean THEN $4 ELSE title END,
          channel = CASE WHEN $7::boolean THEN $8 ELSE channel END,
          metadata = CASE WHEN $5::json IS NULL THEN metadata ELSE ${s}.json_merge_patch(metadata, $5::json) END,
          updated_at = $6
        WHERE conversation_id = $1
        RETURNING *
      )
      SELECT ${conversation('u')} FROM updated u`,
    addParticipants: `WITH touched AS (
        UPDATE ${s}.conversations SET updated_at = $2 WHERE conversation_id = $1 RETURNING conversation_id
      ), added AS (
        INSERT INTO ${s}.participants (conversation_id, participant_id, kind, name, joined_at)
        SELECT touched.conversation_id, p.participant_id, p.kind, p.name, p.joined_at
        FROM touched, ${participantsInput.replace('$PARTICIPANTS', '$3')}
        ON CONFLICT DO NOTHING
      )
      SELECT count(*)::int AS found FROM touched`,
    removeParticipant: `WITH touched AS (
        UPDATE ${s}.conversations SET updated_at = $2 WHERE conversation_id = $1 RETURNING conversation_id
      ), removed AS (
        DELETE FROM ${s}.participants p USING touched
        WHERE p.conversation_id = touched.conversation_id AND p.participant_id = $3
      )
      SELECT count(*)::int AS found FROM touched`,
    lockConversation: `SELECT last_seq FROM ${s}.conversations WHERE conversation_id = $1 FOR UPDATE`,
    /**
     * Hard delete of a conversation and everything in it; the count of its messages and the oids of
     * the tables (partitions) they were in, which a compacting delete rewrites.
     */
    removeConversation: `WITH removed AS (
        DELETE FROM ${s}.messages WHERE conversation_id = $1 RETURNING id, conversation_id, external_id, tableoid::text AS part
      ), ids AS (
        DELETE FROM ${s}.message_ids i USING removed r WHERE i.id = r.id
      )${removeExternalIds('removed')}, people AS (
        DELETE FROM ${s}.participants WHERE conversation_id = $1
      ), conversation AS (
        DELETE FROM ${s}.conversations WHERE conversation_id = $1
      )
      SELECT count(*)::int AS n, array_agg(DISTINCT part) AS parts FROM removed`,
    softDeleteConversation: `WITH conversation AS (
        UPDATE ${s}.conversations SET deleted_at = coalesce(deleted_at, $2), updated_at = $2 WHERE conversation_id = $1
      )
      UPDATE ${s}.messages SET deleted_at = $2 WHERE conversation_id = $1 AND deleted_at IS NULL`,
    conversationIds: `SELECT conversation_id FROM ${s}.conversations WHERE conversation_id > $1 ORDER BY conversation_id LIMIT $2`,
    listConversations(shape: ConversationListShape): ShapedSql {
      const { params, param } = paramList('$n');
      const where: string[] = [];
      if (shape.participant) where.push(`p.participant_id = ${param('participantId')}`);
      if (!shape.includeDeleted) where.push('c.deleted_at IS NULL');
      if (shape.type) where.push(`c.type = ${param('type')}`);
      if (shape.channel) where.push(`c.channel = ${param('channel')}`);
      if (shape.after) {
        where.push(
          `(c.activity_at, c.conversation_id) < (${param('afterActivityAt')}::timestamptz, ${param('afterId')})`,
        );
      }
      // By participant, the scan starts from that participant's entries: cheap for a person, who is in
      // few conversations; a bot present everywhere pays a sort over its conversations instead.
      const from = shape.participant
        ? `${s}.participants p JOIN ${s}.conversations c ON c.conversation_id = p.conversation_id`
        : `${s}.conversations c`;
      const text = `SELECT ${conversation('c')} FROM ${from}
        ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
        ORDER BY c.activity_at DESC, c.conversation_id DESC
        LIMIT ${param('limit')}`;
      return { text, params };
    },

    /** The general append path, in a transaction: the conversation row to lock, created when missing. */
    ensureConversation: `INSERT INTO ${s}.conversations
        (conversation_id, type, title, channel, metadata, created_at, updated_at, activity_at)
      VALUES ($1, $2, $3, $6, $4::json, $5, $5, $5)
      ON CONFLICT (conversation_id) DO NOTHING`,
    /** A restore's write (`AppendRequest.restore`), after its messages: its counters, times and deletedAt. */
    afterRestore: `UPDATE ${s}.conversations SET
        last_seq = $2,
        last_message_at = coalesce($3::timestamptz, last_message_at),
        activity_at = coalesce($3::timestamptz, last_message_at, created_at),
        updated_at = $4,
        deleted_at = $5
      WHERE conversation_id = $1`,
    /**
     * An append in one statement: the counter row is locked (created for a new conversation) and
     * bumped, the messages, their ids and missing participants inserted. No row comes back (and
     * nothing is written) when a message of the call is stored already or `expectedLastSeq` does
     * not hold: the call is then planned under the lock by planAppend. A duplicate committed after
     * this statement's snapshot fails it on a unique index (23505), with the same outcome.
     */
    appendMessages: `WITH fresh AS (
        SELECT NOT EXISTS (SELECT 1 FROM ${s}.message_ids WHERE id = ANY ($8::text[]))
          AND NOT EXISTS (${externalIdLookup('$1', '$9::text[]')}) AS ok
      ), input AS (
        SELECT r.*, words.vector, coalesce(r.word_count, ${text.length('words.vector')}) AS search_length
        FROM json_to_recordset($10::json) AS r(${MESSAGE_INPUT.map(([name, type]) => `${name} ${type}`).join(', ')}),
          LATERAL (SELECT ${text.vector('r.search_text')} AS vector) AS words
      ), counter AS (
        INSERT INTO ${s}.conversations AS c (conversation_id, type, title, channel, metadata, created_at,
          updated_at, last_seq, message_count, last_message_at, activity_at, search_terms)
        SELECT $1, $2, $3, $13, $4::json, $5, $5, $12, $12, $7, $7,
          (SELECT coalesce(sum(search_length), 0) FROM input)
        FROM fresh
        WHERE fresh.ok
          AND ($6::bigint IS NULL OR $6 = 0 OR EXISTS (SELECT 1 FROM ${s}.conversations WHERE conversation_id = $1))
        ON CONFLICT (conversation_id) DO UPDATE SET
          last_seq = c.last_seq + $12,
          message_count = c.message_count + $12,
          search_terms = c.search_terms + excluded.search_terms,
          last_message_at = $7,
          activity_at = $7,
          updated_at = $5,
          deleted_at = NULL
        WHERE $6::bigint IS NULL OR c.last_seq = $6
        RETURNING c.last_seq - $12 AS base, c.type
      ), inserted AS (
        INSERT INTO ${s}.messages (conversation_id, seq, context_type, search_vector, search_length,
          ${STORED_INPUT.join(', ')})
        SELECT $1, counter.base + input.rel_seq, counter.type, input.vector, input.search_length,
          ${STORED_INPUT.map((name) => `input.${name}`).join(', ')}
        FROM counter, input
        RETURNING id, seq, created_at, external_id
      )${
        partitioned
          ? `, external AS (
        INSERT INTO ${s}.message_external_ids (external_id, conversation_id, seq, created_at)
        SELECT external_id, $1, seq, created_at FROM inserted WHERE external_id IS NOT NULL
      )`
          : ''
      }, ids AS (
        INSERT INTO ${s}.message_ids (id, conversation_id, seq, created_at)
        SELECT id, $1, seq, created_at FROM inserted
      ), people AS (
        INSERT INTO ${s}.participants (conversation_id, participant_id, kind, name, joined_at)
        SELECT $1, p.participant_id, p.kind, p.name, p.joined_at
        FROM counter, ${participantsInput.replace('$PARTICIPANTS', '$11')}
        ON CONFLICT DO NOTHING
      )
      SELECT base FROM counter`,
    messagesByIds: `SELECT ${MESSAGE} FROM ${s}.message_ids i ${joinMessage('i')} WHERE i.id = ANY ($1::text[])`,
    messagesByExternalIds: partitioned
      ? `SELECT ${MESSAGE} FROM unnest($2::text[]) AS wanted(external_id)
         JOIN ${s}.message_external_ids e ON e.external_id = wanted.external_id AND e.conversation_id = $1
         ${joinMessage('e')}`
      : `SELECT ${MESSAGE} FROM unnest($2::text[]) AS wanted(external_id)
         JOIN ${s}.messages m ON m.external_id = wanted.external_id AND m.conversation_id = $1`,

    message: `SELECT ${MESSAGE} FROM ${s}.message_ids i ${joinMessage('i')} WHERE i.id = $1`,
    /** For updateMessage: the row and its version (xmin), to update only if nobody changed it since. */
    messageForUpdate: `SELECT ${MESSAGE}, m.xmin::text AS row_version
      FROM ${s}.message_ids i ${joinMessage('i')} WHERE i.id = $1`,
    messageByExternalId: partitioned
      ? `SELECT ${MESSAGE} FROM ${s}.message_external_ids e ${joinMessage('e')}
         WHERE e.conversation_id = $1 AND e.external_id = $2`
      : `SELECT ${MESSAGE} FROM ${s}.messages m WHERE m.conversation_id = $1 AND m.external_id = $2`,
    firstMessageByExternalId: partitioned
      ? `SELECT ${MESSAGE} FROM (
           SELECT * FROM ${s}.message_external_ids WHERE external_id = $1 ORDER BY conversation_id, seq LIMIT 1
         ) e ${joinMessage('e')}`
      : `SELECT ${MESSAGE} FROM ${s}.messages m WHERE m.external_id = $1 ORDER BY m.conversation_id, m.seq LIMIT 1`,
    /**
     * Compare-and-set on the row version; new content (`$6`, else NULL) brings new words, and the
     * conversation's `search_terms` moves by the difference in length (the conversation row is then
     * locked after the message, as a hard delete locks them).
     */
    updateMessage: `WITH old AS (
        SELECT ${searchLengthSql(layout, 'm.search_vector', 'm.search_length')} AS length FROM ${s}.messages m
        WHERE m.conversation_id = $1 AND m.seq = $2 AND m.created_at = $3 AND m.xmin = $4::xid
      ), words AS (
        SELECT vector, ${text.length('vector')} AS length
        FROM (SELECT ${text.vector('$6::text')} AS vector WHERE $6::text IS NOT NULL) v
      ), updated AS (
        UPDATE ${s}.messages m SET
        content = $5,
        search_vector = coalesce((SELECT vector FROM words), m.search_vector),
        search_length = coalesce((SELECT length FROM words), m.search_length),
        metadata = $7::json,
        status = $8,
        error_code = $9,
        error_message = $10,
        queued_at = $11,
        sent_at = $12,
        delivered_at = $13,
        read_at = $14,
        failed_at = $15,
        edited_at = $16,
        deleted_at = $17,
        body = $18::json
      WHERE m.conversation_id = $1 AND m.seq = $2 AND m.created_at = $3 AND m.xmin = $4::xid
        RETURNING ${MESSAGE}
      ), counted AS (
        UPDATE ${s}.conversations c SET search_terms = c.search_terms - old.length + words.length
        FROM old, words, updated WHERE c.conversation_id = $1
      )
      SELECT * FROM updated`,
    removeMessage: `WITH gone AS (
        DELETE FROM ${s}.message_ids WHERE id = $1 RETURNING conversation_id, seq, created_at
      ), removed AS (
        DELETE FROM ${s}.messages m USING gone
        WHERE m.conversation_id = gone.conversation_id AND m.seq = gone.seq AND m.created_at = gone.created_at
        RETURNING m.conversation_id, m.external_id, m.tableoid::text AS part,
          ${searchLengthSql(layout, 'm.search_vector', 'm.search_length')} AS length
      )${removeExternalIds('removed')}, uncounted AS (
        UPDATE ${s}.conversations c SET message_count = c.message_count - 1, search_terms = c.search_terms - removed.length
        FROM removed WHERE c.conversation_id = removed.conversation_id
      )
      SELECT count(*)::int AS removed, array_agg(part) AS parts FROM removed`,
    range(shape: RangeShape): ShapedSql {
      const { params, param } = paramList('$n');
      const where = [
        `m.conversation_id = ${param('conversationId')}`,
        `m.seq > ${param('afterSeq')}`,
        `m.seq < ${param('beforeSeq')}`,
      ];
      if (!shape.includeDeleted) where.push('m.deleted_at IS NULL');
      if (shape.from) where.push(`m.created_at >= ${param('from')}::timestamptz`);
      if (shape.to) where.push(`m.created_at < ${param('to')}::timestamptz`);
      const text = `SELECT ${MESSAGE} FROM ${s}.messages m
        WHERE ${where.join(' AND ')}
        ORDER BY m.seq ${shape.order === 'asc' ? 'ASC' : 'DESC'}
        LIMIT ${param('limit')}`;
      return { text, params };
    },
    /**
     * The score of docs/api.md ("Search score"): Okapi BM25 as SQLite FTS5's bm25() computes it, in
     * float8 and in the same operations and order, over the whole store: N and the average length
     * from the conversations' counters (`message_count`, `search_terms`), each word's document count
     * through the full-text index (soft-deleted messages included, as in every engine's index),
     * term frequencies from the vectors (`frequency`), lengths as stored at write (`search_length`).
     * A message scores the same on every page. Ties on score resume by id; the outer WHERE is the
     * keyset after the previous page's last hit.
     */
    search(shape: SearchShape): ShapedSql {
      const { params, param } = paramList('$n');
      const query = text.query(param('query'));
      const lexemes = text.lexemes(param('words'));
      const where = [`m.search_vector @@ ${query}`, 'm.deleted_at IS NULL'];
      if (shape.conversation) where.push(`m.conversation_id = ${param('conversationId')}`);
      if (shape.sender) where.push(`m.sender_id = ${param('senderId')}`);
      if (shape.from) where.push(`m.created_at >= ${param('from')}::timestamptz`);
      if (shape.to) where.push(`m.created_at < ${param('to')}::timestamptz`);
      const after = shape.after
        ? `WHERE scored.score < ${param('afterScore')}::float8 OR (scored.score = $${params.length}::float8 AND scored.id > ${param('afterId')})`
        : '';
      // k1 = 1.2, b = 0.75: idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * length / average))).
      const termScore = `statistics.idf[f.i] * ((f.tf * 2.2::float8)
        / (f.tf + 1.2::float8 * (0.25::float8 + 0.75::float8 * hit.length / statistics.average_length)))`;
      // In two steps, so that ranking stays cheap when a word is in every message: narrow rows (the
      // key, the stored length, the frequencies of the query's words only, cut out of the vector by
      // C functions rather than unnesting all of it) are ranked and cut to one page; then the page's
      // messages are read. The statistics are read once per search: the counters of every
      // conversation, and one index count per word.
      return {
        text: `WITH statistics AS MATERIALIZED (
            SELECT totals.terms / totals.documents AS average_length, ARRAY(
                SELECT CASE WHEN idf.value <= 0 THEN 1e-6::float8 ELSE idf.value END
                FROM unnest(${lexemes}) WITH ORDINALITY AS word(lexeme, i)
                CROSS JOIN LATERAL (
                  SELECT ln((totals.documents - count(*) + 0.5::float8) / (count(*) + 0.5::float8)) AS value
                  FROM ${s}.messages d WHERE d.search_vector @@ ${LEXEME_QUERY('word.lexeme')}
                ) idf
                ORDER BY word.i
              ) AS idf
            FROM (
              SELECT greatest(sum(message_count), 1)::float8 AS documents, greatest(sum(search_terms), 1)::float8 AS terms
              FROM ${s}.conversations
            ) totals
          )
          SELECT ${MESSAGE}, top.score FROM (
            SELECT scored.conversation_id, scored.seq, scored.created_at, scored.id, scored.score FROM (
              SELECT hit.conversation_id, hit.seq, hit.created_at, hit.id, (
                  SELECT sum(${termScore} ORDER BY f.i) FROM unnest(hit.frequencies) WITH ORDINALITY AS f(tf, i)
                ) AS score
              FROM (
                SELECT m.conversation_id, m.seq, m.created_at, m.id,
                  ${searchLengthSql(layout, 'm.search_vector', 'm.search_length')}::float8 AS length,
                  ARRAY(
                    SELECT ${text.frequency('u.positions')}::float8
                    FROM unnest(ts_filter(setweight(m.search_vector, 'A', ${lexemes}), '{a}')) AS u
                    ORDER BY array_position(${lexemes}, u.lexeme)
                  ) AS frequencies
                FROM ${s}.messages m
                WHERE ${where.join(' AND ')}
              ) hit, statistics
            ) scored
            ${after}
            ORDER BY scored.score DESC, scored.id ASC
            LIMIT ${param('limit')}
          ) top
          ${joinMessage('top')}
          ORDER BY top.score DESC, top.id ASC`,
        params,
      };
    },
    statsOfAll: statsSql(s, '', ''),
    statsOfOne: statsSql(s, 'WHERE conversation_id = $1', 'AND conversation_id = $1'),
    channelStatsOfAll: channelStatsSql(s, ''),
    channelStatsOfOne: channelStatsSql(s, 'AND c.conversation_id = $1'),

    deleteParticipantEverywhere: `DELETE FROM ${s}.participants WHERE participant_id = $1`,
    /** Erasure: the subject's messages everywhere, with their conversations' counts; `parts` as in `removeConversation`. */
    removeMessagesOfSubject: `WITH removed AS (
        DELETE FROM ${s}.messages m WHERE m.sender_id = $1 OR m.recipient_id = $1
        RETURNING m.id, m.conversation_id, m.external_id, m.tableoid::text AS part,
          ${searchLengthSql(layout, 'm.search_vector', 'm.search_length')} AS length
      ), ids AS (
        DELETE FROM ${s}.message_ids i USING removed r WHERE i.id = r.id
      )${removeExternalIds('removed')}, uncounted AS (
        UPDATE ${s}.conversations c SET message_count = c.message_count - d.n, search_terms = c.search_terms - d.terms
        FROM (SELECT conversation_id, count(*) AS n, sum(length) AS terms FROM removed GROUP BY conversation_id) d
        WHERE c.conversation_id = d.conversation_id
      )
      SELECT count(*)::int AS n, array_agg(DISTINCT part) AS parts FROM removed`,

    // The old log's queries, each served by its own index.
    bySender: `SELECT ${MESSAGE} FROM ${s}.messages m
      WHERE m.sender_id = $1 AND m.created_at < $2::timestamptz AND m.deleted_at IS NULL
      ORDER BY m.created_at DESC LIMIT $3`,
    failed: `SELECT ${MESSAGE} FROM ${s}.messages m
      WHERE m.status = 'failed' AND m.deleted_at IS NULL AND m.created_at < $1::timestamptz
        AND ($2::text IS NULL OR m.conversation_id = $2)
      ORDER BY m.created_at DESC LIMIT $3`,
    withMedia: `SELECT ${MESSAGE} FROM ${s}.messages m
      WHERE m.conversation_id = $1 AND m.media IS NOT NULL AND m.deleted_at IS NULL AND m.seq < $2
      ORDER BY m.seq DESC LIMIT $3`,
    replies: `SELECT ${MESSAGE} FROM ${s}.message_ids i
      JOIN ${s}.messages m ON m.conversation_id = i.conversation_id
      WHERE i.id = $1 AND m.reply_to = $1 AND m.deleted_at IS NULL
      ORDER BY m.seq LIMIT $2`,
    byMetadata: `SELECT ${MESSAGE} FROM ${s}.messages m
      WHERE (m.metadata::jsonb) @> $1::jsonb AND m.metadata IS NOT NULL AND m.deleted_at IS NULL
        AND ($2::text IS NULL OR m.conversation_id = $2)
      ORDER BY m.created_at DESC LIMIT $3`,
  };
}

/** Per channel: its conversations not deleted, and the messages not deleted in its conversations. */
function channelStatsSql(s: string, conversationsAnd: string): string {
  return `SELECT channel, sum(live) AS conversations, sum(messages) AS messages FROM (
      SELECT c.channel, CASE WHEN c.deleted_at IS NULL THEN 1 ELSE 0 END AS live,
        (SELECT count(*) FROM ${s}.messages m WHERE m.conversation_id = c.conversation_id AND m.deleted_at IS NULL) AS messages
      FROM ${s}.conversations c WHERE c.channel IS NOT NULL ${conversationsAnd}
    ) t GROUP BY channel`;
}

function statsSql(s: string, messagesWhere: string, conversationsAnd: string): string {
  const live = 'deleted_at IS NULL';
  return `SELECT
      count(*) FILTER (WHERE ${live}) AS total,
      count(*) FILTER (WHERE ${live} AND direction = 'incoming') AS incoming,
      count(*) FILTER (WHERE ${live} AND direction = 'outgoing') AS outgoing,
      count(*) FILTER (WHERE ${live} AND media IS NOT NULL) AS with_media,
      count(*) FILTER (WHERE ${live} AND command_name IS NOT NULL) AS commands,
      count(*) FILTER (WHERE ${live} AND command_name IS NOT NULL AND is_admin_command) AS admin_commands,
      count(*) FILTER (WHERE ${live} AND status = 'failed') AS failed,
      count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
      count(*) FILTER (WHERE ${live} AND role = 'user') AS "user",
      count(*) FILTER (WHERE ${live} AND role = 'assistant') AS assistant,
      count(*) FILTER (WHERE ${live} AND role = 'system') AS system,
      count(*) FILTER (WHERE ${live} AND role = 'tool') AS tool,
      (SELECT count(*) FROM ${s}.conversations WHERE deleted_at IS NULL ${conversationsAnd}) AS conversations
    FROM ${s}.messages ${messagesWhere}`;
}
