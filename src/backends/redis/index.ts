/**
 * The redis backend (DESIGN §5): the sorted-set timeline made atomic, on one Redis server
 * (`redis://`) or on Redis Cluster (`redis+cluster://host:port,host:port`), through ioredis.
 *
 * Per conversation (key layout in `keys.ts`): a hash with the seq counter and the stats
 * counters, a sorted set of the live messages with score = seq (never a timestamp: ties and clock
 * skew) and the message itself as the member, a second one for soft-deleted messages, and the id
 * and externalId maps. Every key of a conversation carries the hash tag `{conversationId}`, so they
 * share one slot and one Lua script (`APPEND`) does the duplicate check, the seq, the index, the
 * body and the counters in one atomic step: the rules of `plan.ts`, re-implemented in Lua.
 * `recent`, `list` and `context` are one ZRANGE … LIMIT on the live set: O(log n + page) at any
 * history size, and no script on the read path.
 *
 * Durability is the server's: with AOF `appendfsync everysec` Redis may lose the last second of
 * acknowledged writes on a crash, and a failover can lose writes the old master acknowledged but had
 * not yet sent to its replica. That is why the tiered setup uses Redis as L2 in front of a database.
 *
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
 *   see below), and a pre-add of the entries that can be predicted (the new activity entry, the
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
 */
import type {
  AppendRequest,
  Backend,
  ConversationQuery,
  CreateConversationRequest,
  ErasureCounts,
  RangeQuery,
} from '../../backend.js';
import { ChatStoreError, redact } from '../../errors.js';
import { applyMergePatch } from '../../merge-patch.js';
import type {
  AppendResult,
  Conversation,
  ConversationPatch,
  JsonObject,
  Message,
  Participant,
  Stats,
} from '../../model.js';
import { lazyDriver } from '../lazy-driver.js';
import { CHANGED, untilUnchanged } from '../optimistic.js';
import { activityMember, decodeMessage, encodeMessage, redisKeys, SEPARATOR } from './keys.js';
import {
  ADD_PARTICIPANTS,
  APPEND,
  CLAIM_RELEASE,
  CLAIM_SWAP,
  CLEAR_MARKS,
  CREATE_CONVERSATION,
  conversationKeyList,
  DROP_CONVERSATION,
  ERASE_IN_CONVERSATION,
  INDEX_CHECK,
  LOOKUP,
  RANGE,
  READ_CONVERSATION,
  REMOVE_MESSAGE,
  REMOVE_PARTICIPANT,
  REVOKE,
  type RedisScript,
  SOFT_DELETE_CONVERSATION,
  STATS_FIELDS,
  UPDATE_CONVERSATION,
  UPDATE_MESSAGE,
} from './scripts.js';

/**
 * The part of an ioredis client (`Redis` or `Cluster`) the backend uses, so any compatible client
 * will do and ioredis is never a hard dependency.
 */
export interface RedisClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<unknown>;
  /** True for a Redis Cluster client (ioredis sets it): the backend then keeps its cross-slot indexes itself. */
  readonly isCluster?: boolean;
}

/** @example await redisBackend({ url: 'redis://127.0.0.1:6379/0', keyPrefix: 'bot1:' }) */
export interface RedisOptions {
  /** A `redis://` or `rediss://` URL; default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Redis Cluster seed nodes as `host:port`; used instead of `url`. */
  cluster?: string[];
  /** Credentials for the cluster nodes (a `url` carries its own). */
  username?: string;
  password?: string;
  /** A client of your own (ioredis `Redis` or `Cluster`); the backend never closes it. */
  client?: RedisClient;
  /** Prepended to every key; must not contain `{` or `}`. Default `chatstore:`. */
  keyPrefix?: string;
}

type IoRedisModule = Pick<typeof import('ioredis'), 'Redis' | 'Cluster'>;

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_PREFIX = 'chatstore:';
/** No command waits longer than this: a server that stopped answering is UNAVAILABLE, never a hang. */
const COMMAND_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 3_000;
/** Compare-and-set rounds of one message-id claim before giving up with CONFLICT. */
const MAX_CLAIM_ATTEMPTS = 50;
/** Messages a soft delete of a conversation stamps per script call. */
const SOFT_DELETE_STEP = 500;
/** Conversations read per round trip by listings, stats and erasure. */
const PAGE = 200;

const MISSING_DRIVER_MESSAGE = 'the redis backend needs ioredis: npm install ioredis';
const SEARCH_UNSUPPORTED =
  'search needs a full-text index; Redis 7 without RediSearch has none: use the sqlite or mysql backend for search';

/** Replies of Redis (and errors of ioredis) that mean the server cannot serve now. */
const UNAVAILABLE_REPLY =
  /^(CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN|MISCONF|BUSY|NOREPLICAS|OOM)\b|Too many Cluster redirections|Connection is closed|Stream isn't writeable|Command timed out|None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready|connect ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE/;
