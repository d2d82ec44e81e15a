/**
 * The Lua scripts of the redis backend. Each runs atomically on the node that owns its keys; every
 * script but `APPEND` in single-node mode touches the keys of one conversation (one hash slot) or
 * one global key only, so all of them run on Redis Cluster. Stored formats are `keys.ts`'s.
 *
 * Scripts that take a conversation's keys take them as KEYS in `CONVERSATION_KEY_ORDER`.
 * Replies never carry Lua `nil` inside tables (it would cut the table short): `false` instead.
 */
import { createHash } from 'node:crypto';
import type { ConversationKeys } from './keys.js';

/** A script and its SHA-1, for EVALSHA. */
export interface RedisScript {
  name: string;
  lua: string;
  sha: string;
}

/** The order in which conversation scripts take their KEYS. */
export const CONVERSATION_KEY_ORDER: readonly (keyof ConversationKeys)[] = [
  'conv',
  'live',
  'dead',
  'ids',
  'ext',
  'parts',
  'people',
  'revoked',
  'unindexed',
];

/** The keys of one conversation as a script's KEYS, in `CONVERSATION_KEY_ORDER`. */
export function conversationKeyList(keys: ConversationKeys): string[] {
  return CONVERSATION_KEY_ORDER.map((name) => keys[name]);
}

// Shared by the conversation scripts: the stored message header, the stats counters, and the truth
// of a global index entry ("mark": `c`, `a\0<activityAt>`, `p\0<participantId>`, `x\0<externalId>`).
const PRELUDE = `
local SEP = '\\0'
local K = {
  conv = KEYS[1], live = KEYS[2], dead = KEYS[3], ids = KEYS[4], ext = KEYS[5],
  parts = KEYS[6], people = KEYS[7], revoked = KEYS[8], unindexed = KEYS[9],
}

-- deletedAt, createdAt, flags, id, externalId, senderId, recipientId
local function header(v)
  local f, pos = {}, 1
  for i = 1, 7 do
    local e = string.find(v, SEP, pos, true)
    f[i] = string.sub(v, pos, e - 1)
    pos = e + 1
  end
  return f
end

-- Counters of live messages; total is messageCount - deleted, outgoing and tool are derived too.
local FLAG = {
  i = 'c:incoming', u = 'c:user', a = 'c:assistant', s = 'c:system',
  M = 'c:withMedia', C = 'c:commands', A = 'c:adminCommands', F = 'c:failed',
}

local function tally(acc, h, sign)
  if h[1] ~= '' then
    acc['c:deleted'] = (acc['c:deleted'] or 0) + sign
    return
  end
  local flags = h[3]
  for i = 1, #flags do
    local field = FLAG[string.sub(flags, i, i)]
    if field then acc[field] = (acc[field] or 0) + sign end
  end
end

local function flush(acc)
  for field, delta in pairs(acc) do
    if delta ~= 0 then redis.call('HINCRBY', K.conv, field, delta) end
  end
end

local function activityOf()
  local t = redis.call('HMGET', K.conv, 'lastMessageAt', 'createdAt')
  return t[1] or t[2]
end

local function hasPerson(pid)
  return #redis.call('ZRANGE', K.people, '[' .. pid .. SEP, '(' .. pid .. '\\1', 'BYLEX', 'LIMIT', 0, 1) > 0
end

local function indexed(mark)
  local kind, value = string.sub(mark, 1, 1), string.sub(mark, 3)
  if kind == 'c' then return redis.call('EXISTS', K.conv) == 1 end
  if kind == 'a' then return activityOf() == value end
  if kind == 'p' then return redis.call('HEXISTS', K.parts, value) == 1 or hasPerson(value) end
  if kind == 'x' then return redis.call('HEXISTS', K.ext, value) == 1 end
  return false
end

local function snapshot()
  return { redis.call('HGETALL', K.conv), redis.call('HGETALL', K.parts) }
end

-- The stored message with seq s and the set holding it, or false.
local function valueAt(s)
  local found = redis.call('ZRANGE', K.live, s, s, 'BYSCORE')
  if found[1] then return found[1], K.live end
  found = redis.call('ZRANGE', K.dead, s, s, 'BYSCORE')
  if found[1] then return found[1], K.dead end
  return false
end

-- Removes one stored message and everything that points at it; the caller flushes acc.
local function removeOne(s, v, set, acc)
  local h = header(v)
  redis.call('ZREM', set, v)
  redis.call('HDEL', K.ids, h[4])
  if h[5] ~= '' and redis.call('HGET', K.ext, h[5]) == s then redis.call('HDEL', K.ext, h[5]) end
  if h[6] ~= '' then redis.call('ZREM', K.people, h[6] .. SEP .. s) end
  if h[7] ~= '' then redis.call('ZREM', K.people, h[7] .. SEP .. s) end
  tally(acc, h, -1)
  return h
end
`;

