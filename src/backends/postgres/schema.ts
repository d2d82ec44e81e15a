/**
 * The postgres backend's schema as an ordered list of migrations, applied at open (`migrate.ts`).
 * `<schema>.chatstore_schema` records the version and the layout chosen at creation (partitioning,
 * text search configuration, who makes partitions); a later open keeps that layout. Append
 * migrations; never edit a released one.
 *
 * Every primary key and unique constraint includes `conversation_id`, so the tables distribute on
 * Citus by it, with one exception: `message_ids`, the global index of message ids, is keyed (and
 * would be distributed) by `id` — global uniqueness of ids is what it is for.
 */

import { createHash } from 'node:crypto';

/** How a schema is laid out; fixed when the schema is created. */
export interface PgLayout {
  schema: string;
  partitioning: 'none' | 'monthly';
  /** The text search configuration the full-text index and queries use (`simple` by default). */
  textSearchConfig: string;
  /** Who makes the monthly partitions: the store, or pg_partman when it was installed at creation. */
  partitionManager: 'none' | 'chatstore' | 'pg_partman';
}

/** What a migration may need besides the layout: the pg_partman install, when there is one. */
export interface PgMigrationContext {
  partman?: { schema: string; version: string };
}

type Migration = (layout: PgLayout, context: PgMigrationContext) => string[];

/** A quoted identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A quoted string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Migration `i` takes a schema from version `i` to `i + 1`.
 */