const UNAVAILABLE_ERRORS = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/** The driver, imported on first use (see `lazy-driver.ts`). */
const loadDriver = lazyDriver(
  () => import('ioredis').then((module): IoRedisModule => ({ Redis: module.Redis, Cluster: module.Cluster })),
  MISSING_DRIVER_MESSAGE,
);

/**
 * Options from the parts of a store URL (`openStore`): `redis://[user:password@]host[:port][/db]`
 * or `redis+cluster://[user:password@]host:port,host:port`, with `?keyPrefix=app:`. `location` is
 * already percent-decoded, so the credentials are split at the last `@` and encoded again.
 * @example redisUrlOptions('redis+cluster', '127.0.0.1:7000,127.0.0.1:7001', new URLSearchParams())
 */
export function redisUrlOptions(
  scheme: 'redis' | 'redis+cluster',
  location: string,
  params: URLSearchParams,
): RedisOptions {
  const at = location.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : location.slice(0, at);
  const hosts = location.slice(at + 1);
  const colon = userinfo?.indexOf(':') ?? -1;
  const username = userinfo === undefined ? undefined : colon === -1 ? userinfo : userinfo.slice(0, colon);
  const password = userinfo === undefined || colon === -1 ? undefined : userinfo.slice(colon + 1);
  const keyPrefix = params.get('keyPrefix');
  const prefix = keyPrefix === null ? {} : { keyPrefix };
  if (scheme === 'redis') {
    const auth =
      userinfo === undefined ? '' : `${encodeURIComponent(username ?? '')}:${encodeURIComponent(password ?? '')}@`;
    return { url: `redis://${auth}${hosts}`, ...prefix };
  }
  return {
    cluster: hosts
      .replace(/\/+$/, '')
      .split(',')
      .map((node) => node.trim())
      .filter((node) => node !== ''),
    ...(username === undefined || username === '' ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...prefix,
  };
}

/**
 * Connects to Redis (or Redis Cluster) and returns the backend; `UNAVAILABLE` when the server
 * cannot be reached within a few seconds.
 * @example
 * import { ChatStore } from 'chatstore';
 * import { redisBackend } from 'chatstore/redis';
 * const store = new ChatStore(await redisBackend({ url: process.env.REDIS_URL }));
 * await store.append('+15550001', { role: 'user', content: 'Hi!', externalId: 'wamid.A' });
 */
export async function redisBackend(options: RedisOptions = {}): Promise<Backend> {
  const prefix = checkPrefix(options.keyPrefix ?? DEFAULT_PREFIX);
  const connection = options.client === undefined ? await connect(options) : undefined;
  const client = options.client ?? (connection?.client as RedisClient);
  const cluster = client.isCluster === true;
  const keys = redisKeys(prefix);
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  const run = async (script: RedisScript, scriptKeys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      return await client.call('EVALSHA', script.sha, scriptKeys.length, ...scriptKeys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.call('EVAL', script.lua, scriptKeys.length, ...scriptKeys, ...args);
    }
  };
  const inConversation = (script: RedisScript, conversationId: string, args: (string | number)[] = []) =>
    run(script, conversationKeyList(keys.conversation(conversationId)), args);

  /** Every public method: closed check and error mapping in one place. */
  const guard = async <T>(body: () => Promise<T>): Promise<T> => {
    if (closed) throw new ChatStoreError('UNAVAILABLE', 'the redis backend is closed');
    try {
      return await body();
    } catch (error) {
      throw toChatStoreError(error);
    }
  };

  /** Index upkeep that need not delay an acknowledgement. Failures leave stale entries, which readers skip. */
  const background = (task: () => Promise<unknown>): void => {
    const promise = task()
      .catch(() => undefined)
      .finally(() => pending.delete(promise));
    pending.add(promise);
  };

  const markKey = (mark: string): string => {
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
  };
  const markMember = (mark: string, conversationId: string): string =>
    mark[0] === 'a' ? activityMember(mark.slice(2), conversationId) : conversationId;

  const index = (conversationId: string, marks: string[]) =>
    Promise.all(marks.map((mark) => client.call('ZADD', markKey(mark), 0, markMember(mark, conversationId))));

  /** Removes global entries, then adds back those the conversation says are true (see the file comment). */
  const unindexAll = async (conversationId: string, marks: string[]): Promise<void> => {
    if (marks.length === 0) return;
    for (let i = 0; i < marks.length; i += PAGE) {
      const chunk = marks.slice(i, i + PAGE);
      await Promise.all(chunk.map((mark) => client.call('ZREM', markKey(mark), markMember(mark, conversationId))));
      const truths = (await inConversation(INDEX_CHECK, conversationId, chunk)) as number[];
      await index(
        conversationId,
        chunk.filter((_, j) => truths[j] === 1),
      );
    }
  };
  const unindex = (conversationId: string, mark: string) => unindexAll(conversationId, [mark]);

  /**
   * Index upkeep after cluster appends, coalesced per conversation: while one round of a
   * conversation is running, later appends add to the next round, so a busy conversation costs a
   * few commands per round instead of per append. An entry to confirm and to remove at once is
   * removed (remove, then check, adds it back if true).
   */
  const upkeep = new Map<string, { confirm: Set<string>; remove: Set<string> }>();
  const scheduleUpkeep = (conversationId: string, confirm: string[], remove: string[]): void => {
    let queued = upkeep.get(conversationId);
    const idle = queued === undefined;
    if (queued === undefined) {
      queued = { confirm: new Set(), remove: new Set() };
      upkeep.set(conversationId, queued);
    }
    for (const mark of confirm) queued.confirm.add(mark);
    for (const mark of remove) queued.remove.add(mark);
    if (!idle) return;
    background(async () => {
      try {
        for (;;) {
          const round = upkeep.get(conversationId);
          if (round === undefined || (round.confirm.size === 0 && round.remove.size === 0)) return;
          const removals = [...round.remove];
          const confirmations = [...round.confirm].filter((mark) => !round.remove.has(mark));
          round.confirm.clear();
          round.remove.clear();
          await Promise.all([index(conversationId, confirmations), unindexAll(conversationId, removals)]);
        }
      } finally {
        upkeep.delete(conversationId);
      }
    });
  };

  /** Adds the entries a script reported as made true, then clears their outbox marks. */
  const indexOutbox = async (conversationId: string, readd: string[]): Promise<void> => {
    if (readd.length === 0) return;
    const marks = readd.filter((_, i) => i % 2 === 0);
    await index(conversationId, marks);
    background(() => inConversation(CLEAR_MARKS, conversationId, readd));
  };

  const releaseClaims = (conversationId: string, ids: string[]) =>
    inBatches(ids, (id) => run(CLAIM_RELEASE, [keys.messageId(id)], [conversationId]));

  /** Claims a message id for a conversation before a cluster append; returns the claim's generation. */
  const claim = async (conversationId: string, id: string): Promise<number> => {
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
  };

  const ownerOf = async (id: string): Promise<string | undefined> => {
    const value = (await client.call('GET', keys.messageId(id))) as string | null;
    if (value === null) return undefined;
    const { owner } = parseClaim(value);
    return owner === '' ? undefined : owner;
  };

  const lookup = async (conversationId: string, map: 'ids' | 'ext', key: string): Promise<Message | undefined> => {
    const found = await find(conversationId, map, key);
    return found === null ? undefined : decodeMessage(conversationId, Number(found[0]), found[1]);
  };
  const find = async (conversationId: string, map: 'ids' | 'ext', key: string) => {
    const conversationKeys = keys.conversation(conversationId);
    return (await run(LOOKUP, [conversationKeys[map], conversationKeys.live, conversationKeys.dead], [key])) as
      | [string, string]
      | null;
  };

  /**
   * A page of one conversation. Live messages without a time filter, the hot path of recent, list
   * and context, are one ZRANGE on `live` (score = seq, member = the message): O(log n + page).
   */
  const rangeNow = async (conversationId: string, query: RangeQuery): Promise<Message[]> => {
    const conversationKeys = keys.conversation(conversationId);
    const lo = `(${query.afterSeq ?? 0}`;
    const hi = query.beforeSeq === undefined ? '+inf' : `(${query.beforeSeq}`;
    const direct = !query.includeDeleted && query.from === undefined && query.to === undefined;
    const reply = direct
      ? ((await (query.order === 'desc'
          ? client.call(
              'ZRANGE',
              conversationKeys.live,
              hi,
              lo,
              'BYSCORE',
              'REV',
              'LIMIT',
              0,
              query.limit,
              'WITHSCORES',
            )
          : client.call(
              'ZRANGE',
              conversationKeys.live,
              lo,
              hi,
              'BYSCORE',
              'LIMIT',
              0,
              query.limit,
              'WITHSCORES',
            ))) as string[])
      : ((await run(
          RANGE,
          [conversationKeys.live, conversationKeys.dead],
          [
            query.afterSeq ?? 0,
            query.beforeSeq ?? '',
            query.order === 'desc' ? '1' : '0',
            query.limit,
            query.from ?? '',
            query.to ?? '',
            query.includeDeleted ? '1' : '0',
          ],
        )) as string[]);
    const messages: Message[] = [];
    if (direct) {
      // ZRANGE … WITHSCORES: value, score, … over RESP2; [value, score] pairs over RESP3.
      for (const [value, score] of scoredPairs(reply))
        messages.push(decodeMessage(conversationId, Number(score), value));
      return messages;
    }
    for (let i = 0; i < reply.length; i += 2) {
      messages.push(decodeMessage(conversationId, Number(reply[i]), reply[i + 1] as string));
    }
    return messages;
  };

  const readConversation = async (id: string): Promise<Conversation | undefined> => {
    const reply = (await inConversation(READ_CONVERSATION, id)) as Snapshot | null;
    return reply === null ? undefined : toConversation(id, reply);
  };

  const appendNow = async (request: AppendRequest): Promise<AppendResult[]> => {
    const conversationId = request.conversationId;
    const values = request.messages.map((message) => encodeMessage(message));
    const generations = new Map<string, number>();
    let preadded: string[] = [];
    if (cluster) {
      const last = request.messages.at(-1);
      const externalIds = new Set(request.messages.flatMap((m) => (m.externalId === undefined ? [] : [m.externalId])));
      preadded = [
        ...(last === undefined ? [] : [`a${SEPARATOR}${last.createdAt}`]),
        ...[...externalIds].map((externalId) => `x${SEPARATOR}${externalId}`),
      ];
      const ids = [...new Set(request.messages.map((m) => m.id))];
      const claims = Promise.all(ids.map(async (id) => generations.set(id, await claim(conversationId, id))));
      const [claimed, placed] = await Promise.allSettled([claims, index(conversationId, preadded)]);
      const failure = claimed.status === 'rejected' ? claimed : placed.status === 'rejected' ? placed : undefined;
      if (failure !== undefined) {
        background(() => unindexAll(conversationId, preadded));
        throw failure.reason;
      }
    }
    const args: (string | number)[] = [
      cluster ? 'cluster' : 'single',
      conversationId,
      request.now,
      request.expectedLastSeq ?? '',
      request.conversation.type,
      request.conversation.title === undefined ? '' : `+${request.conversation.title}`,
      JSON.stringify(request.conversation.metadata),
      prefix,
      request.participants.length,
      ...request.participants.flatMap((p) => [p.id, JSON.stringify(p)]),
      preadded.length,
      ...preadded,
      request.messages.length,
      ...request.messages.flatMap((message, i) => [generations.get(message.id) ?? 0, values[i] as string]),
    ];
    let reply: AppendReply;
    try {
      reply = (await inConversation(APPEND, conversationId, args)) as AppendReply;
    } catch (error) {
      if (preadded.length > 0) background(() => unindexAll(conversationId, preadded));
      throw error;
    }
    if (reply[0] === 'CONFLICT') {
      if (preadded.length > 0) background(() => unindexAll(conversationId, preadded));
      throw new ChatStoreError('CONFLICT', reply[1]);
    }
    const [, , outcomes, readd, stale, oldActivity] = reply;
    const inserted = new Map<number, Message>();
    const results = outcomes.map((outcome, i): AppendResult => {
      if (typeof outcome === 'number') {
        const message = decodeMessage(conversationId, outcome, values[i] as string);
        inserted.set(outcome, message);
        return { message, duplicate: false };
      }
      const [seq, value] = outcome;
      const message =
        value === undefined ? (inserted.get(seq) as Message) : decodeMessage(conversationId, Number(seq), value);
      return { message, duplicate: true };
    });
    if (cluster) {
      await indexOutbox(conversationId, readd);
      const newest = [...inserted.values()].at(-1);
      const removals = [...stale];
      if (oldActivity && newest !== undefined && oldActivity !== newest.createdAt) {
        removals.push(`a${SEPARATOR}${oldActivity}`);
      }
      // Pre-added entries are added once more after the commit: a removal that ran its ZREM after
      // the pre-add and checked the conversation before the commit took them away.
      scheduleUpkeep(
        conversationId,
        preadded.filter((mark) => !stale.includes(mark)),
        removals,
      );
    }
    return results;
  };

  const updateMessageNow = async (
    id: string,
    change: (current: Message) => Message | undefined,
  ): Promise<Message | undefined> => {
    const conversationId = await ownerOf(id);
    if (conversationId === undefined) return undefined;
    const found = await find(conversationId, 'ids', id);
    if (found === null) return undefined;
    const seq = Number(found[0]);
    let value = found[1];
    return untilUnchanged(`message ${id}`, async () => {
      const current = decodeMessage(conversationId, seq, value);
      const next = change(decodeMessage(conversationId, seq, value));
      if (next === undefined) return current;
      const updated = encodeMessage({ ...next, id: current.id, conversationId, seq });
      const reply = (await inConversation(UPDATE_MESSAGE, conversationId, [seq, value, updated])) as
        | ['OK']
        | ['RETRY', string]
        | null;
      if (reply === null) return undefined;
      if (reply[0] === 'OK') return decodeMessage(conversationId, seq, updated);
      value = reply[1];
      return CHANGED;
    });
  };

  /** Hard-deletes a conversation and its index entries; what it removed, or undefined when missing. */
  const dropConversation = async (id: string): Promise<DroppedConversation | undefined> => {
    const reply = (await inConversation(DROP_CONVERSATION, id)) as
      | [string, number, string[], string[], string[], string[]]
      | null;
    if (reply === null) return undefined;
    const [activity, messageCount, ids, externalIds, people, participants] = reply;
    await releaseClaims(id, ids);
    await unindexAll(id, [
      'c',
      `a${SEPARATOR}${activity}`,
      ...people.map((pid) => `p${SEPARATOR}${pid}`),
      ...externalIds.map((externalId) => `x${SEPARATOR}${externalId}`),
    ]);
    return { messageCount, participants };
  };

  /** Conversations by activity, from the activity index, verified against each conversation. */
  const listByActivity = async (query: ConversationQuery): Promise<Conversation[]> => {
    const found: Conversation[] = [];
    let start = query.after === undefined ? '+' : `(${activityMember(query.after.activityAt, query.after.id)}`;
    const batch = Math.min(Math.max(query.limit, 50), 1000);
    for (;;) {
      const members = (await client.call(
        'ZRANGE',
        keys.activity,
        start,
        '-',
        'BYLEX',
        'REV',
        'LIMIT',
        0,
        batch,
      )) as string[];
      const entries = members.map((member) => {
        const at = member.indexOf(SEPARATOR);
        return { activityAt: member.slice(0, at), id: member.slice(at + 1), member };
      });
      const conversations = await Promise.all(entries.map((entry) => readConversation(entry.id)));
      for (const [i, entry] of entries.entries()) {
        const conversation = conversations[i];
        if (conversation === undefined || activityOf(conversation) !== entry.activityAt) {
          background(() => unindex(entry.id, `a${SEPARATOR}${entry.activityAt}`));
          continue;
        }
        if (!query.includeDeleted && conversation.deletedAt !== undefined) continue;
        if (query.type !== undefined && conversation.type !== query.type) continue;
        found.push(conversation);
        if (found.length === query.limit) return found;
      }
      if (members.length < batch) return found;
      start = `(${members[members.length - 1]}`;
    }
  };

  /** Conversations of one participant: all of them read, filtered and sorted (a person has few). */
  const listByParticipant = async (query: ConversationQuery & { participantId: string }): Promise<Conversation[]> => {
    const ids = (await client.call('ZRANGE', keys.participant(query.participantId), 0, -1)) as string[];
    const conversations = await inBatches(ids, readConversation);
    const after = query.after;
    return conversations
      .filter((c): c is Conversation => c !== undefined)
      .filter((c) => c.participants.some((p) => p.id === query.participantId))
      .filter((c) => query.includeDeleted || c.deletedAt === undefined)
      .filter((c) => query.type === undefined || c.type === query.type)
      .filter((c) => {
        if (after === undefined) return true;
        const at = activityOf(c);
        return at < after.activityAt || (at === after.activityAt && c.id < after.id);
      })
      .sort((a, b) => compare(activityOf(b), activityOf(a)) || compare(b.id, a.id))
      .slice(0, query.limit);
  };

  /** Conversation ids in byte order strictly after `after`, each checked to exist. */
  const conversationIdsNow = async (after: string | undefined, limit: number): Promise<string[]> => {
    const found: string[] = [];
    let start = after === undefined ? '-' : `(${after}`;
    for (;;) {
      const ids = (await client.call('ZRANGE', keys.conversations, start, '+', 'BYLEX', 'LIMIT', 0, limit)) as string[];
      const exists = await Promise.all(ids.map((id) => client.call('EXISTS', keys.conversation(id).conv)));
      for (const [i, id] of ids.entries()) {
        if (exists[i] === 1) found.push(id);
        if (found.length === limit) return found;
      }
      if (ids.length < limit) return found;
      start = `(${ids[ids.length - 1]}`;
    }
  };

  const statsNow = async (conversationId?: string): Promise<Stats> => {
    const stats = emptyStats();
    const add = (fields: (string | null)[]) => {
      const [createdAt, deletedAt, ...counters] = fields;
      if (createdAt === null || createdAt === undefined) return;
      const [messageCount = 0, deleted = 0, incoming = 0, user = 0, assistant = 0, system = 0, ...flags] = counters.map(
        (counter) => Number(counter ?? 0),
      );
      // The scripts count live messages by direction and role; totals follow from messageCount.
      const total = messageCount - deleted;
      stats.total += total;
      stats.incoming += incoming;
      stats.outgoing += total - incoming;
      stats.byRole.user += user;
      stats.byRole.assistant += assistant;
      stats.byRole.system += system;
      stats.byRole.tool += total - user - assistant - system;
      stats.withMedia += flags[0] ?? 0;
      stats.commands += flags[1] ?? 0;
      stats.adminCommands += flags[2] ?? 0;
      stats.failed += flags[3] ?? 0;
      stats.deleted += deleted;
      if (deletedAt === null) stats.conversations += 1;
    };
    const countersOf = (id: string) =>
      client.call('HMGET', keys.conversation(id).conv, ...STATS_FIELDS) as Promise<(string | null)[]>;
    if (conversationId !== undefined) {
      add(await countersOf(conversationId));
      return stats;
    }
    let after: string | undefined;
    for (;;) {
      const ids = (await client.call(
        'ZRANGE',
        keys.conversations,
        after === undefined ? '-' : `(${after}`,
        '+',
        'BYLEX',
        'LIMIT',
        0,
        PAGE,
      )) as string[];
      for (const fields of await Promise.all(ids.map(countersOf))) add(fields);
      if (ids.length < PAGE) return stats;
      after = ids[ids.length - 1];
    }
  };

  const eraseSubjectNow = async (subjectId: string): Promise<ErasureCounts> => {
    const counts: ErasureCounts = { messagesDeleted: 0, conversationsDeleted: [], participantEntriesRemoved: 0 };
    const named = await dropConversation(subjectId);
    if (named !== undefined) {
      counts.messagesDeleted += named.messageCount;
      if (named.participants.includes(subjectId)) counts.participantEntriesRemoved += 1;
      counts.conversationsDeleted.push(subjectId);
    }
    const conversationIds = (await client.call('ZRANGE', keys.participant(subjectId), 0, -1)) as string[];
    await inBatches(conversationIds, async (conversationId) => {
      const reply = (await inConversation(ERASE_IN_CONVERSATION, conversationId, [subjectId])) as
        | [number, string[], string[], string[]]
        | null;
      if (reply !== null) {
        const [participant, ids, externalIds, people] = reply;
        counts.messagesDeleted += ids.length;
        counts.participantEntriesRemoved += participant;
        await releaseClaims(conversationId, ids);
        await unindexAll(conversationId, [
          ...externalIds.map((externalId) => `x${SEPARATOR}${externalId}`),
          ...people.filter((pid) => pid !== subjectId).map((pid) => `p${SEPARATOR}${pid}`),
        ]);
      }
      await unindex(conversationId, `p${SEPARATOR}${subjectId}`);
    });
    return counts;
  };

  const participantArgs = (participants: Participant[]) => participants.flatMap((p) => [p.id, JSON.stringify(p)]);

  return {
    name: 'redis',

    append: (request) => guard(() => appendNow(request)),

    getMessage: (id) =>
      guard(async () => {
        const conversationId = await ownerOf(id);
        return conversationId === undefined ? undefined : lookup(conversationId, 'ids', id);
      }),

    getMessageByExternalId: (externalId, conversationId) =>
      guard(async () => {
        if (conversationId !== undefined) return lookup(conversationId, 'ext', externalId);
        const candidates = (await client.call('ZRANGE', keys.external(externalId), 0, -1)) as string[];
        for (const candidate of candidates) {
          const message = await lookup(candidate, 'ext', externalId);
          if (message !== undefined) return message;
          background(() => unindex(candidate, `x${SEPARATOR}${externalId}`));
        }
        return undefined;
      }),

    range: (conversationId: string, query: RangeQuery) => guard(() => rangeNow(conversationId, query)),

    updateMessage: (id, change) => guard(() => updateMessageNow(id, change)),

    removeMessage: (id) =>
      guard(async () => {
        const conversationId = await ownerOf(id);
        if (conversationId === undefined) return false;
        const removed = (await inConversation(REMOVE_MESSAGE, conversationId, [id])) as
          | [string, string, string, string]
          | null;
        if (removed === null) return false;
        const [, externalId, senderId, recipientId] = removed;
        await releaseClaims(conversationId, [id]);
        await unindexAll(conversationId, [
          ...(externalId === '' ? [] : [`x${SEPARATOR}${externalId}`]),
          ...[senderId, recipientId].filter((pid) => pid !== '').map((pid) => `p${SEPARATOR}${pid}`),
        ]);
        return true;
      }),

    search: () => guard(() => Promise.reject(new ChatStoreError('UNSUPPORTED', SEARCH_UNSUPPORTED))),

    getConversation: (id) => guard(() => readConversation(id)),

    listConversations: (query) =>
      guard(() =>
        query.participantId === undefined
          ? listByActivity(query)
          : listByParticipant({ ...query, participantId: query.participantId }),
      ),

    createConversation: (request: CreateConversationRequest) =>
      guard(async () => {
        const reply = (await inConversation(CREATE_CONVERSATION, request.id, [
          request.type,
          request.title === undefined ? '' : `+${request.title}`,
          JSON.stringify(request.metadata),
          request.now,
          ...participantArgs(request.participants),
        ])) as ['CONFLICT'] | ['OK', Snapshot, string[]];
        if (reply[0] === 'CONFLICT') throw new ChatStoreError('CONFLICT', `conversation ${request.id} already exists`);
        await indexOutbox(request.id, reply[2]);
        return toConversation(request.id, reply[1]);
      }),

    updateConversation: (id: string, patch: ConversationPatch, now: string) =>
      guard(async () => {
        let read: string | null = null;
        if (patch.metadata !== undefined) {
          read = (await client.call('HGET', keys.conversation(id).conv, 'metadata')) as string | null;
          if (read === null) return undefined;
        }
        const title = patch.title === undefined ? '' : patch.title === null ? '-' : `+${patch.title}`;
        return untilUnchanged(`conversation ${id}`, async () => {
          const merged =
            patch.metadata === undefined || read === null
              ? ''
              : JSON.stringify(applyMergePatch(JSON.parse(read) as JsonObject, patch.metadata));
          const reply = (await inConversation(UPDATE_CONVERSATION, id, [
            patch.type ?? '',
            title,
            patch.metadata === undefined ? '0' : '1',
            read ?? '',
            merged,
            now,
          ])) as ['OK', Snapshot] | ['RETRY', string | null] | null;
          if (reply === null) return undefined;
          if (reply[0] === 'OK') return toConversation(id, reply[1]);
          read = reply[1];
          return read === null ? undefined : CHANGED;
        });
      }),

    addParticipants: (conversationId: string, participants: Participant[], now: string) =>
      guard(async () => {
        const reply = (await inConversation(ADD_PARTICIPANTS, conversationId, [
          now,
          ...participantArgs(participants),
        ])) as [Snapshot, string[]] | null;
        if (reply === null) return undefined;
        await indexOutbox(conversationId, reply[1]);
        return toConversation(conversationId, reply[0]);
      }),

    removeParticipant: (conversationId: string, participantId: string, now: string) =>
      guard(async () => {
        const reply = (await inConversation(REMOVE_PARTICIPANT, conversationId, [participantId, now])) as
          | [Snapshot]
          | null;
        if (reply === null) return undefined;
        await unindex(conversationId, `p${SEPARATOR}${participantId}`);
        return toConversation(conversationId, reply[0]);
      }),

    deleteConversation: (id: string, options: { hard: boolean; now: string }) =>
      guard(async () => {
        if (options.hard) return (await dropConversation(id)) !== undefined;
        let upTo = '';
        for (let first = true; ; first = false) {
          const reply = (await inConversation(SOFT_DELETE_CONVERSATION, id, [
            options.now,
            first ? '1' : '0',
            upTo,
            SOFT_DELETE_STEP,
          ])) as [string, number] | null;
          if (reply === null) return !first;
          upTo = reply[0];
          if (reply[1] < SOFT_DELETE_STEP) return true;
        }
      }),

    stats: (conversationId) => guard(() => statsNow(conversationId)),

    eraseSubject: (subjectId: string) => guard(() => eraseSubjectNow(subjectId)),

    conversationIds: (after, limit) => guard(() => conversationIdsNow(after, limit)),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...pending]);
      if (connection !== undefined) await connection.close();
    },
  };
}