/**
 * One append call, atomically: the rules of `planAppend` in `plan.ts` (the reference; this is the
 * same algorithm, kept in step with it), then seq, index, body, counters and participants.
 *
 * ARGV: mode (`single` | `cluster`), conversationId, now, expectedLastSeq (`''` = none), type,
 * title (`''` = none, else `+title`), metadata JSON, key prefix, restore (`''` = none, else the
 * JSON of `AppendRequest.restore` with `seqs`, the given seq of each message), channel (`''` =
 * none, else `+channel`), participant count P,
 * P × (id, JSON), pre-added mark count Q, Q × mark, message count N, N × (claim generation, stored value).
 *
 * Reply: `{'CONFLICT', message}`, or `{'OK', lastSeq, results, readd, stale, oldActivity}` where
 * results[i] is the new seq, `{seq, value}` (stored duplicate) or `{seq}` (duplicate within the
 * call); readd is a flat list of (mark, token) the caller must add to the global indexes (cluster
 * mode); stale lists pre-added marks that turned out false.
 *
 * In single-node mode the script also keeps the global keys (id claims, activity, conversations,
 * participant and external-id indexes) itself: standalone Redis lets a script touch keys of every
 * slot, so there the whole append, indexes included, is one atomic step. Those key names are
 * built here from the prefix and are not declared in KEYS, which only standalone Redis accepts.
 */
