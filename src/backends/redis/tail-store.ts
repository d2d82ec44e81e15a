/**
 * The shared tails of the L2 tier (`sharedTails`, docs/tiers.md) in Redis, single node or Cluster.
 * Per conversation, three keys in one slot (the conversation's hash tag, as the backend's own keys):
 *
 * | key | type | holds |
 * |---|---|---|
 * | `<prefix>l2:{c}:t` | hash | `floor`, `last` (the newest seq it holds, or the floor), and per message `s<seq>` → the message as JSON and `m<seq>` → `<1 if deleted, else 0>|<createdAt>` (what a range read filters on without parsing); expires after `ttlMs` unread |
 * | `<prefix>l2:{c}:v` | string | the conversation's version, bumped by every write's start and end; expires after `ttlMs` untouched |
 * | `<prefix>l2:{c}:w` | sorted set | write leases: token → the server time (ms) it runs out |
 *
 * Every key expires, so Redis `maxmemory` with `maxmemory-policy volatile-lru` bounds the tier's
 * memory and never evicts a key without an expiry (the redis backend's own, if it shares the server).
 *
 * Each call is one Lua script, atomic on the server; lease times come from the server's clock
 * (`TIME`), so instances' clocks never matter. `shared-tail-store.ts` says why the protocol holds.
 */
import { createHash } from 'node:crypto';
import type { Message } from '../../model.js';
import type { SharedTailChange, SharedTailRead, SharedTailStore } from '../tiers/shared-tail-store.js';
import { connectClient } from './connect.js';
import { hashTag } from './keys.js';
import type { RedisClient, RedisOptions } from './options.js';

export interface RedisTailStoreOptions extends RedisOptions {
  /** How long an unread tail stays, in ms. Default one hour. */
  ttlMs?: number;
}

const DEFAULT_TTL_MS = 3_600_000;
const DEFAULT_KEY_PREFIX = 'chatstore:';

const NOW = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * KEYS: t, v, w. ARGV: ttl, order, afterSeq, beforeSeq, limit, includeDeleted (1/0), from, to ('' for
 * none). → {1, json…}: the answer; {2}: the read reaches below the tail; {0, version, leases}: no
 * tail. The same rule as `rangeFromTail` (tails.ts). A lease run out drops the tail first.
 */
const READ = `${NOW}
if redis.call('ZCOUNT', KEYS[3], '-inf', now) > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('DEL', KEYS[1])
  redis.call('INCR', KEYS[2])
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
local floor = redis.call('HGET', KEYS[1], 'floor')
if not floor then
  return {0, redis.call('GET', KEYS[2]) or '0', redis.call('ZCARD', KEYS[3])}
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
floor = tonumber(floor)
local after = tonumber(ARGV[3])
local before = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local from = ARGV[7]
local to = ARGV[8]
local covers = floor < 0 or (after ~= nil and after >= floor)
if ARGV[2] == 'asc' and not covers then return {2} end
local seqs = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 1) == 'm' then table.insert(seqs, tonumber(string.sub(field, 2))) end
end
table.sort(seqs)
local first, last, step = 1, #seqs, 1
if ARGV[2] == 'desc' then first, last, step = #seqs, 1, -1 end
local found = {}
for i = first, last, step do
  if #found >= limit then break end
  local seq = seqs[i]
  if (after == nil or seq > after) and (before == nil or seq < before) then
    local meta = redis.call('HGET', KEYS[1], 'm' .. seq)
    local created = string.sub(meta, 3)
    if (ARGV[6] == '1' or string.sub(meta, 1, 1) == '0') and (from == '' or created >= from) and (to == '' or created < to) then
      table.insert(found, 's' .. seq)
    end
  end
end
if #found < limit and not covers then return {2} end
if #found == 0 then return {1} end
local answer = redis.call('HMGET', KEYS[1], unpack(found))
table.insert(answer, 1, 1)
return answer`;

/** KEYS: t, v, w. ARGV: version, ttl, floor, last, then seq/json/meta triples. → 1 when put. */
const FILL = `if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] or redis.call('ZCARD', KEYS[3]) > 0 then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'floor', ARGV[3], 'last', ARGV[4])
for i = 5, #ARGV, 3 do
  redis.call('HSET', KEYS[1], 's' .. ARGV[i], ARGV[i + 1], 'm' .. ARGV[i], ARGV[i + 2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS: t, v, w. ARGV: token, lease ms, ttl. */
const BEGIN = `${NOW}
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[2]) + tonumber(ARGV[3]))
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`;

/**
 * KEYS: t, v, w. ARGV: token, kind (`none` when nothing was written), then for `extend`: keep,
 * then seq/json/meta triples (ascending); for `replace`: seq, json, meta. An extension that does not follow on from the tail's newest seq, or a
 * replacement of a message above the floor that the tail lacks, drops the tail.
 */
const END = `redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[2])
local kind = ARGV[2]
if kind == 'none' then
  return 1
end
if kind == 'drop' or redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
if kind == 'replace' then
  local field = 's' .. ARGV[3]
  if redis.call('HEXISTS', KEYS[1], field) == 1 then
    redis.call('HSET', KEYS[1], field, ARGV[4], 'm' .. ARGV[3], ARGV[5])
  elseif tonumber(ARGV[3]) > tonumber(redis.call('HGET', KEYS[1], 'floor')) then
    redis.call('DEL', KEYS[1])
  end
  return 1