export const PG_MIGRATIONS: readonly Migration[] = [
  (layout, context) => {
    const s = ident(layout.schema);
    const partitioned = layout.partitioning === 'monthly';
    const statements: string[] = [];

    statements.push(`CREATE TABLE ${s}.conversations (
  conversation_id text COLLATE "C" PRIMARY KEY,
  type text NOT NULL,
  title text,
  metadata json NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- The counter row: an append locks it, takes the next seqs and bumps it, so appends to one
  -- conversation serialize here and appends to different conversations never wait for each other.
  last_seq bigint NOT NULL DEFAULT 0,
  message_count bigint NOT NULL DEFAULT 0,
  last_message_at timestamptz,
  -- coalesce(last_message_at, created_at), stored so that listing walks an index
  activity_at timestamptz NOT NULL,
  deleted_at timestamptz
)
-- Every append leaves a dead version of its conversation's row: vacuum after every 1,000 of them,
-- whatever the table's size, so a busy conversation's row does not drag a long tail of versions.
WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)`);

    statements.push(`-- listConversations: newest activity first, keyset on (activity_at, conversation_id)
CREATE INDEX conversations_by_activity ON ${s}.conversations (activity_at DESC, conversation_id DESC)`);

    statements.push(`CREATE TABLE ${s}.participants (
  conversation_id text COLLATE "C" NOT NULL,
  participant_id text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  name text,
  joined_at timestamptz NOT NULL,
  -- getConversation: one conversation's participants; append adds missing ones (ON CONFLICT DO NOTHING)
  PRIMARY KEY (conversation_id, participant_id)
)`);
    statements.push(`-- listConversations({ participantId }) and eraseSubject: the conversations one participant is in
CREATE INDEX participants_by_participant ON ${s}.participants (participant_id)`);

    const keys = partitioned
      ? `  -- (conversation_id, seq) is unique by construction (seqs are taken under the counter row's lock);
  -- a partitioned table's keys must include the partition column, so it is in the key too.
  PRIMARY KEY (conversation_id, seq, created_at)`
      : `  -- range (recent, list, around, context, export): keyset over seq within one conversation
  PRIMARY KEY (conversation_id, seq)`;
    statements.push(`CREATE TABLE ${s}.messages (
  conversation_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  external_id text COLLATE "C",
  -- the conversation's type when the message was stored (private, group, …)
  context_type text NOT NULL,
  role text NOT NULL,
  direction text NOT NULL,
  sender_id text COLLATE "C",
  recipient_id text COLLATE "C",
  content text NOT NULL,
  -- structured values are kept as the JSON text given, so they come back exactly as given
  parts json,
  media json,
  -- the first attachment, flat
  media_url text,
  media_type text,
  media_content_type text,
  media_size bigint,
  status text,
  error_code text,
  error_message text,
  queued_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  read_at timestamptz,
  failed_at timestamptz,
  reply_to text COLLATE "C",
  is_bot_command boolean GENERATED ALWAYS AS (command_name IS NOT NULL) STORED,
  is_admin_command boolean NOT NULL DEFAULT false,
  command_name text,
  metadata json,
  created_at timestamptz NOT NULL,
  edited_at timestamptz,
  is_deleted boolean GENERATED ALWAYS AS (deleted_at IS NOT NULL) STORED,
  deleted_at timestamptz,
  -- the content's words as the store's search rule sees them (case and accents folded), written
  -- with the row: every engine then matches the same words, and no extension is needed
  search_vector tsvector NOT NULL,
  -- the message as the store returned it (without conversationId, seq and deletedAt, which are
  -- columns): reads decode this one value per row instead of the columns above, which are the old
  -- log's, for indexes and for SQL users
  body json NOT NULL,
${keys}
)${partitioned ? ' PARTITION BY RANGE (created_at)' : ''}`);

    statements.push(`-- getMessage, updateMessage, removeMessage and append's duplicate check by id: ids are unique across
-- conversations, which a key including conversation_id cannot enforce
CREATE TABLE ${s}.message_ids (
  id text COLLATE "C" PRIMARY KEY,
  conversation_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  created_at timestamptz NOT NULL
)`);

    if (partitioned) {
      statements.push(`-- externalId is unique per conversation (idempotency): a unique index on a partitioned table must
-- include the partition column, so that uniqueness lives here. Keyed (external_id, conversation_id):
-- the same constraint as (conversation_id, external_id), and it also serves the lookups by externalId
-- alone: append's duplicate check, getMessageByExternalId with or without a conversation (status webhooks)
CREATE TABLE ${s}.message_external_ids (
  external_id text COLLATE "C" NOT NULL,
  conversation_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (external_id, conversation_id)
)`);
    } else {
      statements.push(`-- externalId is unique per conversation (idempotency). Keyed (external_id, conversation_id): the
-- same constraint as (conversation_id, external_id), and it also serves the lookups by externalId alone:
-- append's duplicate check, getMessageByExternalId with or without a conversation (status webhooks)
CREATE UNIQUE INDEX messages_by_external_id ON ${s}.messages (external_id, conversation_id) WHERE external_id IS NOT NULL`);
    }

    statements.push(
      `-- bySender (a participant's history, newest first), search({ senderId }) and eraseSubject (what the
-- subject sent); soft-deleted rows stay in it because erasure must find them too
CREATE INDEX messages_by_sender ON ${s}.messages (sender_id, created_at) WHERE sender_id IS NOT NULL`,
      `-- eraseSubject: what the subject received
CREATE INDEX messages_by_recipient ON ${s}.messages (recipient_id) WHERE recipient_id IS NOT NULL`,
      `-- failed: failed deliveries, newest first
CREATE INDEX messages_failed ON ${s}.messages (created_at) WHERE status = 'failed' AND deleted_at IS NULL`,
      `-- withMedia: a conversation's attachments, newest first
CREATE INDEX messages_with_media ON ${s}.messages (conversation_id, seq) WHERE media IS NOT NULL AND deleted_at IS NULL`,
      `-- replies: the replies to one message
CREATE INDEX messages_replies ON ${s}.messages (conversation_id, reply_to) WHERE reply_to IS NOT NULL AND deleted_at IS NULL`,
      `-- byMetadata: containment filters (metadata @> '{"campaign":"spring"}')
CREATE INDEX messages_metadata ON ${s}.messages USING gin ((metadata::jsonb) jsonb_path_ops)
  WHERE metadata IS NOT NULL AND deleted_at IS NULL`,
      `-- search: every word must match; deleted messages are never found
CREATE INDEX messages_search ON ${s}.messages USING gin (search_vector) WHERE deleted_at IS NULL`,
    );

    if (partitioned && layout.partitionManager === 'pg_partman' && context.partman !== undefined) {
      const partman = ident(context.partman.schema);
      const major = Number.parseInt(context.partman.version, 10);
      // pg_partman makes the monthly partitions ahead of time (premake) and a default partition.
      statements.push(
        major >= 5
          ? `SELECT ${partman}.create_parent(p_parent_table := ${literal(`${layout.schema}.messages`)}, p_control := 'created_at', p_interval := '1 month', p_premake := 4)`
          : `SELECT ${partman}.create_parent(p_parent_table := ${literal(`${layout.schema}.messages`)}, p_control := 'created_at', p_type := 'native', p_interval := 'monthly', p_premake := 4)`,
      );
    } else if (partitioned) {
      statements.push(`-- rows no monthly partition covers; the store makes monthly partitions ahead of time and for
-- every month an append brings, so this stays (nearly) empty
CREATE TABLE ${s}.messages_default PARTITION OF ${s}.messages DEFAULT`);
    }

    statements.push(`-- RFC 7396 merge patch in the engine (updateConversation), keeping the order of keys: those of the
-- target first, then new ones in the patch's order
CREATE FUNCTION ${s}.json_merge_patch(target json, patch json) RETURNS json
LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  IF json_typeof(patch) IS DISTINCT FROM 'object' THEN
    RETURN patch;
  END IF;
  IF json_typeof(target) IS DISTINCT FROM 'object' THEN
    target := '{}';
  END IF;
  RETURN coalesce((
    SELECT json_object_agg(merged.key, merged.value ORDER BY merged.part, merged.position)
    FROM (
      SELECT t.key, CASE WHEN p.value IS NULL THEN t.value ELSE ${s}.json_merge_patch(t.value, p.value) END AS value,
        0 AS part, t.position
      FROM json_each(target) WITH ORDINALITY AS t(key, value, position)
      LEFT JOIN json_each(patch) AS p(key, value) ON p.key = t.key
      WHERE p.value IS NULL OR json_typeof(p.value) <> 'null'
      UNION ALL
      SELECT p.key, ${s}.json_merge_patch(NULL, p.value), 1, p.position
      FROM json_each(patch) WITH ORDINALITY AS p(key, value, position)
      WHERE json_typeof(p.value) <> 'null'
        AND NOT EXISTS (SELECT 1 FROM json_each(target) AS t(key, value) WHERE t.key = p.key)
    ) AS merged
  ), '{}'::json);
END
$fn$`);

    return statements;
  },
  // 2: the BM25 document length kept at write, so that ranking a search does not unnest every hit.
  (layout) => {
    const s = ident(layout.schema);
    return [
      `-- search: BM25 weighs a message by its length in words; kept at write (NULL for rows written by
-- other tools, which search then measures itself) instead of unnesting every hit's search_vector
ALTER TABLE ${s}.messages ADD COLUMN search_length integer`,
      `UPDATE ${s}.messages SET search_length = ${SEARCH_LENGTH_OF('search_vector')}`,
    ];
  },
  // 3: one score on every engine (docs/api.md, "Search score"): BM25 over the whole store, which
  // needs the number of messages holding each word (soft-deleted ones too: they stay in every
  // engine's index) and the store's total length in words. `IF NOT EXISTS`: safe to run again.
  (layout) => {
    const s = ident(layout.schema);
    return [
      `-- search: the conversation's messages' lengths in words, summed (BM25's average length is the
-- sum over all conversations divided by the sum of message_count); kept by appends, edits and deletes
ALTER TABLE ${s}.conversations ADD COLUMN IF NOT EXISTS search_terms bigint NOT NULL DEFAULT 0`,
      `-- search: every word must match (deleted messages are filtered after the index); also counts the
-- messages that hold a word, soft-deleted ones included, for BM25's inverse document frequency
CREATE INDEX IF NOT EXISTS messages_words ON ${s}.messages USING gin (search_vector)`,
      `DROP INDEX IF EXISTS ${s}.messages_search`,
      `UPDATE ${s}.conversations c SET search_terms = t.terms
FROM (
  SELECT conversation_id, sum(${searchLengthSql(layout, 'search_vector', 'search_length')}) AS terms
  FROM ${s}.messages GROUP BY conversation_id
) t
WHERE c.conversation_id = t.conversation_id
-- then chatstore (not this SQL) writes again the words of the messages whose vectors an older release
-- wrote without a word over 2,046 bytes or with a word 256 times or more (see rebuildSearchWords)`,
    ];
  },
  // 4: every change to messages is announced on the schema's channel in the transaction that makes
  // it (delivered at commit, never before or without it), for caches in other instances (tiers).
  // The triggers are made disabled, so that a schema no cache reads pays nothing for them; the first
  // change feed opened on the schema enables them for good (change-feed.ts). Safe to run again.
  (layout) => {
    const s = ident(layout.schema);
    const announcing = (event: 'INSERT' | 'UPDATE' | 'DELETE', rows: string) =>
      `CREATE OR REPLACE TRIGGER messages_announce_${event.toLowerCase()} AFTER ${event} ON ${s}.messages
REFERENCING ${rows} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.announce_message_changes(${literal(changeChannel(layout.schema))})`;
    return [
      `-- The conversations a statement changed messages of, as JSON, with the writing instance
-- (chatstore.origin, set on its connections; none for other tools' writes) so that it can skip its
-- own. A list too long for a notification (8,000 bytes) is sent as "*": anything may have changed.
CREATE OR REPLACE FUNCTION ${s}.announce_message_changes() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  ids json;
  payload text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT json_agg(DISTINCT conversation_id) INTO ids FROM old_rows;
  ELSE
    SELECT json_agg(DISTINCT conversation_id) INTO ids FROM new_rows;
  END IF;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  payload := json_build_object('from', current_setting('chatstore.origin', true), 'change', ids)::text;
  IF octet_length(payload) > 7900 THEN
    payload := json_build_object('from', current_setting('chatstore.origin', true), 'change', '*')::text;
  END IF;
  PERFORM pg_notify(TG_ARGV[0], payload);
  RETURN NULL;
END
$fn$`,
      announcing('INSERT', 'NEW TABLE AS new_rows'),
      announcing('UPDATE', 'NEW TABLE AS new_rows'),
      announcing('DELETE', 'OLD TABLE AS old_rows'),
      `ALTER TABLE ${s}.messages ${ANNOUNCING_TRIGGERS.map((name) => `DISABLE TRIGGER ${name}`).join(', ')}`,
    ];
  },
  // 5: the channel a conversation lives on (whatsapp, sms…), listed by and counted. Safe to run again.
  (layout) => {
    const s = ident(layout.schema);
    return [
      `ALTER TABLE ${s}.conversations ADD COLUMN IF NOT EXISTS channel text`,
      `-- listConversations({ channel }): keyset on (activity_at, conversation_id) within one channel
CREATE INDEX IF NOT EXISTS conversations_by_channel
  ON ${s}.conversations (channel, activity_at DESC, conversation_id DESC) WHERE channel IS NOT NULL`,
    ];
  },
];