export const APPEND = script(
  'append',
  `${PRELUDE}
local single = ARGV[1] == 'single'
local c, now, expected = ARGV[2], ARGV[3], ARGV[4]
local ctype, title, metadata, prefix = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local restore = false
if ARGV[9] ~= '' then restore = cjson.decode(ARGV[9]) end
local channel = ARGV[10]
local at = 11
local np = tonumber(ARGV[at]); at = at + 1
local pids, pjsons = {}, {}
for j = 1, np do pids[j] = ARGV[at]; pjsons[j] = ARGV[at + 1]; at = at + 2 end
local nq = tonumber(ARGV[at]); at = at + 1
local preadded = {}
for j = 1, nq do preadded[j] = ARGV[at]; at = at + 1 end
local n = tonumber(ARGV[at]); at = at + 1

local ENC = { ['%'] = '%25', ['{'] = '%7B', ['}'] = '%7D' }
local function ownerOf(claim)
  local bar = string.find(claim, '|', 1, true)
  return string.sub(claim, bar + 1), tonumber(string.sub(claim, 1, bar - 1))
end

local COUNTERS = {
  'c:deleted', 'c:incoming', 'c:user', 'c:assistant', 'c:system', 'c:withMedia', 'c:commands', 'c:adminCommands',
  'c:failed',
}
local meta = redis.call('HMGET', K.conv, 'lastSeq', 'lastMessageAt', 'createdAt', 'deletedAt', 'messageCount', 'pending',
  unpack(COUNTERS))
local exists = meta[3] ~= false
local lastSeq = 0
if exists then lastSeq = tonumber(meta[1]) or 0 end
local hasRevoked = (not single) and redis.call('EXISTS', K.revoked) == 1

-- planAppend (plan.ts), draft by draft.
local results, inserts, batchIds, batchExt, claims = {}, {}, {}, {}, {}
local seq = lastSeq
for i = 1, n do
  local gen, value = tonumber(ARGV[at]), ARGV[at + 1]
  at = at + 2
  local h = header(value)
  local id, xid = h[4], h[5]
  local dupSeq, stored = nil, false
  local s = false
  if single then
    -- Here the claim is written in the same step as the message, so a new id (no claim) is
    -- stored nowhere and needs no other lookup.
    local claim = redis.call('GET', prefix .. 'id:' .. id)
    claims[id] = claim
    if claim then
      local owner = ownerOf(claim)
      if owner == c then
        s = redis.call('HGET', K.ids, id)
      elseif owner ~= '' then
        local ownerIds = prefix .. '{' .. string.gsub(owner, '[%%{}]', ENC) .. '}:ids'
        if redis.call('HEXISTS', ownerIds, id) == 1 then
          return { 'CONFLICT', 'message id ' .. id .. ' is already used in another conversation' }
        end
      end
    end
  else
    s = redis.call('HGET', K.ids, id)
  end
  if s then
    dupSeq, stored = tonumber(s), true
  else
    if not single and hasRevoked then
      local revokedAt = redis.call('HGET', K.revoked, id)
      if revokedAt and tonumber(revokedAt) >= gen then
        return { 'CONFLICT', 'message id ' .. id .. ' is already used in another conversation' }
      end
    end
    if batchIds[id] then dupSeq = batchIds[id] end
  end
  if not dupSeq and xid ~= '' then
    local xs = redis.call('HGET', K.ext, xid)
    if xs then
      dupSeq, stored = tonumber(xs), true
    elseif batchExt[xid] then
      dupSeq = batchExt[xid]
    end
  end
  if dupSeq then
    if stored then results[i] = { dupSeq, (valueAt(dupSeq)) } else results[i] = { dupSeq } end
  else
    if not restore then
      seq = seq + 1
    elseif restore.seqs[i] > seq then
      seq = restore.seqs[i]
    else
      return { 'CONFLICT', 'message ' .. id .. ' has seq ' .. string.format('%d', restore.seqs[i]) .. ', not above seq '
        .. string.format('%d', seq) .. ' of conversation ' .. c }
    end
    inserts[#inserts + 1] = { seq, value, h }
    batchIds[id] = seq
    if xid ~= '' then batchExt[xid] = seq end
    results[i] = seq
  end
end

local function staleOf()
  local stale = {}
  for _, mark in ipairs(preadded) do
    if not indexed(mark) then stale[#stale + 1] = mark end
  end
  return stale
end

-- Nothing to write, unless a restore finds its conversation missing: it creates it (writesNothing).
if #inserts == 0 and not (restore and not exists) then
  return { 'OK', lastSeq, results, {}, staleOf(), false }
end
if expected ~= '' and tonumber(expected) ~= lastSeq then
  return { 'CONFLICT', 'conversation ' .. c .. ' is at seq ' .. string.format('%d', lastSeq) .. ', not the expected ' .. expected }
end
-- A restore's values instead of an append's (AppendRequest.restore).
local createdAt, updatedAt, lastMessageAt = now, now, false
if #inserts > 0 then lastMessageAt = inserts[#inserts][3][2] end
if restore then
  createdAt, updatedAt = restore.createdAt, restore.updatedAt
  if restore.lastMessageAt then lastMessageAt = restore.lastMessageAt end
  if restore.lastSeq > seq then seq = restore.lastSeq end
end

-- Participants: added when missing. A participant new to this conversation, who has no message
-- in it either, is new to the global participant index (checked before this call's messages).
local made = {}
local requested = {}
for j = 1, np do
  requested[pids[j]] = true
  if redis.call('HSETNX', K.parts, pids[j], pjsons[j]) == 1 and not (exists and hasPerson(pids[j])) then
    made[#made + 1] = 'p' .. SEP .. pids[j]
  end
end
for _, ins in ipairs(inserts) do
  for _, pid in ipairs({ ins[3][6], ins[3][7] }) do
    if pid ~= '' and not requested[pid] then
      requested[pid] = true
      if not (exists and (redis.call('HEXISTS', K.parts, pid) == 1 or hasPerson(pid))) then
        made[#made + 1] = 'p' .. SEP .. pid
      end
    end
  end
end

local oldActivity = false
if exists then
  oldActivity = meta[2] or meta[3]
  if meta[4] then redis.call('HDEL', K.conv, 'deletedAt') end
else
  redis.call('HSET', K.conv, 'type', ctype, 'metadata', metadata, 'createdAt', createdAt)
  if title ~= '' then redis.call('HSET', K.conv, 'title', string.sub(title, 2)) end
  if channel ~= '' then redis.call('HSET', K.conv, 'channel', string.sub(channel, 2)) end
  if hasRevoked then redis.call('PERSIST', K.revoked) end
  made[#made + 1] = 'c'
end

-- One command per structure for the whole batch.
local live, dead, ids, exts, people, acc = {}, {}, {}, {}, {}, {}
for _, ins in ipairs(inserts) do
  local s, value, h = ins[1], ins[2], ins[3]
  if h[1] == '' then
    live[#live + 1] = s; live[#live + 1] = value
  else
    dead[#dead + 1] = s; dead[#dead + 1] = value
  end
  ids[#ids + 1] = h[4]; ids[#ids + 1] = s
  if h[5] ~= '' then
    exts[#exts + 1] = h[5]; exts[#exts + 1] = s
    made[#made + 1] = 'x' .. SEP .. h[5]
  end
  if h[6] ~= '' then people[#people + 1] = 0; people[#people + 1] = h[6] .. SEP .. s end
  if h[7] ~= '' then people[#people + 1] = 0; people[#people + 1] = h[7] .. SEP .. s end
  tally(acc, h, 1)
end
if #live > 0 then redis.call('ZADD', K.live, unpack(live)) end
if #dead > 0 then redis.call('ZADD', K.dead, unpack(dead)) end
if #ids > 0 then redis.call('HSET', K.ids, unpack(ids)) end
if #exts > 0 then redis.call('HSET', K.ext, unpack(exts)) end
if #people > 0 then redis.call('ZADD', K.people, unpack(people)) end
if hasRevoked then
  for j = 1, #ids, 2 do redis.call('HDEL', K.revoked, ids[j]) end
end
local newActivity = lastMessageAt or createdAt
-- The counters were read with meta: one HSET writes them with the rest.
local fields = { 'lastSeq', seq, 'updatedAt', updatedAt, 'messageCount', tonumber(meta[5] or '0') + #inserts }
if lastMessageAt then
  fields[#fields + 1] = 'lastMessageAt'
  fields[#fields + 1] = lastMessageAt
end
if restore and restore.deletedAt then
  fields[#fields + 1] = 'deletedAt'
  fields[#fields + 1] = restore.deletedAt
end
for j, field in ipairs(COUNTERS) do
  if acc[field] then
    fields[#fields + 1] = field
    fields[#fields + 1] = tonumber(meta[6 + j] or '0') + acc[field]
  end
end
redis.call('HSET', K.conv, unpack(fields))
if newActivity ~= oldActivity then made[#made + 1] = 'a' .. SEP .. newActivity end

-- Outbox entries of writers that did not finish (see redis.ts): those true now are added again
-- by this writer, the others are obsolete.
local pending = {}
if meta[6] then pending = redis.call('HGETALL', K.unindexed) end

if single then
  local function place(mark)
    local kind, value = string.sub(mark, 1, 1), string.sub(mark, 3)
    if kind == 'c' then redis.call('ZADD', prefix .. 'conversations', 0, c)
    elseif kind == 'a' then redis.call('ZADD', prefix .. 'activity', 0, value .. SEP .. c)
    elseif kind == 'p' then redis.call('ZADD', prefix .. 'p:' .. value, 0, c)
    elseif kind == 'x' then redis.call('ZADD', prefix .. 'x:' .. value, 0, c) end
  end
  for _, mark in ipairs(made) do place(mark) end
  if meta[6] then
    for j = 1, #pending, 2 do
      if indexed(pending[j]) then place(pending[j]) end
    end
    redis.call('DEL', K.unindexed)
    redis.call('HDEL', K.conv, 'pending')
  end
  if oldActivity and oldActivity ~= newActivity then
    redis.call('ZREM', prefix .. 'activity', oldActivity .. SEP .. c)
  end
  local claimed = {}
  for _, ins in ipairs(inserts) do
    local id = ins[3][4]
    local claim = claims[id]
    local gen = 1
    if claim then
      local owner, g = ownerOf(claim)
      gen = g
      if owner ~= c then gen = g + 1 end
    end
    claimed[#claimed + 1] = prefix .. 'id:' .. id
    claimed[#claimed + 1] = string.format('%d', gen) .. '|' .. c
  end
  if #claimed > 0 then redis.call('MSET', unpack(claimed)) end
  return { 'OK', seq, results, {}, {}, oldActivity }
end

local isPreadded = {}
for _, mark in ipairs(preadded) do isPreadded[mark] = true end
local readd = {}
for _, mark in ipairs(made) do
  if not isPreadded[mark] then
    local token = tostring(redis.call('HINCRBY', K.conv, 'markSeq', 1))
    redis.call('HSET', K.unindexed, mark, token)
    redis.call('HSET', K.conv, 'pending', '1')
    readd[#readd + 1] = mark
    readd[#readd + 1] = token
  end
end
for j = 1, #pending, 2 do
  if indexed(pending[j]) then
    readd[#readd + 1] = pending[j]
    readd[#readd + 1] = pending[j + 1]
  else
    redis.call('HDEL', K.unindexed, pending[j])
  end
end
return { 'OK', seq, results, readd, staleOf(), oldActivity }
`,
);

