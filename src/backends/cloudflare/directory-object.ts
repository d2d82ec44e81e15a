/**
 * `DirectoryObject`: one shard of the directory, which answers what no single conversation can: who
 * owns a message id, a message by external id alone, conversations by activity, participant, type
 * or channel, store-wide search, stats, the subjects of an erasure, the export's id scan. A shard
 * holds a copy of the conversations whose ids hash to it, kept by their objects: each sends the
 * changes it committed, numbered, and the shard applies each number once, in order (`applied`), so
 * a change sent twice or late never undoes a newer one. Its state of its own is the claims of the
 * message ids that hash to it: an append claims its ids before it plans, which keeps message ids
 * unique across conversations. The Worker's backend asks every shard and merges (`backend.ts`);
 * search is scored with the statistics of all shards (`searchStatistics`, then `search`), so the
 * score is BM25 over the whole store, as its definition asks.
 */
import type { BackendSearchHit, ConversationQuery, SearchQuery } from '../../backend.js';
import type { Conversation, Message, Stats } from '../../model.js';
import { compareUtf8, searchTerms } from '../../text.js';
import { bm25, type CorpusStatistics } from '../bm25.js';
import { ftsMatch, ftsTerms } from '../fts5.js';
import { countChannel, emptyStats } from '../stats.js';
import { answerCall, type CallHandlers } from './calls.js';
import type { DirectoryChange, IdClaim, NumberedChange } from './changes.js';
import type { DurableObjectState, DurableObjectStorage, SqlStorage, SqlValue } from './platform.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    activity_at TEXT NOT NULL,
    type TEXT NOT NULL,
    channel TEXT,
    deleted INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS conversations_by_activity ON conversations (activity_at DESC, id DESC);
  CREATE TABLE IF NOT EXISTS conversation_participants (
    participant_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    PRIMARY KEY (participant_id, conversation_id)
  ) WITHOUT ROWID;
  -- the last change applied per conversation, kept after the conversation is gone (a late change
  -- must not bring it back), under the SHA-256 of its id: an erased person's own id leaves no trace
  CREATE TABLE IF NOT EXISTS applied (conversation_key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS message_ids (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS message_ids_by_conversation ON message_ids (conversation_id);
  CREATE TABLE IF NOT EXISTS messages (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    external_id TEXT,
    sender_id TEXT,
    recipient_id TEXT,
    created_at TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    words INTEGER NOT NULL,
    direction TEXT NOT NULL,
    role TEXT NOT NULL,
    has_media INTEGER NOT NULL,
    command INTEGER NOT NULL,
    admin_command INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, seq);
  CREATE INDEX IF NOT EXISTS messages_by_external_id ON messages (external_id, conversation_id, seq)
    WHERE external_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS messages_by_sender ON messages (sender_id) WHERE sender_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS messages_by_recipient ON messages (recipient_id) WHERE recipient_id IS NOT NULL;
  -- the shard's messages and their words, kept by apply, for the search statistics
  CREATE TABLE IF NOT EXISTS corpus (k INTEGER PRIMARY KEY CHECK (k = 1), documents INTEGER NOT NULL, words INTEGER NOT NULL);
  INSERT OR IGNORE INTO corpus (k, documents, words) VALUES (1, 0, 0);
  -- every message's words (soft-deleted ones too: they count in the score), rowid = messages.pk
  CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(terms, tokenize = 'ascii');
`;

/** One group of messages with the same counted traits, as `stats` reads them. */
interface CountRow {
  deleted: number;
  direction: Message['direction'];
  role: Message['role'];
  has_media: number;
  command: number;
  admin_command: number;
  failed: number;
  n: number;
}

export class DirectoryObject {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;
  readonly #calls: CallHandlers;

  constructor(state: DurableObjectState) {
    this.#storage = state.storage;
    this.#sql = state.storage.sql;
    this.#sql.exec(SCHEMA);
    // FTS5 overwrites a removed row's words in its pages, as the sqlite engine's index does.
    this.#sql.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1)`);
    this.#calls = {
      claim: (conversationId: string, ids: string[]) => this.claim(conversationId, ids),
      release: (conversationId: string, ids: string[]) => this.release(conversationId, ids),
      releaseConversation: (conversationId: string) => {
        this.#sql.exec('DELETE FROM message_ids WHERE conversation_id = ?', conversationId);
      },
      apply: (conversationId: string, changes: NumberedChange[]) => this.apply(conversationId, changes),
      firstByExternalId: (externalId: string) =>
        this.#body<Message>(
          'SELECT body FROM messages WHERE external_id = ? ORDER BY conversation_id, seq LIMIT 1',
          externalId,
        ),
      ownerOf: (id: string) =>
        this.#sql
          .exec<{ conversation_id: string }>('SELECT conversation_id FROM message_ids WHERE id = ?', id)
          .toArray()[0]?.conversation_id,
      listConversations: (query: ConversationQuery) => this.listConversations(query),
      searchStatistics: (terms: string[]) => this.searchStatistics(terms),
      search: (query: SearchQuery, statistics: CorpusStatistics) => this.search(query, statistics),
      stats: (conversationId?: string) => this.stats(conversationId),
      conversationIds: (after: string | null, limit: number) =>
        this.#sql
          .exec<{ id: string }>(
            'SELECT id FROM conversations WHERE ? IS NULL OR id > ? ORDER BY id LIMIT ?',
            after,
            after,
            limit,
          )
          .toArray()
          .map((row) => row.id),
      subjectConversations: (subjectId: string) => this.subjectConversations(subjectId),
    };
  }

  fetch(request: Request): Promise<Response> {
    return answerCall(request, this.#calls);
  }

  /** Records `conversationId` as the owner of each id nobody owns; tells which ids others own. */
  claim(conversationId: string, ids: string[]): IdClaim {
    return this.#storage.transactionSync(() => {
      const claim: IdClaim = { foreign: {}, claimed: [] };
      for (const id of new Set(ids)) {
        const owner = this.#sql
          .exec<{ conversation_id: string }>('SELECT conversation_id FROM message_ids WHERE id = ?', id)
          .toArray()[0]?.conversation_id;
        if (owner === undefined) {
          this.#sql.exec('INSERT INTO message_ids (id, conversation_id) VALUES (?, ?)', id, conversationId);
          claim.claimed.push(id);
        } else if (owner !== conversationId) claim.foreign[id] = owner;
      }
      return claim;
    });
  }

  /** Gives up claims: of ids an append did not store, of messages removed. */
  release(conversationId: string, ids: string[]): void {
    this.#storage.transactionSync(() => {
      for (const id of ids) {
        this.#sql.exec('DELETE FROM message_ids WHERE id = ? AND conversation_id = ?', id, conversationId);
      }
    });
  }

  /** Applies the changes numbered above the last one applied, in order; answers the last number applied. */
  async apply(conversationId: string, changes: NumberedChange[]): Promise<number> {
    const key = await sha256Hex(conversationId);
    return this.#storage.transactionSync(() => {
      let through =
        this.#sql.exec<{ n: number }>('SELECT n FROM applied WHERE conversation_key = ?', key).toArray()[0]?.n ?? 0;
      for (const { n, change } of changes) {
        if (n <= through) continue;
        this.#applyChange(conversationId, change);
        through = n;
      }
      this.#sql.exec(
        'INSERT INTO applied (conversation_key, n) VALUES (?, ?) ON CONFLICT (conversation_key) DO UPDATE SET n = excluded.n',
        key,
        through,
      );
      return through;
    });
  }

  listConversations(query: ConversationQuery): Conversation[] {
    const bindings: SqlValue[] = [];
    const conditions: string[] = [];
    if (!query.includeDeleted) conditions.push('deleted = 0');
    if (query.type !== undefined) {
      conditions.push('type = ?');
      bindings.push(query.type);
    }
    if (query.channel !== undefined) {
      conditions.push('channel = ?');
      bindings.push(query.channel);
    }
    if (query.participantId !== undefined) {
      conditions.push('id IN (SELECT conversation_id FROM conversation_participants WHERE participant_id = ?)');
      bindings.push(query.participantId);
    }
    if (query.after !== undefined) {
      conditions.push('(activity_at < ? OR (activity_at = ? AND id < ?))');
      bindings.push(query.after.activityAt, query.after.activityAt, query.after.id);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    return this.#sql
      .exec<{ body: string }>(
        `SELECT body FROM conversations ${where} ORDER BY activity_at DESC, id DESC LIMIT ?`,
        ...bindings,
        query.limit,
      )
      .toArray()
      .map((row) => JSON.parse(row.body) as Conversation);
  }

  /** This shard's part of the search statistics: its messages (soft-deleted ones too), their words, and per term how many have it. */
  searchStatistics(terms: string[]): CorpusStatistics {
    const { documents, words } = this.#sql
      .exec<{ documents: number; words: number }>('SELECT documents, words FROM corpus')
      .one();
    const containing = terms.map(
      (term) =>
        this.#sql
          .exec<{ n: number }>('SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH ?', ftsMatch([term]))
          .one().n,
    );
    return { documents, words, containing };
  }

  /**
   * This shard's hits, scored with the whole store's `statistics` (BM25, `bm25.ts`), best first,
   * then by id; keyset after (score, id). FTS5 finds the messages having every term; the score is
   * computed here because FTS5's own would use this shard's statistics only.
   */
  search(query: SearchQuery, statistics: CorpusStatistics): BackendSearchHit[] {
    const score = bm25(statistics, query.terms);
    const after = query.after;
    return this.#sql
      .exec<{ body: string }>(
        `SELECT m.body FROM messages_fts JOIN messages m ON m.pk = messages_fts.rowid
          WHERE messages_fts MATCH ?
            AND m.deleted = 0
            AND (? IS NULL OR m.conversation_id = ?)
            AND (? IS NULL OR m.sender_id = ?)
            AND (? IS NULL OR m.created_at >= ?)
            AND (? IS NULL OR m.created_at < ?)`,
        ftsMatch(query.terms),
        ...twice(query.conversationId),
        ...twice(query.senderId),
        ...twice(query.from),
        ...twice(query.to),
      )
      .toArray()
      .map((row) => {
        const message = JSON.parse(row.body) as Message;
        return { message, score: score(searchTerms(message.content)) };
      })
      .filter(
        (hit) =>
          after === undefined ||
          hit.score < after.score ||
          (hit.score === after.score && compareUtf8(hit.message.id, after.id) > 0),
      )
      .sort((a, b) => b.score - a.score || compareUtf8(a.message.id, b.message.id))
      .slice(0, query.limit);
  }

  stats(conversationId: string | undefined): Stats {
    // One statement per case: `? IS NULL OR conversation_id = ?` would read the whole shard for one conversation.
    const of =
      conversationId === undefined
        ? { messages: '', conversations: '', bindings: [] }
        : {
            messages: 'WHERE conversation_id = ?',
            conversations: 'AND id = ?',
            bindings: [conversationId],
          };
    const stats = emptyStats();
    const groups = this.#sql
      .exec<CountRow>(
        `SELECT deleted, direction, role, has_media, command, admin_command, failed, count(*) AS n
          FROM messages ${of.messages}
          GROUP BY deleted, direction, role, has_media, command, admin_command, failed`,
        ...of.bindings,
      )
      .toArray();
    for (const group of groups) {
      if (group.deleted === 1) {
        stats.deleted += group.n;
        continue;
      }
      stats.total += group.n;
      stats[group.direction] += group.n;
      stats.byRole[group.role] += group.n;
      stats.withMedia += group.has_media * group.n;
      stats.commands += group.command * group.n;
      stats.adminCommands += group.admin_command * group.n;
      stats.failed += group.failed * group.n;
    }
    stats.conversations = this.#sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM conversations WHERE deleted = 0 ${of.conversations}`,
        ...of.bindings,
      )
      .one().n;
    const channels = this.#sql
      .exec<{ channel: string; deleted: number; live: number }>(
        `SELECT channel, deleted,
            (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.deleted = 0) AS live
          FROM conversations WHERE channel IS NOT NULL ${of.conversations}`,
        ...of.bindings,
      )
      .toArray();
    for (const row of channels) {
      countChannel(stats, { channel: row.channel, ...(row.deleted === 1 ? { deletedAt: 'deleted' } : {}) }, row.live);
    }
    return stats;
  }

  /** Conversations an erasure of the subject touches: their own, where they take part, where they sent or received. */
  subjectConversations(subjectId: string): string[] {
    return this.#sql
      .exec<{ id: string }>(
        `SELECT id FROM conversations WHERE id = ?
          UNION SELECT conversation_id FROM conversation_participants WHERE participant_id = ?
          UNION SELECT conversation_id FROM messages WHERE sender_id = ?
          UNION SELECT conversation_id FROM messages WHERE recipient_id = ?
          ORDER BY 1`,
        subjectId,
        subjectId,
        subjectId,
        subjectId,
      )
      .toArray()
      .map((row) => row.id);
  }

  #applyChange(conversationId: string, change: DirectoryChange): void {
    const { conversation } = change;
    if (conversation === null) {
      this.#sql.exec(
        `UPDATE corpus SET documents = documents - gone.n, words = words - gone.w
          FROM (SELECT count(*) AS n, coalesce(sum(words), 0) AS w FROM messages WHERE conversation_id = ?) AS gone`,
        conversationId,
      );
      for (const statement of [
        'DELETE FROM messages_fts WHERE rowid IN (SELECT pk FROM messages WHERE conversation_id = ?)',
        'DELETE FROM messages WHERE conversation_id = ?',
        'DELETE FROM conversation_participants WHERE conversation_id = ?',
        'DELETE FROM conversations WHERE id = ?',
      ]) {
        this.#sql.exec(statement, conversationId);
      }
      return;
    }
    this.#sql.exec(
      `INSERT INTO conversations (id, activity_at, type, channel, deleted, body) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET activity_at = excluded.activity_at, type = excluded.type,
          channel = excluded.channel, deleted = excluded.deleted, body = excluded.body`,
      conversation.id,
      conversation.lastMessageAt ?? conversation.createdAt,
      conversation.type,
      conversation.channel ?? null,
      conversation.deletedAt === undefined ? 0 : 1,
      JSON.stringify(conversation),
    );
    this.#sql.exec('DELETE FROM conversation_participants WHERE conversation_id = ?', conversationId);
    for (const participant of conversation.participants) {
      this.#sql.exec(
        'INSERT INTO conversation_participants (participant_id, conversation_id) VALUES (?, ?)',
        participant.id,
        conversationId,
      );
    }
    for (const message of change.messages) this.#putMessage(message);
    for (const id of change.removed) {
      const gone = this.#sql
        .exec<{ pk: number; words: number }>('DELETE FROM messages WHERE id = ? RETURNING pk, words', id)
        .toArray()[0];
      if (gone === undefined) continue;
      this.#sql.exec('DELETE FROM messages_fts WHERE rowid = ?', gone.pk);
      this.#sql.exec('UPDATE corpus SET documents = documents - 1, words = words - ?', gone.words);
    }
  }

  /** Stores a message as it now is; its words are indexed again only when its content changed. */
  #putMessage(message: Message): void {
    const words = searchTerms(message.content).length;
    const columns: SqlValue[] = [
      message.conversationId,
      message.seq,
      message.externalId ?? null,
      message.senderId ?? null,
      message.recipientId ?? null,
      message.createdAt,
      message.deletedAt === undefined ? 0 : 1,
      words,
      message.direction,
      message.role,
      message.media === undefined ? 0 : 1,
      message.command === undefined ? 0 : 1,
      message.command?.admin === true ? 1 : 0,
      message.status === 'failed' ? 1 : 0,
      JSON.stringify(message),
    ];
    const stored = this.#sql
      .exec<{ pk: number; body: string; words: number }>(
        'SELECT pk, body, words FROM messages WHERE id = ?',
        message.id,
      )
      .toArray()[0];
    if (stored === undefined) {
      const { pk } = this.#sql
        .exec<{ pk: number }>(
          `INSERT INTO messages (conversation_id, seq, external_id, sender_id, recipient_id, created_at, deleted,
              words, direction, role, has_media, command, admin_command, failed, body, id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk`,
          ...columns,
          message.id,
        )
        .one();
      this.#sql.exec('INSERT INTO messages_fts (rowid, terms) VALUES (?, ?)', pk, ftsTerms(message.content));
      this.#sql.exec('UPDATE corpus SET documents = documents + 1, words = words + ?', words);
      return;
    }
    this.#sql.exec(
      `UPDATE messages SET conversation_id = ?, seq = ?, external_id = ?, sender_id = ?, recipient_id = ?,
          created_at = ?, deleted = ?, words = ?, direction = ?, role = ?, has_media = ?, command = ?,
          admin_command = ?, failed = ?, body = ?
        WHERE pk = ?`,
      ...columns,
      stored.pk,
    );
    if ((JSON.parse(stored.body) as Message).content !== message.content) {
      this.#sql.exec('UPDATE corpus SET words = words + ?', words - stored.words);
      this.#sql.exec('DELETE FROM messages_fts WHERE rowid = ?', stored.pk);
      this.#sql.exec('INSERT INTO messages_fts (rowid, terms) VALUES (?, ?)', stored.pk, ftsTerms(message.content));
    }
  }

  #body<T>(query: string, ...bindings: SqlValue[]): T | undefined {
    const row = this.#sql.exec<{ body: string }>(query, ...bindings).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.body) as T);
  }
}

/** The hex SHA-256 of a text's UTF-8. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A value bound twice, for the `? IS NULL OR column = ?` of an optional filter. */
function twice(value: string | number | undefined): [SqlValue, SqlValue] {
  const bound = value ?? null;
  return [bound, bound];
}