/** What a hard delete of a conversation removed, for erasure receipts. */
interface DroppedConversation {
  messageCount: number;
  participants: string[];
}

/** A conversation hash and its participants hash, as HGETALL replies. */
type Snapshot = [string[], string[]];

type AppendReply =
  | ['CONFLICT', string]
  | ['OK', number, (number | [number, string] | [number])[], string[], string[], string | null];

function toConversation(id: string, [conversationFields, participantFields]: Snapshot): Conversation {
  const fields = new Map<string, string>();
  for (let i = 0; i < conversationFields.length; i += 2) {
    fields.set(conversationFields[i] as string, conversationFields[i + 1] as string);
  }
  const participants: Participant[] = [];
  for (let i = 1; i < participantFields.length; i += 2) {
    participants.push(JSON.parse(participantFields[i] as string) as Participant);
  }
  participants.sort((a, b) => compare(a.joinedAt, b.joinedAt) || compare(a.id, b.id));
  const title = fields.get('title');
  const lastMessageAt = fields.get('lastMessageAt');
  const deletedAt = fields.get('deletedAt');
  return {
    id,
    type: fields.get('type') as string,
    ...(title === undefined ? {} : { title }),
    participants,
    metadata: JSON.parse(fields.get('metadata') as string) as JsonObject,
    createdAt: fields.get('createdAt') as string,
    updatedAt: fields.get('updatedAt') as string,
    lastSeq: Number(fields.get('lastSeq')),
    messageCount: Number(fields.get('messageCount')),
    ...(lastMessageAt === undefined ? {} : { lastMessageAt }),
    ...(deletedAt === undefined ? {} : { deletedAt }),
  };
}