/** After removing global index entries: for each mark in ARGV, 1 when the entry is true (the caller adds it back), else 0. */
export const INDEX_CHECK = script(
  'index-check',
  `${PRELUDE}
local truths = {}
for j = 1, #ARGV do
  if indexed(ARGV[j]) then truths[j] = 1 else truths[j] = 0 end
end
return truths
`,
);

/** Clears marks the caller has added to the global indexes, unless a newer mark replaced them. ARGV: (mark, token)… */
export const CLEAR_MARKS = script(
  'clear-marks',
  `${PRELUDE}
for j = 1, #ARGV, 2 do
  if redis.call('HGET', K.unindexed, ARGV[j]) == ARGV[j + 1] then redis.call('HDEL', K.unindexed, ARGV[j]) end
end
if redis.call('EXISTS', K.unindexed) == 0 then redis.call('HDEL', K.conv, 'pending') end
return 1
`,
);

/** The conversation hash and participants, or nil. */
export const READ_CONVERSATION = script(
  'read-conversation',
  `${PRELUDE}
if redis.call('EXISTS', K.conv) == 0 then return false end
return snapshot()
`,
);

/**
 * A seq range with a time filter, or with soft-deleted messages (KEYS: live, dead). ARGV: afterSeq,
 * beforeSeq (`''` = none), `1` for descending, limit, from, to (`''` = none), `1` to include the
 * soft-deleted. Reply: seq, value, seq, value… Walks from the bound in batches until the page is
 * full or the seqs run out, filtering on the stored createdAt. (A page of live messages without a
 * time filter needs no script: it is one ZRANGE.)
 */
