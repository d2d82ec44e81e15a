/**
 * The mysql backend's schema as an ordered list of migrations (applied by `migrate.ts`), and the
 * SQL of the append input they share. Append migrations; never edit a released one.
 *
 * Every string column is utf8mb4 with a binary NO PAD collation (`utf8mb4_nopad_bin` on MariaDB,
 * `utf8mb4_0900_bin` on MySQL 8): ids and external ids compare exactly as on the other engines
 * (case-sensitive, trailing spaces significant, code-point order, so `ORDER BY id` sorts the ids
 * chatstore generates as JavaScript does), and emoji and other 4-byte characters round-trip.
 */
import type { TokenLimits } from './search.js';

/** How a database is laid out; fixed when it is created. */
export interface MysqlLayout {
  database: string;
  /** The binary NO PAD utf8mb4 collation of every string column. */
  collation: string;
  /** InnoDB FULLTEXT token sizes at creation: search tokens are made to fit them (`search.ts`). */
  tokens: TokenLimits;
}

type Migration = (layout: MysqlLayout) => string[];

/** A quoted identifier (backticks inside it doubled). */
export function ident(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** The collations chatstore can use, by preference. */
export const COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin'] as const;

/**
 * The message columns an append takes from its JSON argument (one array per message, see
 * `MessageInput` in `rows.ts`), as `JSON_TABLE` columns, and the table columns they fill.
 * Version 1 of the append input: a later shape is a new migration replacing the procedure.
 */
function messageInputColumns(layout: MysqlLayout): string {
  const text = (type: string) => `${type} CHARACTER SET utf8mb4 COLLATE ${layout.collation}`;
  return [
    'rel_seq BIGINT',
    `id ${text('VARCHAR(255)')}`,
    `external_id ${text('VARCHAR(255)')}`,
    `role ${text('VARCHAR(16)')}`,
    `direction ${text('VARCHAR(16)')}`,
    `sender_id ${text('VARCHAR(255)')}`,
    `recipient_id ${text('VARCHAR(255)')}`,
    `status ${text('VARCHAR(16)')}`,
    'has_media TINYINT',
    `command_name ${text('VARCHAR(255)')}`,
    'command_admin TINYINT',
    'created_at DATETIME(3)',
    'deleted_at DATETIME(3)',
    'term_count INT',
    'search_text LONGTEXT CHARACTER SET ascii COLLATE ascii_bin',
    `body ${text('LONGTEXT')}`,
  ]
    .map((column, index) => `${column} PATH '$[${index}]'`)
    .join(', ');
}

/** Where a message's term count is in its append input (see `messageInputColumns`). */
const MESSAGE_INPUT_TERM_COUNT = 13;

const INSERTED_COLUMNS = [
  'id',
  'external_id',
  'role',
  'direction',
  'sender_id',
  'recipient_id',
  'status',
  'has_media',
  'command_name',
  'command_admin',
  'created_at',
  'deleted_at',
  'term_count',
  'search_text',
  'body',
] as const;

/**
 * `INSERT … SELECT` of messages from a JSON argument, seqs `base + rel_seq`.
 */
export function insertMessagesSql(layout: MysqlLayout, conversation: string, base: string, input: string): string {
  const d = ident(layout.database);
  return `INSERT INTO ${d}.messages (conversation_id, seq, ${INSERTED_COLUMNS.join(', ')})
    SELECT ${conversation}, ${base} + j.rel_seq, ${INSERTED_COLUMNS.map((name) => `j.${name}`).join(', ')}
    FROM JSON_TABLE(${input}, '$[*]' COLUMNS (${messageInputColumns(layout)})) AS j`;
}

/**
 * Missing participants from a JSON argument (`[id, kind, name, joinedAt]` arrays); present ones stay
 * as they are. `ON DUPLICATE KEY UPDATE` with no change instead of `INSERT IGNORE`, which would also
 * turn real errors into warnings.
 */
export function insertParticipantsSql(layout: MysqlLayout, conversation: string, input: string): string {
  const d = ident(layout.database);
  const text = (type: string) => `${type} CHARACTER SET utf8mb4 COLLATE ${layout.collation}`;
  return `INSERT INTO ${d}.participants (conversation_id, participant_id, kind, name, joined_at)
    SELECT ${conversation}, j.participant_id, j.kind, j.name, j.joined_at
    FROM JSON_TABLE(${input}, '$[*]' COLUMNS (participant_id ${text('VARCHAR(255)')} PATH '$[0]',
      kind ${text('VARCHAR(16)')} PATH '$[1]', name ${text('TEXT')} PATH '$[2]', joined_at DATETIME(3) PATH '$[3]')) AS j
    ON DUPLICATE KEY UPDATE kind = ${d}.participants.kind`;
}

/** The message of the SIGNAL the append procedure raises when `expectedLastSeq` does not hold. */
export const EXPECTED_LAST_SEQ_SIGNAL = 'chatstore: expectedLastSeq does not hold';

/**
 * Migration `i` takes a database from version `i` to `i + 1`.
 */
export const MYSQL_MIGRATIONS: readonly Migration[] = [
  (layout) => {
    const d = ident(layout.database);
    const c = layout.collation;
    const text = (type: string) => `${type} CHARACTER SET utf8mb4 COLLATE ${c}`;
    const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${c}`;
    return [
      `CREATE TABLE ${d}.conversations (
  conversation_id VARCHAR(255) NOT NULL,
  type VARCHAR(255) NOT NULL,
  title TEXT,
  metadata LONGTEXT NOT NULL CHECK (JSON_VALID(metadata)),
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  -- The counter row: an append locks it, takes the next seqs and bumps it, so appends to one
  -- conversation serialize here and appends to different conversations never wait for each other.
  last_seq BIGINT NOT NULL DEFAULT 0,
  message_count BIGINT NOT NULL DEFAULT 0,
  last_message_at DATETIME(3),
  -- COALESCE(last_message_at, created_at), stored so that listing walks an index
  activity_at DATETIME(3) NOT NULL,
  deleted_at DATETIME(3),
  -- getConversation, the appends' counter-row lock, updates and deletes of one conversation
  PRIMARY KEY (conversation_id),
  -- listConversations: newest activity first, keyset on (activity_at, conversation_id)
  KEY conversations_by_activity (activity_at, conversation_id)
) ${table}`,
      `CREATE TABLE ${d}.participants (
  conversation_id VARCHAR(255) NOT NULL,
  participant_id VARCHAR(255) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  name TEXT,
  joined_at DATETIME(3) NOT NULL,
  -- getConversation: one conversation's participants; appends add missing ones
  PRIMARY KEY (conversation_id, participant_id),
  -- listConversations({ participantId }) and eraseSubject: the conversations one participant is in
  KEY participants_by_participant (participant_id)
) ${table}`,
      `CREATE TABLE ${d}.messages (
  conversation_id VARCHAR(255) NOT NULL,
  seq BIGINT NOT NULL,
  id VARCHAR(255) NOT NULL,
  external_id VARCHAR(255),
  role VARCHAR(16) NOT NULL,
  direction VARCHAR(16) NOT NULL,
  sender_id VARCHAR(255),
  recipient_id VARCHAR(255),
  status VARCHAR(16),
  has_media BOOLEAN NOT NULL,
  command_name VARCHAR(255),
  command_admin BOOLEAN,
  created_at DATETIME(3) NOT NULL,
  deleted_at DATETIME(3),
  -- updateMessage: compare-and-set on this counter, so a concurrent change is never overwritten
  version INT UNSIGNED NOT NULL DEFAULT 0,
  -- the content's words as the store's search rule sees them, one FULLTEXT token each (search.ts)
  term_count INT NOT NULL,
  search_text LONGTEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- the message as JSON (all but id, conversationId, seq and deletedAt): what reads parse
  body LONGTEXT NOT NULL CHECK (JSON_VALID(body)),
  -- range (recent, list, around, context, export): the clustered key, so a page is one range scan
  PRIMARY KEY (conversation_id, seq),
  -- getMessage, updateMessage, removeMessage and append's duplicate check: ids are unique across
  -- conversations, which the clustered key cannot enforce
  UNIQUE KEY messages_by_id (id),
  -- externalId is unique per conversation (idempotency). Keyed (external_id, conversation_id): the
  -- same constraint as (conversation_id, external_id), and it also serves the lookups by externalId
  -- alone (getMessageByExternalId without a conversation: status webhooks). NULLs do not collide.
  UNIQUE KEY messages_by_external_id (external_id, conversation_id),
  -- search({ senderId }) and eraseSubject (what the subject sent)
  KEY messages_by_sender (sender_id),
  -- eraseSubject: what the subject received
  KEY messages_by_recipient (recipient_id),
  -- search: every token must match (deleted messages are filtered after the index)
  FULLTEXT KEY messages_search (search_text)
) ${table}`,
      // The plain append in one round trip: lock (or create) the counter row, take the seqs,
      // insert, add participants, commit. Anything else (a duplicate on a unique key, a stale
      // expectedLastSeq) rolls back and raises, and the backend plans the call under the lock.
      `CREATE PROCEDURE ${d}.chatstore_append(
  IN p_conversation_id ${text('VARCHAR(255)')},
  IN p_type ${text('VARCHAR(255)')},
  IN p_title ${text('TEXT')},
  IN p_metadata ${text('LONGTEXT')},
  IN p_now DATETIME(3),
  IN p_expected_last_seq BIGINT,
  IN p_count INT,
  IN p_last_message_at DATETIME(3),
  IN p_messages ${text('LONGTEXT')},
  IN p_participants ${text('LONGTEXT')}
)
MODIFIES SQL DATA
-- with the caller's privileges: no dependency on the user who ran the migration
SQL SECURITY INVOKER
BEGIN
  DECLARE v_last_seq BIGINT;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
  START TRANSACTION;
  INSERT INTO ${d}.conversations (conversation_id, type, title, metadata, created_at, updated_at,
      last_seq, message_count, last_message_at, activity_at)
    VALUES (p_conversation_id, p_type, p_title, p_metadata, p_now, p_now, p_count, p_count,
      p_last_message_at, p_last_message_at)
    ON DUPLICATE KEY UPDATE last_seq = last_seq + p_count, message_count = message_count + p_count,
      last_message_at = p_last_message_at, activity_at = p_last_message_at, updated_at = p_now, deleted_at = NULL;
  SELECT last_seq INTO v_last_seq FROM ${d}.conversations WHERE conversation_id = p_conversation_id FOR UPDATE;
  IF p_expected_last_seq IS NOT NULL AND p_expected_last_seq <> v_last_seq - p_count THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${EXPECTED_LAST_SEQ_SIGNAL}';
  END IF;
  ${insertMessagesSql(layout, 'p_conversation_id', 'v_last_seq - p_count', 'p_messages')};
  IF p_participants IS NOT NULL THEN
    ${insertParticipantsSql(layout, 'p_conversation_id', 'p_participants')};
  END IF;
  COMMIT;
  SELECT v_last_seq - p_count AS base;
END`,
    ];
  }, // 2: one score on every engine (docs/api.md, "Search score"): BM25 over the whole store needs the
  // store's length in words; each conversation keeps its messages' lengths summed, in the counter
  // row appends lock and bump anyway, and search sums them with message_count.
  (layout) => {
    const d = ident(layout.database);
    const c = layout.collation;
    const text = (type: string) => `${type} CHARACTER SET utf8mb4 COLLATE ${c}`;
    return [
      `ALTER TABLE ${d}.conversations
  -- search: the term_count of the conversation's messages, summed; kept by appends, edits and deletes
  ADD COLUMN search_terms BIGINT NOT NULL DEFAULT 0`,
      `UPDATE ${d}.conversations c
  JOIN (SELECT conversation_id, SUM(term_count) AS terms FROM ${d}.messages GROUP BY conversation_id) t
    ON t.conversation_id = c.conversation_id
  SET c.search_terms = t.terms`,
      `DROP PROCEDURE ${d}.chatstore_append`,
      // As in version 1, and the messages' term counts added to search_terms.
      appendProcedureSql(layout, false),
      // updateMessage (statements.ts) in one call, as one statement either way: a compare-and-set
      // on version; new content (p_term_count not NULL) moves the conversation's search_terms by
      // the difference in the same statement, the conversation row locked first, as deletes and
      // appends lock. The call's affected rows are its last statement's: 0 when the version moved.
      `CREATE PROCEDURE ${d}.chatstore_update_message(
  IN p_body ${text('LONGTEXT')},
  IN p_status ${text('VARCHAR(16)')},
  IN p_deleted_at DATETIME(3),
  IN p_term_count INT,
  IN p_search_text LONGTEXT CHARACTER SET ascii COLLATE ascii_bin,
  IN p_conversation_id ${text('VARCHAR(255)')},
  IN p_seq BIGINT,
  IN p_version INT UNSIGNED
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
  DECLARE v_old_terms INT DEFAULT NULL;
  IF p_term_count IS NULL THEN
    UPDATE ${d}.messages SET body = p_body, status = p_status, deleted_at = p_deleted_at, version = version + 1
      WHERE conversation_id = p_conversation_id AND seq = p_seq AND version = p_version;
  ELSE
    SELECT term_count INTO v_old_terms FROM ${d}.messages
      WHERE conversation_id = p_conversation_id AND seq = p_seq AND version = p_version;
    UPDATE ${d}.conversations c STRAIGHT_JOIN ${d}.messages m ON m.conversation_id = c.conversation_id
      SET c.search_terms = c.search_terms + p_term_count - v_old_terms,
        m.body = p_body, m.status = p_status, m.deleted_at = p_deleted_at, m.term_count = p_term_count,
        m.search_text = p_search_text, m.version = m.version + 1
      WHERE c.conversation_id = p_conversation_id AND m.seq = p_seq AND m.version = p_version
        AND v_old_terms IS NOT NULL;
  END IF;
END`,
    ];
  },
  // 3: the channel a conversation lives on (whatsapp, sms…), listed by and counted; the one-trip
  // append takes it for the conversation it creates.
  (layout) => {
    const d = ident(layout.database);
    return [
      `ALTER TABLE ${d}.conversations
  ADD COLUMN channel VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin,
  -- listConversations({ channel }): newest activity first within one channel
  ADD KEY conversations_by_channel (channel, activity_at, conversation_id)`,
      `DROP PROCEDURE ${d}.chatstore_append`,
      appendProcedureSql(layout, true),
    ];
  },
];

/**
 * The one-trip append (`appendCall` in statements.ts), as migration 2 made it and, `withChannel`,
 * migration 3: one more parameter, the channel a new conversation gets.
 */
function appendProcedureSql(layout: MysqlLayout, withChannel: boolean): string {
  const d = ident(layout.database);
  const text = (type: string) => `${type} CHARACTER SET utf8mb4 COLLATE ${layout.collation}`;
  const channelParameter = withChannel ? ',\n  IN p_channel VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin' : '';
  return `CREATE PROCEDURE ${d}.chatstore_append(
  IN p_conversation_id ${text('VARCHAR(255)')},
  IN p_type ${text('VARCHAR(255)')},
  IN p_title ${text('TEXT')},
  IN p_metadata ${text('LONGTEXT')},
  IN p_now DATETIME(3),
  IN p_expected_last_seq BIGINT,
  IN p_count INT,
  IN p_last_message_at DATETIME(3),
  IN p_messages ${text('LONGTEXT')},
  IN p_participants ${text('LONGTEXT')}${channelParameter}
)
MODIFIES SQL DATA
-- with the caller's privileges: no dependency on the user who ran the migration
SQL SECURITY INVOKER
BEGIN
  DECLARE v_last_seq BIGINT;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
  START TRANSACTION;
  INSERT INTO ${d}.conversations (conversation_id, type, title, ${withChannel ? 'channel, ' : ''}metadata, created_at, updated_at,
      last_seq, message_count, last_message_at, activity_at, search_terms)
    VALUES (p_conversation_id, p_type, p_title, ${withChannel ? 'p_channel, ' : ''}p_metadata, p_now, p_now, p_count, p_count,
      p_last_message_at, p_last_message_at,
      (SELECT COALESCE(SUM(j.term_count), 0)
        FROM JSON_TABLE(p_messages, '$[*]' COLUMNS (term_count INT PATH '$[${MESSAGE_INPUT_TERM_COUNT}]')) AS j))
    ON DUPLICATE KEY UPDATE last_seq = last_seq + p_count, message_count = message_count + p_count,
      search_terms = search_terms + VALUES(search_terms),
      last_message_at = p_last_message_at, activity_at = p_last_message_at, updated_at = p_now, deleted_at = NULL;
  SELECT last_seq INTO v_last_seq FROM ${d}.conversations WHERE conversation_id = p_conversation_id FOR UPDATE;
  IF p_expected_last_seq IS NOT NULL AND p_expected_last_seq <> v_last_seq - p_count THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${EXPECTED_LAST_SEQ_SIGNAL}';
  END IF;
  ${insertMessagesSql(layout, 'p_conversation_id', 'v_last_seq - p_count', 'p_messages')};
  IF p_participants IS NOT NULL THEN
    ${insertParticipantsSql(layout, 'p_conversation_id', 'p_participants')};
  END IF;
  COMMIT;
  SELECT v_last_seq - p_count AS base;
END`;
}
