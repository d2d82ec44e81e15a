/**
 * The sqlite backend's schema as an ordered list of migrations. A file records how many it has had
 * applied in `chatstore_schema`; opening applies the missing ones in one `BEGIN IMMEDIATE`
 * transaction, so a later release upgrades an existing file in place and two processes opening a
 * fresh file at once create the schema once. Append migrations; never edit a released one.
 */
import type Database from 'better-sqlite3';
import { ChatStoreError } from '../../errors.js';
import { ftsTerms } from '../fts5.js';

/** Migration `i` takes a file from schema version `i` to `i + 1`. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE conversations (
    id TEXT PRIMARY KEY NOT NULL,
    type TEXT NOT NULL,
    title TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0,
    last_message_at TEXT,
    -- coalesce(last_message_at, created_at), stored so that listing can walk an index
    activity_at TEXT NOT NULL,
    deleted_at TEXT
  );
  -- listConversations: newest activity first, keyset on (activity_at, id)
  CREATE INDEX conversations_by_activity ON conversations (activity_at DESC, id DESC);

  CREATE TABLE participants (
    conversation_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    joined_at TEXT NOT NULL,
    -- getConversation reads one conversation's participants by this key's prefix
    PRIMARY KEY (conversation_id, participant_id)
  ) WITHOUT ROWID;
  -- listConversations({ participantId }) and eraseSubject: the conversations one participant is in
  CREATE INDEX participants_by_participant ON participants (participant_id);

  CREATE TABLE messages (
    -- the integer rowid messages_fts points at
    pk INTEGER PRIMARY KEY,
    -- Columns for the queries that filter or count by them...
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    external_id TEXT,
    role TEXT NOT NULL,
    direction TEXT NOT NULL,
    sender_id TEXT,
    recipient_id TEXT,
    has_media INTEGER NOT NULL,
    status TEXT,
    command_name TEXT,
    command_admin INTEGER,
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    -- ...and the whole message as JSON, which is what reads return: one column decodes several
    -- times faster than twenty, and a read of the last 20 is the hot path.
    body TEXT NOT NULL
  );
  -- getMessage, updateMessage, removeMessage and append's duplicate check by id (any conversation)
  CREATE UNIQUE INDEX messages_by_id ON messages (id);
  -- range (recent, list, around, context, export): keyset over seq within one conversation;
  -- also stats, deleteConversation and the hard deletes of one conversation
  CREATE UNIQUE INDEX messages_by_seq ON messages (conversation_id, seq);
  -- append's duplicate check by externalId, getMessageByExternalId with and without a conversation
  -- (one per conversation, so the first by conversation_id is the first by (conversation_id, seq)).
  -- Partial: a message without an external id costs no index write.
  CREATE UNIQUE INDEX messages_by_external_id ON messages (external_id, conversation_id)
    WHERE external_id IS NOT NULL;
  -- eraseSubject (messages the subject sent) and search({ senderId })
  CREATE INDEX messages_by_sender ON messages (sender_id) WHERE sender_id IS NOT NULL;
  -- eraseSubject: messages the subject received
  CREATE INDEX messages_by_recipient ON messages (recipient_id) WHERE recipient_id IS NOT NULL;

  -- search: the words of content as searchTerms() splits and folds them (the same rule on every
  -- engine), space-separated, so FTS5's 'ascii' tokenizer finds exactly those words. Contentless:
  -- the text lives once, in messages.content.
  CREATE VIRTUAL TABLE messages_fts USING fts5(
    terms,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
  );
  -- A hard delete or an erasure must not leave the words in old index segments (invariant 8 in docs/ARCHITECTURE.md).
  INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
  -- Messages whose words are not in messages_fts yet. An FTS5 insert costs several pages per
  -- transaction, more than the message itself, so appends only note the row here and the backend
  -- indexes pending rows in batches: in the background shortly after writes, and always before a
  -- search runs, so a search never misses a stored message.
  CREATE TABLE search_pending (pk INTEGER PRIMARY KEY);
  CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search_pending (pk) VALUES (new.pk);
  END;
  CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
    DELETE FROM search_pending WHERE pk = old.pk;
  END;
  -- Status updates rewrite the row without changing content; they must not churn the index.
  CREATE TRIGGER messages_after_content_update AFTER UPDATE OF body ON messages
  WHEN json_extract(old.body, '$.content') IS NOT json_extract(new.body, '$.content') BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
    INSERT OR IGNORE INTO search_pending (pk) VALUES (new.pk);
  END;
  `,
  // 2. Deletes that leave no trace (erasure.ts). With contentless_delete, FTS5 deletes a row by a
  // tombstone: its words stay in the leaf pages until a merge happens to rewrite them, and
  // secure-delete cannot apply, for FTS5 does not know which words the row had. An index with its
  // own copy of the terms (messages_fts_content, deleted with the row) knows them: secure-delete then
  // removes them from every segment in the deleting transaction. Every message is indexed again, as
  // pending rows are (the triggers are unchanged). Last, the pages already free, which older
  // releases did not zero, are taken by a blob of zeros that is dropped at once.
  `
  DROP TABLE messages_fts;
  CREATE VIRTUAL TABLE messages_fts USING fts5(terms, tokenize = 'ascii');
  INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
  INSERT OR IGNORE INTO search_pending (pk) SELECT pk FROM messages;

  CREATE TABLE chatstore_scrub (zeros BLOB NOT NULL);
  WITH RECURSIVE chunk (bytes) AS (
    SELECT (SELECT freelist_count FROM pragma_freelist_count) * (SELECT page_size FROM pragma_page_size)
    UNION ALL SELECT bytes - 16777216 FROM chunk WHERE bytes > 16777216
  )
  INSERT INTO chatstore_scrub (zeros) SELECT zeroblob(min(bytes, 16777216)) FROM chunk WHERE bytes > 0;
  DROP TABLE chatstore_scrub;
  `,
  // 3. Appends write nothing for search. Messages are appended in pk order, so the ones still to
  // index are those above a high-water mark, which only the indexer moves (search_indexed, one
  // row); search_pending is left for edits of messages already indexed. A hard delete of the
  // newest messages lowers the mark to the newest pk left, as SQLite gives the next message the pk
  // after it: a reused pk must be indexed again. Rows already pending stay pending (all below the mark).
  `
  CREATE TABLE search_indexed (through INTEGER NOT NULL);
  INSERT INTO search_indexed (through) SELECT coalesce(max(pk), 0) FROM messages;
  DROP TRIGGER messages_after_insert;
  DROP TRIGGER messages_after_delete;
  CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
    DELETE FROM search_pending WHERE pk = old.pk;
    UPDATE search_indexed SET through = (SELECT coalesce(max(pk), 0) FROM messages)
      WHERE through >= old.pk AND through > (SELECT coalesce(max(pk), 0) FROM messages);
  END;
  -- A message above the mark is not indexed yet: the indexer will read its new content anyway.
  DROP TRIGGER messages_after_content_update;
  CREATE TRIGGER messages_after_content_update AFTER UPDATE OF body ON messages
  WHEN json_extract(old.body, '$.content') IS NOT json_extract(new.body, '$.content')
    AND new.pk <= (SELECT through FROM search_indexed) BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
    INSERT OR IGNORE INTO search_pending (pk) VALUES (new.pk);
  END;
  `,
  // 4. The channel a conversation lives on (whatsapp, sms…): listed by it newest first, and counted.
  `
  ALTER TABLE conversations ADD COLUMN channel TEXT;
  -- listConversations({ channel }): keyset on (activity_at, id) within one channel
  CREATE INDEX conversations_by_channel ON conversations (channel, activity_at DESC, id DESC)
    WHERE channel IS NOT NULL;
  `,
];

/** Brings the file's schema up to date; `UNSUPPORTED` when a newer release wrote it. */
export function migrateSqlite(db: Database.Database): void {
  // Used by SQLITE_SQL.indexPending; registered on every connection the backend opens.
  db.function('chatstore_search_terms', { deterministic: true }, (content: unknown) => ftsTerms(String(content)));
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS chatstore_schema (version INTEGER NOT NULL)');
    const row = db.prepare<[], { version: number }>('SELECT version FROM chatstore_schema').get();
    const version = row?.version ?? 0;
    if (version > SQLITE_MIGRATIONS.length) {
      throw new ChatStoreError(
        'UNSUPPORTED',
        `the sqlite file has schema version ${version}; this release of chatstore knows up to ${SQLITE_MIGRATIONS.length}: upgrade chatstore`,
      );
    }
    for (const migration of SQLITE_MIGRATIONS.slice(version)) db.exec(migration);
    if (row === undefined) {
      db.prepare('INSERT INTO chatstore_schema (version) VALUES (?)').run(SQLITE_MIGRATIONS.length);
    } else if (version < SQLITE_MIGRATIONS.length) {
      db.prepare('UPDATE chatstore_schema SET version = ?').run(SQLITE_MIGRATIONS.length);
    }
  }).immediate();
}