export const RANGE = script(
  'range',
  `
local SEP = '\\0'
local after, before, rev, limit, from, to = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), ARGV[5], ARGV[6]
local sets = { KEYS[1] }
if ARGV[7] == '1' then sets[2] = KEYS[2] end
local lo = '(' .. after
local hi = '+inf'
if before ~= '' then hi = '(' .. before end
local batch = limit
if batch < 100 then batch = 100 end
local out = {}
while true do
  -- The next batch in seq order, merged from the sets.
  local rows = {}
  for _, set in ipairs(sets) do
    local found
    if rev then
      found = redis.call('ZRANGE', set, hi, lo, 'BYSCORE', 'REV', 'LIMIT', 0, batch, 'WITHSCORES')
    else
      found = redis.call('ZRANGE', set, lo, hi, 'BYSCORE', 'LIMIT', 0, batch, 'WITHSCORES')
    end
    for i = 1, #found, 2 do rows[#rows + 1] = { tonumber(found[i + 1]), found[i] } end
  end
  if #rows == 0 then break end
  if rev then table.sort(rows, function(x, y) return x[1] > y[1] end)
  else table.sort(rows, function(x, y) return x[1] < y[1] end) end
  -- With two sets, only the first batch-many rows are known to have no gap before them.
  local usable = math.min(#rows, batch)
  for i = 1, usable do
    local v = rows[i][2]
    local e1 = string.find(v, SEP, 1, true)
    local e2 = string.find(v, SEP, e1 + 1, true)
    local createdAt = string.sub(v, e1 + 1, e2 - 1)
    if (from == '' or createdAt >= from) and (to == '' or createdAt < to) then
      out[#out + 1] = rows[i][1]
      out[#out + 1] = v
      if #out >= 2 * limit then return out end
    end
  end
  if #rows < batch then break end
  local last = string.format('%d', rows[usable][1])
  if rev then hi = '(' .. last else lo = '(' .. last end
end
return out
`,
);

