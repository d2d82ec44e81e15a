/**
 * How a conversation's object keeps the directory told: the id claims an append makes before it
 * plans and gives back after, and the outbox, whose numbered changes are written in the same
 * transaction as each write and sent to the conversation's shard before the object answers (the
 * alarm sends them again after a failure). The outbox table is in the object's schema
 * (`conversation-object.ts`).
 */
import { ChatStoreError } from '../../errors.js';
import { byShard, type ChatStoreBindings, directoryShard, directoryShards, shardOf } from './bindings.js';
import { callObject } from './calls.js';
import type { DirectoryChange, IdClaim, NumberedChange } from './changes.js';
import type { DurableObjectStorage } from './platform.js';

/** When the alarm sends changes the directory did not take. */
const RETRY_AFTER_MS = 1_000;
/** The most JSON one outbox row holds (rows are at most 2 MB): a bigger change is noted in parts. */
const OUTBOX_ROW_BYTES = 1_000_000;

export class DirectoryLink {
  readonly #storage: DurableObjectStorage;
  readonly #bindings: ChatStoreBindings;
  readonly #shards: number;
  /** Appends between their claim and their end: while any runs, the claims of this conversation are in use. */
  #appending = 0;
  /** Set while every shard gives up this conversation's claims: appends wait for it before they claim. */
  #releasingAll: Promise<void> | undefined;

  constructor(storage: DurableObjectStorage, bindings: ChatStoreBindings) {
    this.#storage = storage;
    this.#bindings = bindings;
    this.#shards = directoryShards(bindings);
  }

  /** Runs an append (its claims included), after any release of all claims has finished. */
  async appending<T>(append: () => Promise<T>): Promise<T> {
    while (this.#releasingAll !== undefined) await this.#releasingAll.catch(() => {});
    this.#appending += 1;
    try {
      return await append();
    } finally {
      this.#appending -= 1;
    }
  }

  /** Claims `ids` for the conversation, each in its shard, at once. */
  async claim(conversationId: string, ids: string[]): Promise<IdClaim> {
    const claims = await Promise.all(
      [...byShard(new Set(ids), this.#shards)].map(([shard, group]) =>
        this.#call<IdClaim>(shard, 'claim', [conversationId, group]),
      ),
    );
    return {
      foreign: Object.assign({}, ...claims.map((claim) => claim.foreign)),
      claimed: claims.flatMap((claim) => claim.claimed),
    };
  }

  /** Gives back the claimed ids the append did not leave stored (`stored` says which are). */
  async releaseUnused(conversationId: string, claim: IdClaim, stored: (id: string) => boolean): Promise<void> {
    await this.#release(
      conversationId,
      claim.claimed.filter((id) => !stored(id)),
    );
  }

  /** Notes a change in the outbox: in parts when it is bigger than a row may be, each part with the conversation. */
  note(conversationId: string, change: DirectoryChange): void {
    const parts: DirectoryChange[] = [];
    let part: DirectoryChange = { conversation: change.conversation, messages: [], removed: [] };
    let bytes = JSON.stringify(part).length;
    const add = (size: number, put: (into: DirectoryChange) => void): void => {
      if (bytes + size > OUTBOX_ROW_BYTES && (part.messages.length > 0 || part.removed.length > 0)) {
        parts.push(part);
        part = { conversation: change.conversation, messages: [], removed: [] };
        bytes = JSON.stringify(part).length;
      }
      put(part);
      bytes += size + 1;
    };
    for (const message of change.messages) add(JSON.stringify(message).length, (into) => into.messages.push(message));
    for (const id of change.removed) add(JSON.stringify(id).length, (into) => into.removed.push(id));
    parts.push(part);
    for (const each of parts) {
      this.#storage.sql.exec(
        'INSERT INTO outbox (conversation_id, body) VALUES (?, ?)',
        conversationId,
        JSON.stringify(each),
      );
    }
  }

  /**
   * Sends every change not yet taken, in order, and forgets those the directory applied. Two sends
   * may overlap (another request commits while one is on its way): the directory skips numbers it
   * has applied, so each change counts once. `deleted`: the conversation is gone now.
   */
  async send(deleted: () => boolean): Promise<void> {
    const rows = this.#storage.sql
      .exec<{ n: number; conversation_id: string; body: string }>(
        'SELECT n, conversation_id, body FROM outbox ORDER BY n',
      )
      .toArray();
    const conversationId = rows[0]?.conversation_id;
    if (conversationId === undefined) return;
    const pending: NumberedChange[] = rows.map((row) => ({
      n: row.n,
      change: JSON.parse(row.body) as DirectoryChange,
    }));
    try {
      const through = await this.#call<number>(shardOf(conversationId, this.#shards), 'apply', [
        conversationId,
        pending,
      ]);
      // Removed messages give up their ids, in the shards that hold the ids' claims.
      await this.#release(
        conversationId,
        pending.flatMap((entry) => entry.change.removed),
      );
      // Hard-deleted, and not written since: every claim of the conversation goes, also those of
      // appends that died between their claim and their commit (no append of it runs meanwhile).
      if (pending.at(-1)?.change.conversation === null && deleted() && this.#appending === 0) {
        await this.#releaseAllClaims(conversationId);
      }
      this.#storage.sql.exec('DELETE FROM outbox WHERE n <= ?', through);
    } catch (error) {
      await this.#storage.setAlarm(Date.now() + RETRY_AFTER_MS);
      throw new ChatStoreError(
        'UNAVAILABLE',
        `the write is stored in its conversation, but the directory did not take it yet (sent again shortly): ${String(error)}`,
        { cause: error },
      );
    }
  }

  /** Every shard gives up the conversation's claims; appends of it wait until that is done. */
  async #releaseAllClaims(conversationId: string): Promise<void> {
    const releasing = Promise.all(
      Array.from({ length: this.#shards }, (_, shard) => this.#call(shard, 'releaseConversation', [conversationId])),
    ).then(() => {});
    this.#releasingAll = releasing;
    try {
      await releasing;
    } finally {
      if (this.#releasingAll === releasing) this.#releasingAll = undefined;
    }
  }

  /** Gives up the claims of `ids`, each in its shard. */
  async #release(conversationId: string, ids: string[]): Promise<void> {
    await Promise.all(
      [...byShard(ids, this.#shards)].map(([shard, group]) => this.#call(shard, 'release', [conversationId, group])),
    );
  }

  #call<T>(shard: number, method: string, args: unknown[]): Promise<T> {
    return callObject<T>(directoryShard(this.#bindings, shard), method, args);
  }
}