end
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
if last == nil or tonumber(ARGV[4]) ~= last + 1 then
  redis.call('DEL', KEYS[1])
  return 1
end
for i = 4, #ARGV, 3 do
  redis.call('HSET', KEYS[1], 's' .. ARGV[i], ARGV[i + 1], 'm' .. ARGV[i], ARGV[i + 2])
  last = tonumber(ARGV[i])
end
redis.call('HSET', KEYS[1], 'last', last)
local keep = tonumber(ARGV[3])
local seqs = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 1) == 's' then table.insert(seqs, tonumber(string.sub(field, 2))) end
end
if #seqs > keep then
  table.sort(seqs)
  local drop = #seqs - keep
  for i = 1, drop do redis.call('HDEL', KEYS[1], 's' .. seqs[i], 'm' .. seqs[i]) end
  redis.call('HSET', KEYS[1], 'floor', seqs[drop])
end
return 1`;

/** KEYS: t, v. ARGV: ttl. Drops a tail a write this instance could not announce may have made stale. */
const DROP = `redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1`;

interface Script {
  lua: string;
  sha: string;
}

const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });
const SCRIPTS = { read: script(READ), fill: script(FILL), begin: script(BEGIN), end: script(END), drop: script(DROP) };

/**
 * Connects to the Redis server or cluster that holds the shared tails.
 * @example const tails = await redisTailStore({ url: 'redis://cache:6379/0' });
 */
export async function redisTailStore(options: RedisTailStoreOptions = {}): Promise<SharedTailStore> {
  const prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}l2:`;
  const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
  const connection = await connectClient(options);
  const { client } = connection;
  const keys = (conversationId: string): string[] => {
    const base = `${prefix}${hashTag(conversationId)}`;
    return [`${base}:t`, `${base}:v`, `${base}:w`];
  };
  const run = async (which: Script, scriptKeys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      return await client.call('EVALSHA', which.sha, scriptKeys.length, ...scriptKeys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.call('EVAL', which.lua, scriptKeys.length, ...scriptKeys, ...args);
    }
  };

  return {
    async read(conversationId, query) {
      const reply = (await run(SCRIPTS.read, keys(conversationId), [
        ttl,
        query.order,
        query.afterSeq ?? '',
        query.beforeSeq ?? '',
        query.limit,
        query.includeDeleted ? 1 : 0,
        query.from ?? '',
        query.to ?? '',
      ])) as [number, ...unknown[]];
      if (reply[0] === 1) return { answer: (reply.slice(1) as string[]).map((json) => JSON.parse(json) as Message) };
      if (reply[0] === 2) return { uncovered: true };
      return { version: String(reply[1]), writing: Number(reply[2]) > 0 } satisfies SharedTailRead;
    },
    async fill(conversationId, version, tail) {
      const newest = tail.messages[tail.messages.length - 1]?.seq ?? Math.max(tail.floor, 0);
      const triples = tail.messages.flatMap(stored);
      return (await run(SCRIPTS.fill, keys(conversationId), [version, ttl, tail.floor, newest, ...triples])) === 1;
    },
    async beginWrite(conversationId, token, leaseMs) {
      await run(SCRIPTS.begin, keys(conversationId), [token, leaseMs, ttl]);
    },
    async endWrite(conversationId, token, change: SharedTailChange) {
      // An extension with nothing to add (every message a duplicate) changes nothing.
      const nothing = change.kind === 'none' || (change.kind === 'extend' && change.messages.length === 0);
      const args: (string | number)[] = [token, nothing ? 'none' : change.kind];
      if (change.kind === 'extend' && !nothing) {
        args.push(change.keep, ...change.messages.flatMap(stored));
      } else if (change.kind === 'replace') {
        args.push(...stored(change.message));
      }
      await run(SCRIPTS.end, keys(conversationId), args);
    },
    async drop(conversationIds) {
      for (const id of conversationIds) await run(SCRIPTS.drop, keys(id).slice(0, 2), [ttl]);
    },
    async dropAll() {
      for (const node of nodesOf(client)) {
        let cursor = '0';
        do {
          const [next, found] = (await node.call('SCAN', cursor, 'MATCH', `${prefix}*:t`, 'COUNT', 1000)) as [
            string,
            string[],
          ];
          cursor = next;
          for (const key of found) await node.call('DEL', key);
        } while (cursor !== '0');
      }
    },
    close: () => connection.close(),
  };
}

/** A message as the tail hash keeps it: its seq, its JSON, and what a range read filters on. */
function stored(message: Message): [number, string, string] {
  return [message.seq, JSON.stringify(message), `${message.deletedAt === undefined ? 0 : 1}|${message.createdAt}`];
}

/** Every master of a cluster, or the one server. */
function nodesOf(client: RedisClient): RedisClient[] {
  const cluster = client as RedisClient & { nodes?(role: 'master'): RedisClient[] };
  return client.isCluster === true && cluster.nodes !== undefined ? cluster.nodes('master') : [client];
}