/** A message through a lookup hash (KEYS: `ids` or `ext`, live, dead). ARGV: the id. Reply: `{seq, value}` or nil. */
export const LOOKUP = script(
  'lookup',
  `
local s = redis.call('HGET', KEYS[1], ARGV[1])
if not s then return false end
local found = redis.call('ZRANGE', KEYS[2], s, s, 'BYSCORE')
if not found[1] then found = redis.call('ZRANGE', KEYS[3], s, s, 'BYSCORE') end
if not found[1] then return false end
return { s, found[1] }
`,
);

/**
 * Compare-and-set of one stored message, with its counters and its set (live or dead). ARGV: seq,
 * the value read, the new value. Reply: `{'OK'}`, `{'RETRY', current}` when it changed meanwhile,
 * nil when gone.
 */
export const UPDATE_MESSAGE = script(
  'update-message',
  `${PRELUDE}
local s, old, new = ARGV[1], ARGV[2], ARGV[3]
local current, set = valueAt(s)
if not current then return false end
if current ~= old then return { 'RETRY', current } end
local ho, hn = header(old), header(new)
redis.call('ZREM', set, old)
if hn[1] == '' then redis.call('ZADD', K.live, s, new) else redis.call('ZADD', K.dead, s, new) end
local acc = {}
tally(acc, ho, -1)
tally(acc, hn, 1)
flush(acc)
return { 'OK' }
`,
);

/** Hard-deletes one message by id. ARGV: id. Reply: the removed header (id, externalId, senderId, recipientId) or nil. */
export const REMOVE_MESSAGE = script(
  'remove-message',
  `${PRELUDE}
local s = redis.call('HGET', K.ids, ARGV[1])
if not s then return false end
local v, set = valueAt(s)
if not v then return false end
local acc = {}
local h = removeOne(s, v, set, acc)
flush(acc)
redis.call('HINCRBY', K.conv, 'messageCount', -1)
return { h[4], h[5], h[6], h[7] }
`,
);

/**
 * Erasure inside one conversation: hard-deletes every message the subject sent or received and
 * removes the subject from the participants. ARGV: subject. Reply: nil when the conversation is
 * missing, else `{removedParticipant (0|1), ids, externalIds, people}` of the removed messages.
 */
export const ERASE_IN_CONVERSATION = script(
  'erase-in-conversation',
  `${PRELUDE}
local subject = ARGV[1]
if redis.call('EXISTS', K.conv) == 0 then return false end
local members = redis.call('ZRANGE', K.people, '[' .. subject .. SEP, '(' .. subject .. '\\1', 'BYLEX')
local acc, ids, exts, people, seen = {}, {}, {}, {}, {}
local removed = 0
for _, member in ipairs(members) do
  local s = string.sub(member, #subject + 2)
  local v, set = valueAt(s)
  if v then
    local h = removeOne(s, v, set, acc)
    removed = removed + 1
    ids[#ids + 1] = h[4]
    if h[5] ~= '' then exts[#exts + 1] = h[5] end
    for _, pid in ipairs({ h[6], h[7] }) do
      if pid ~= '' and not seen[pid] then
        seen[pid] = true
        people[#people + 1] = pid
      end
    end
  end
end
flush(acc)
if removed > 0 then redis.call('HINCRBY', K.conv, 'messageCount', -removed) end
local participant = redis.call('HDEL', K.parts, subject)
return { participant, ids, exts, people }
`,
);

/**
 * Hard-deletes a conversation: every key of it. ARGV (optional): lastSeq, messageCount, updatedAt
 * the conversation must still have (`ConversationDeletion.ifUnchanged`). Reply: nil when missing or changed, else
 * `{activity, messageCount, ids, externalIds, people (participants and senders/recipients), participants}`.
 */
