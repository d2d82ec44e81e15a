/**
 * ## Global lookups and cross-slot indexes
 *
 * A message by id (or externalId) without its conversation, conversations by activity, by
 * participant, the list of all conversations and erasure of a person need indexes that span
 * conversations, each a key of its own (so, in a cluster, in another slot than the conversation):
 * `id:<id>` (owner of each message id), `activity` (lex-sorted `<activityAt>\0<id>`),
 * `conversations`, `p:<participantId>` and `x:<externalId>` (conversation ids).
 *
 * On one server the APPEND script keeps all of them inside the same atomic step (standalone Redis
 * lets a script touch any key). On Redis Cluster a script cannot, so they are kept around it, with
 * one rule that makes the order of concurrent writers and removers harmless: a writer adds an entry
 * after the commit that made it true, a remover removes an entry and then asks the conversation's
 * slot whether it is true, adding it back if so. Whatever the interleaving, the last one to act
 * leaves the entry present exactly when it is true. Per append:
 * - before the script, in parallel: the claim of every new message id (`SET id:<id> 1|<c> NX GET`,
 *   see `claims.ts`), and a pre-add of the entries that can be predicted (the new activity entry, the
 *   externalIds), so that an acknowledged message is never missing from them; after the commit
 *   they are added once more in the background (a removal may have run in between);
 * - the script reports the other entries it made true (a new conversation, a new participant) and
 *   records them in the conversation's `unindexed` hash in the same atomic step, as an outbox; the
 *   writer adds them before acknowledging and then clears the outbox. If the writer dies in between,
 *   the next append to that conversation finds the outbox entry and adds it;
 * - after acknowledging, in the background and coalesced per conversation (one round of commands
 *   for all the appends that arrived meanwhile): the old activity entry is removed (remove, then
 *   check) and the pre-added entries are added once more.
 * Readers verify every entry against the conversation (a listed conversation must exist and have
 * that activity; an id's owner must hold the message), skip stale ones and remove them in the
 * background, so a writer that died between a pre-add and its script leaves nothing visible.
 *
 * Cost on a cluster: an append is two round trips before its acknowledgement instead of one (claims
 * and pre-adds in parallel, then the script), three when it creates a conversation or adds a
 * participant, plus a background round of about four commands per busy conversation; the
 * `activity` key takes writes from every append, so it is the hot key of the cluster.
 * Listing by participant reads all of that participant's conversations and sorts them (cheap for a
 * person, a scan of everything for a bot that is in every conversation); listing by type filters
 * the activity index; store-wide `stats()` reads the counters of every conversation:
 * O(conversations). Consistency: an entry may be missing for the instant between a concurrent
 * removal's ZREM and the re-add that follows it; a stale entry lasts until a reader skips it.
 *
 * Entries are named by marks, as the scripts report them: `c` (the conversations list),
 * `a<NUL><activityAt>`, `p<NUL><participantId>` and `x<NUL><externalId>`.
 */

import { PAGE, type RedisContext } from './context.js';
import { activityMember, type RedisKeys } from './keys.js';
import { CLEAR_MARKS, INDEX_CHECK } from './scripts.js';

function markKey(keys: RedisKeys, mark: string): string {
  const value = mark.slice(2);
  switch (mark[0]) {
    case 'c':
      return keys.conversations;
    case 'a':
      return keys.activity;
    case 'p':
      return keys.participant(value);
    default:
      return keys.external(value);
  }
}

function markMember(mark: string, conversationId: string): string {
  return mark[0] === 'a' ? activityMember(mark.slice(2), conversationId) : conversationId;
}

export function index({ client, keys }: RedisContext, conversationId: string, marks: string[]) {
  return Promise.all(
    marks.map((mark) => client.call('ZADD', markKey(keys, mark), 0, markMember(mark, conversationId))),
  );
}

/** Removes global entries, then adds back those the conversation says are true (see the file comment). */
export async function unindexAll(ctx: RedisContext, conversationId: string, marks: string[]): Promise<void> {
  if (marks.length === 0) return;
  for (let i = 0; i < marks.length; i += PAGE) {
    const chunk = marks.slice(i, i + PAGE);
    await Promise.all(
      chunk.map((mark) => ctx.client.call('ZREM', markKey(ctx.keys, mark), markMember(mark, conversationId))),
    );
    const truths = (await ctx.inConversation(INDEX_CHECK, conversationId, chunk)) as number[];
    await index(
      ctx,
      conversationId,
      chunk.filter((_, j) => truths[j] === 1),
    );
  }
}

export function unindex(ctx: RedisContext, conversationId: string, mark: string): Promise<void> {
  return unindexAll(ctx, conversationId, [mark]);
}

/**
 * Index upkeep after cluster appends, coalesced per conversation: while one round of a
 * conversation is running, later appends add to the next round, so a busy conversation costs a
 * few commands per round instead of per append. An entry to confirm and to remove at once is
 * removed (remove, then check, adds it back if true).
 */
export function scheduleUpkeep(ctx: RedisContext, conversationId: string, confirm: string[], remove: string[]): void {
  const upkeep = ctx.state.upkeep;
  let queued = upkeep.get(conversationId);
  const idle = queued === undefined;
  if (queued === undefined) {
    queued = { confirm: new Set(), remove: new Set() };
    upkeep.set(conversationId, queued);
  }
  for (const mark of confirm) queued.confirm.add(mark);
  for (const mark of remove) queued.remove.add(mark);
  if (!idle) return;
  ctx.background(async () => {
    try {
      for (;;) {
        const round = upkeep.get(conversationId);
        if (round === undefined || (round.confirm.size === 0 && round.remove.size === 0)) return;
        const removals = [...round.remove];
        const confirmations = [...round.confirm].filter((mark) => !round.remove.has(mark));
        round.confirm.clear();
        round.remove.clear();
        await Promise.all([index(ctx, conversationId, confirmations), unindexAll(ctx, conversationId, removals)]);
      }
    } finally {
      upkeep.delete(conversationId);
    }
  });
}

/** Adds the entries a script reported as made true, then clears their outbox marks. */
export async function indexOutbox(ctx: RedisContext, conversationId: string, readd: string[]): Promise<void> {
  if (readd.length === 0) return;
  const marks = readd.filter((_, i) => i % 2 === 0);
  await index(ctx, conversationId, marks);
  ctx.background(() => ctx.inConversation(CLEAR_MARKS, conversationId, readd));
}