/** `[member, score]` pairs of a ZRANGE … WITHSCORES reply, whether the client speaks RESP2 (flat) or RESP3 (pairs). */
function scoredPairs(reply: unknown[]): [string, string][] {
  if (reply.length > 0 && Array.isArray(reply[0])) return reply as [string, string][];
  const pairs: [string, string][] = [];
  for (let i = 0; i < reply.length; i += 2) pairs.push([reply[i] as string, String(reply[i + 1])]);
  return pairs;
}

function activityOf(conversation: Conversation): string {
  return conversation.lastMessageAt ?? conversation.createdAt;
}

function parseClaim(value: string): { generation: number; owner: string } {
  const bar = value.indexOf('|');
  return { generation: Number(value.slice(0, bar)), owner: value.slice(bar + 1) };
}

function emptyStats(): Stats {
  return {
    total: 0,
    incoming: 0,
    outgoing: 0,
    withMedia: 0,
    commands: 0,
    adminCommands: 0,
    failed: 0,
    deleted: 0,
    byRole: { user: 0, assistant: 0, system: 0, tool: 0 },
    conversations: 0,
  };
}

/** Runs `task` over `items`, at most PAGE at a time, and returns the results in order. */
async function inBatches<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += PAGE) {
    results.push(...(await Promise.all(items.slice(i, i + PAGE).map(task))));
  }
  return results;
}