export const DROP_CONVERSATION = script(
  'drop-conversation',
  `${PRELUDE}
if redis.call('EXISTS', K.conv) == 0 then return false end
if ARGV[1] ~= nil and ARGV[1] ~= '' then
  local at = redis.call('HMGET', K.conv, 'lastSeq', 'messageCount', 'updatedAt')
  if tonumber(at[1] or '0') ~= tonumber(ARGV[1]) or tonumber(at[2] or '0') ~= tonumber(ARGV[2]) or at[3] ~= ARGV[3] then
    return false
  end
end
local activity = activityOf()
local count = tonumber(redis.call('HGET', K.conv, 'messageCount') or '0')
local ids = redis.call('HKEYS', K.ids)
local exts = redis.call('HKEYS', K.ext)
local participants = redis.call('HKEYS', K.parts)
local people, seen = {}, {}
for _, pid in ipairs(participants) do
  seen[pid] = true
  people[#people + 1] = pid
end
for _, member in ipairs(redis.call('ZRANGE', K.people, '-', '+', 'BYLEX')) do
  local pid = string.sub(member, 1, string.find(member, SEP, 1, true) - 1)
  if not seen[pid] then
    seen[pid] = true
    people[#people + 1] = pid
  end
end
redis.call('UNLINK', K.conv, K.live, K.dead, K.ids, K.ext, K.parts, K.people, K.revoked, K.unindexed)
return { activity, count, ids, exts, people, participants }
`,
);

/**
 * One step of a soft delete of a conversation. ARGV: now, `1` on the first call, upToSeq, limit.
 * The first call marks the conversation and fixes upToSeq (its lastSeq); each call stamps up to
 * `limit` live messages with seq ≤ upToSeq. Reply: nil when missing, else `{upToSeq, stamped}`.
 * Done in steps so that a long conversation never blocks Redis for long; a message appended
 * meanwhile has a higher seq and stays live, as if it came after the delete.
 */
export const SOFT_DELETE_CONVERSATION = script(
  'soft-delete-conversation',
  `${PRELUDE}
local now, first, upTo, limit = ARGV[1], ARGV[2] == '1', ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', K.conv) == 0 then return false end
if first then
  redis.call('HSETNX', K.conv, 'deletedAt', now)
  redis.call('HSET', K.conv, 'updatedAt', now)
  upTo = redis.call('HGET', K.conv, 'lastSeq')
end
local rows = redis.call('ZRANGE', K.live, '-inf', upTo, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
local acc = {}
for i = 1, #rows, 2 do
  local v, s = rows[i], rows[i + 1]
  local h = header(v)
  tally(acc, h, -1)
  h[1] = now
  tally(acc, h, 1)
  redis.call('ZREM', K.live, v)
  redis.call('ZADD', K.dead, s, now .. string.sub(v, (string.find(v, SEP, 1, true))))
end
flush(acc)
return { upTo, #rows / 2 }
`,
);

/**
 * ARGV: type, title (`''` | `+title`), metadata JSON, now, channel (`''` | `+channel`), then
 * (participant id, JSON)…; `{'CONFLICT'}` when it exists.
 */
export const CREATE_CONVERSATION = script(
  'create-conversation',
  `${PRELUDE}
if redis.call('EXISTS', K.conv) == 1 then return { 'CONFLICT' } end
local now = ARGV[4]
redis.call('HSET', K.conv, 'type', ARGV[1], 'metadata', ARGV[3], 'createdAt', now, 'updatedAt', now,
  'lastSeq', 0, 'messageCount', 0)
if ARGV[2] ~= '' then redis.call('HSET', K.conv, 'title', string.sub(ARGV[2], 2)) end
if ARGV[5] ~= '' then redis.call('HSET', K.conv, 'channel', string.sub(ARGV[5], 2)) end
redis.call('PERSIST', K.revoked)
local marks = { 'c', 'a' .. SEP .. now }
for j = 6, #ARGV, 2 do
  if redis.call('HSETNX', K.parts, ARGV[j], ARGV[j + 1]) == 1 then marks[#marks + 1] = 'p' .. SEP .. ARGV[j] end
end
local readd = {}
redis.call('HSET', K.conv, 'pending', '1')
for _, mark in ipairs(marks) do
  local token = tostring(redis.call('HINCRBY', K.conv, 'markSeq', 1))
  redis.call('HSET', K.unindexed, mark, token)
  readd[#readd + 1] = mark
  readd[#readd + 1] = token
end
return { 'OK', snapshot(), readd }
`,
);

/**
 * ARGV: type (`''` = keep), title (`''` keep, `-` remove, `+title` set), `1` when metadata changes,
 * metadata as read, new metadata, now, channel (as title). Reply: nil when missing, `{'RETRY', current}` when the
 * metadata changed since it was read, else `{'OK', snapshot}`.
 */
