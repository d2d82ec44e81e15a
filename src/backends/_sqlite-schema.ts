/**
 * The sqlite backend's schema as an ordered list of migrations. A file records how many it has had
 * applied in `chatstore_schema`; opening applies the missing ones in one `BEGIN IMMEDIATE`
 * transaction, so a later release upgrades an existing file in place and two processes opening a
 * fresh file at once create the schema once. Append migrations; never edit a released one.
 */
import type Database from 'better-sqlite3';
import { ChatStoreError } from '../errors.js';
import { searchTerms } from '../text.js';

/**
 * Migration `i` takes a file from schema version `i` to `i + 1`.
 * @example const latest = SQLITE_MIGRATIONS.length;
 */
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
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    external_id TEXT,
    role TEXT NOT NULL,
    direction TEXT NOT NULL,
    sender_id TEXT,
    recipient_id TEXT,
    content TEXT NOT NULL,
    parts TEXT,
    media TEXT,
    status TEXT,
    status_at TEXT,
    error TEXT,
    reply_to TEXT,
    command_name TEXT,
    command_admin INTEGER,
    metadata TEXT,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    deleted_at TEXT
  );
  -- getMessage, updateMessage, removeMessage and append's duplicate check by id (any conversation)
  CREATE UNIQUE INDEX messages_by_id ON messages (id);
  -- range (recent, list, around, context, export): keyset over seq within one conversation;
  -- also stats, deleteConversation and the hard deletes of one conversation
  CREATE UNIQUE INDEX messages_by_seq ON messages (conversation_id, seq);
  -- append's duplicate check by externalId and getMessageByExternalId(externalId, conversationId)
  CREATE UNIQUE INDEX messages_by_conversation_external_id ON messages (conversation_id, external_id);
  -- getMessageByExternalId(externalId) without a conversation: the first match by (conversation_id, seq)
  CREATE INDEX messages_by_external_id ON messages (external_id, conversation_id, seq)
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
  -- A hard delete or an erasure must not leave the words in old index segments (DESIGN §4.8).
  INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
  -- chatstore_search_terms() is registered by the backend on every connection it opens.
  CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, terms) VALUES (new.pk, chatstore_search_terms(new.content));
  END;
  CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
  END;
  -- Status updates rewrite the row without changing content; they must not churn the index.
  CREATE TRIGGER messages_fts_after_update AFTER UPDATE OF content ON messages
  WHEN old.content IS NOT new.content BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
    INSERT INTO messages_fts (rowid, terms) VALUES (new.pk, chatstore_search_terms(new.content));
  END;
  `,
];

/**
 * Brings the file's schema up to date; `UNSUPPORTED` when a newer release wrote it.
 * @example migrateSqlite(new Database('chat.db'));
 */
export function migrateSqlite(db: Database.Database): void {
  db.function('chatstore_search_terms', { deterministic: true }, (content: unknown) =>
    searchTerms(String(content)).join(' '),
  );
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
