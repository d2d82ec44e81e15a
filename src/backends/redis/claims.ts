/**
 * ## Message ids across conversations (cluster)
 *
 * A message id may be stored once in the whole store: appending it to another conversation is
 * `CONFLICT`. The claim `id:<id>` = `<generation>|<owner>` is taken before the script. A claim
 * whose owner does not hold the message (its append failed, is still running, or its writer died)
 * can be taken over: the taker records in the owner's slot that claims up to that generation are
 * void there (`revoked`), then swaps the claim to `<generation+1>|<taker>`. The owner's APPEND
 * checks `revoked` against its generation in its own atomic step, so of two appends racing with the
 * same id into two conversations at most one stores it, without a release step that a crash could
 * skip. Remaining edges: hard-deleting a message (or its conversation) drops the owner from its
 * claim (`<generation>|`), so the id becomes free; a message re-appended with the same id while its
 * conversation is being hard-deleted may lose its claim (then `get(id)` no longer finds it); a
 * revocation recorded for a conversation that does not exist yet expires after 10 minutes, so a
 * writer stalled that long between its claim and its script could still store an id another
 * conversation took.
 *
 * On one server the APPEND script writes `id:<id>` itself; reads and releases go through here on
 * both.
 */
import { ChatStoreError } from '../../errors.js';
import { inBatches, type RedisContext } from './context.js';
import { CLAIM_RELEASE, CLAIM_SWAP, REVOKE } from './scripts.js';

/** Compare-and-set rounds of one message-id claim before giving up with CONFLICT. */
const MAX_CLAIM_ATTEMPTS = 50;

/** Claims a message id for a conversation before a cluster append; returns the claim's generation. */
export async function claim({ client, keys, run }: RedisContext, conversationId: string, id: string): Promise<number> {
  const key = keys.messageId(id);
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    const previous = (await client.call('SET', key, `1|${conversationId}`, 'NX', 'GET')) as string | null;
    if (previous === null) return 1;
    const { generation, owner } = parseClaim(previous);
    if (owner === conversationId) return generation;
    if (owner !== '') {
      const ownerKeys = keys.conversation(owner);
      const outcome = await run(REVOKE, [ownerKeys.conv, ownerKeys.ids, ownerKeys.revoked], [id, generation]);
      if (outcome === 'stored') {
        throw new ChatStoreError('CONFLICT', `message id ${id} is already used in another conversation`);
      }
    }
    const next = `${generation + 1}|${conversationId}`;
    if ((await run(CLAIM_SWAP, [key], [previous, next])) === 1) return generation + 1;
  }
  throw new ChatStoreError('CONFLICT', `message id ${id} is contended by several conversations`);
}

/** Drops the conversation from the claims of hard-deleted messages, so their ids become free. */
export function releaseClaims({ keys, run }: RedisContext, conversationId: string, ids: string[]) {
  return inBatches(ids, (id) => run(CLAIM_RELEASE, [keys.messageId(id)], [conversationId]));
}

/** The conversation that owns a message id, if any (the caller checks that it holds the message). */
export async function ownerOf({ client, keys }: RedisContext, id: string): Promise<string | undefined> {
  const value = (await client.call('GET', keys.messageId(id))) as string | null;
  if (value === null) return undefined;
  const { owner } = parseClaim(value);
  return owner === '' ? undefined : owner;
}

function parseClaim(value: string): { generation: number; owner: string } {
  const bar = value.indexOf('|');
  return { generation: Number(value.slice(0, bar)), owner: value.slice(bar + 1) };
}