/** Code-unit order, as the memory backend sorts. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new ChatStoreError('INVALID_ARGUMENT', 'keyPrefix must be a string without { or }', { path: 'keyPrefix' });
  }
  return prefix;
}

/** A client the backend created, and how to close it. */
interface Connection {
  client: RedisClient;
  close(): Promise<void>;
}

async function connect(options: RedisOptions): Promise<Connection> {
  const { Redis, Cluster } = await loadDriver();
  const where = options.cluster === undefined ? redact(options.url ?? DEFAULT_URL) : options.cluster.join(',');
  let client: InstanceType<typeof Redis> | InstanceType<typeof Cluster>;
  if (options.cluster !== undefined) {
    if (options.cluster.length === 0) {
      throw new ChatStoreError('INVALID_ARGUMENT', 'cluster needs at least one host:port', { path: 'cluster' });
    }
    client = new Cluster(options.cluster.map(parseNode), {
      lazyConnect: true,
      enableAutoPipelining: false,
      // Failing fast while the whole cluster is unreachable; during a failover commands are retried
      // (retryDelayOnFailover × maxRedirections) until the new master serves the slot.
      enableOfflineQueue: false,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 100,
      maxRedirections: 32,
      slotsRefreshTimeout: 2000,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      redisOptions: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        commandTimeout: COMMAND_TIMEOUT_MS,
        maxRetriesPerRequest: 1,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
      },
    });
  } else {
    client = new Redis(options.url ?? DEFAULT_URL, {
      lazyConnect: true,
      enableAutoPipelining: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // A command waits through at most one reconnection attempt, then fails as UNAVAILABLE.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
  }
  // Errors reach the caller through the failing command; the event would only be noise.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    const reason = cause instanceof Error ? redact(cause.message) : String(cause);
    throw new ChatStoreError('UNAVAILABLE', `redis: cannot connect to ${where}: ${reason}`, { cause });
  }
  return {
    client: client as unknown as RedisClient,
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

function parseNode(node: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(node.trim());
  if (match === null) {
    throw new ChatStoreError('INVALID_ARGUMENT', `cluster node "${node}" is not host:port`, { path: 'cluster' });
  }
  return { host: match[1] as string, port: Number(match[2]) };
}

/**
 * The one place where errors of ioredis and Redis become chatstore errors: a server that cannot
 * serve now is `UNAVAILABLE` (DESIGN §4.7), the original in `cause`, URLs redacted. ChatStoreErrors
 * and anything else (a bug) pass through unchanged.
 */
function toChatStoreError(error: unknown): unknown {
  if (error instanceof ChatStoreError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const unavailable =
    UNAVAILABLE_ERRORS.has(error.name) ||
    UNAVAILABLE_ERRORS.has(error.constructor.name) ||
    UNAVAILABLE_REPLY.test(error.message) ||
    (typeof code === 'string' && /^E[A-Z]+$/.test(code));
  return unavailable ? new ChatStoreError('UNAVAILABLE', `redis: ${redact(error.message)}`, { cause: error }) : error;
}