/** The triggers of migration 4 that announce changes to messages. */
export const ANNOUNCING_TRIGGERS = ['messages_announce_insert', 'messages_announce_update', 'messages_announce_delete'];

/** The channel a schema's changes are announced on: an identifier of at most 63 bytes, whatever the schema's name. */
export function changeChannel(schema: string): string {
  return `chatstore_changes_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

/**
 * A tsvector's length in words as BM25 counts it (every position of every lexeme), in SQL.
 */
export const SEARCH_LENGTH_OF = (vector: string): string =>
  `(SELECT coalesce(sum(cardinality(u.positions)), 0)::integer FROM unnest(${vector}) AS u)`;

/**
 * True when the layout's vectors are written by the store itself (the `simple` configuration): their
 * positions then spell each word's frequency (see `tsvectorLiteral` in `statements.ts`).
 */
export function literalSearch(layout: PgLayout): boolean {
  return layout.textSearchConfig === 'simple' || layout.textSearchConfig === 'pg_catalog.simple';
}

/**
 * A vector keeps at most 256 positions per lexeme; a frequency of 256 or more is spelled by the last
 * two, the second counting from 8192 (see `positionsOf` in `statements.ts`).
 */
export const MAX_POSITIONS = 256;
export const LOW_POSITIONS = 8192;

/** SQL: how often a lexeme occurs, from its positions (smallint[]) in a vector of this layout. */
export function searchFrequencySql(layout: PgLayout, positions: string): string {
  if (!literalSearch(layout)) return `cardinality(${positions})`;
  return `CASE WHEN cardinality(${positions}) < ${MAX_POSITIONS} THEN cardinality(${positions})
    ELSE (${positions}[${MAX_POSITIONS - 1}] - ${MAX_POSITIONS - 1}) * ${LOW_POSITIONS} + ${positions}[${MAX_POSITIONS}] - ${LOW_POSITIONS} END`;
}

/** SQL: a vector's length in words as BM25 counts it: the frequencies of its lexemes, summed. */
export function vectorLengthSql(layout: PgLayout, vector: string): string {
  return `(SELECT coalesce(sum(${searchFrequencySql(layout, 'u.positions')}), 0)::integer FROM unnest(${vector}) AS u)`;
}

/**
 * SQL: a message's length in words: its stored `search_length`, or, for a row another tool wrote
 * without one, its vector's length.
 */
export function searchLengthSql(layout: PgLayout, vector: string, storedLength: string): string {
  return `coalesce(${storedLength}, ${vectorLengthSql(layout, vector)})`;
}