export const UPDATE_CONVERSATION = script(
  'update-conversation',
  `${PRELUDE}
if redis.call('EXISTS', K.conv) == 0 then return false end
if ARGV[3] == '1' then
  local current = redis.call('HGET', K.conv, 'metadata')
  if current ~= ARGV[4] then return { 'RETRY', current } end
  redis.call('HSET', K.conv, 'metadata', ARGV[5])
end
if ARGV[1] ~= '' then redis.call('HSET', K.conv, 'type', ARGV[1]) end
if ARGV[2] == '-' then redis.call('HDEL', K.conv, 'title')
elseif ARGV[2] ~= '' then redis.call('HSET', K.conv, 'title', string.sub(ARGV[2], 2)) end
if ARGV[7] == '-' then redis.call('HDEL', K.conv, 'channel')
elseif ARGV[7] ~= '' then redis.call('HSET', K.conv, 'channel', string.sub(ARGV[7], 2)) end
redis.call('HSET', K.conv, 'updatedAt', ARGV[6])
return { 'OK', snapshot() }
`,
);

/** ARGV: now, then (participant id, JSON)…. Reply: nil when missing, else `{snapshot, readd}`. */
export const ADD_PARTICIPANTS = script(
  'add-participants',
  `${PRELUDE}
if redis.call('EXISTS', K.conv) == 0 then return false end
local readd = {}
for j = 2, #ARGV, 2 do
  local mark = 'p' .. SEP .. ARGV[j]
  local before = indexed(mark)
  redis.call('HSETNX', K.parts, ARGV[j], ARGV[j + 1])
  if not before then
    local token = tostring(redis.call('HINCRBY', K.conv, 'markSeq', 1))
    redis.call('HSET', K.unindexed, mark, token)
    redis.call('HSET', K.conv, 'pending', '1')
    readd[#readd + 1] = mark
    readd[#readd + 1] = token
  end
end
redis.call('HSET', K.conv, 'updatedAt', ARGV[1])
return { snapshot(), readd }
`,
);

/** ARGV: participant id, now. Reply: nil when missing, else `{snapshot, still indexed (0|1)}`. */
export const REMOVE_PARTICIPANT = script(
  'remove-participant',
  `${PRELUDE}
if redis.call('EXISTS', K.conv) == 0 then return false end
redis.call('HDEL', K.parts, ARGV[1])
redis.call('HSET', K.conv, 'updatedAt', ARGV[2])
return { snapshot() }
`,
);

/** What `stats` reads of a conversation: whether it exists and is live, its channel, and its counters. */
export const STATS_FIELDS = [
  'createdAt',
  'deletedAt',
  'channel',
  'messageCount',
  'c:deleted',
  'c:incoming',
  'c:user',
  'c:assistant',
  'c:system',
  'c:withMedia',
  'c:commands',
  'c:adminCommands',
  'c:failed',
] as const;

// Scripts on one global key.

/** KEYS: an id claim. ARGV: the value read, the new value. Reply 1 when set, 0 when it changed meanwhile. */
export const CLAIM_SWAP = script(
  'claim-swap',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`,
);

/** KEYS: an id claim. ARGV: conversationId. Keeps the generation, drops the owner, if the owner is that conversation. */
export const CLAIM_RELEASE = script(
  'claim-release',
  `
local claim = redis.call('GET', KEYS[1])
if not claim then return 0 end
local bar = string.find(claim, '|', 1, true)
if string.sub(claim, bar + 1) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], string.sub(claim, 1, bar))
return 1
`,
);

/**
 * On the owner of a claim another conversation wants (KEYS: its conv, ids, revoked): reply
 * `stored` when the owner holds the message, else record that claims of generation ≤ ARGV[2]
 * are void there and reply `revoked`. ARGV: id, generation. A revocation on a conversation that
 * does not exist (yet) expires after 10 minutes unless an append creates the conversation.
 */
export const REVOKE = script(
  'revoke',
  `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 'stored' end
local current = redis.call('HGET', KEYS[3], ARGV[1])
if not current or tonumber(current) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('PEXPIRE', KEYS[3], 600000) end
return 'revoked'
`,
);

function script(name: string, lua: string): RedisScript {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}
