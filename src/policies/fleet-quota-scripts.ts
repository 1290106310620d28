import type { LuaScript } from './coordination.js';

/**
 * The Lua of the fleet-wide quota. Time is Redis's own clock (`TIME`), so workers with skewed clocks share one
 * window. Keys of one deployment:
 *
 * - `grants` (sorted set): one member per granted request, scored by when it was granted;
 * - `tokens` (hash): the tokens of each grant (the estimate, replaced by the real usage when it is settled);
 * - `meta` (hash): `total` tokens of the grants in the window, `floor` the virtual time of the last grant;
 * - `pause` (string): until when a 429's retry-after pauses the deployment (ms since epoch);
 * - `vt` (hash): the virtual time of each tenant (weighted tokens granted so far);
 * - `waiting` (sorted set): who waits for capacity, one member per tenant and worker (`<tenant>|<worker>`), scored
 *   by when the claim lapses. Per worker, because a worker that has served its own waiters of a tenant must not
 *   withdraw the tenant while other workers still hold some.
 *
 * Fair share is start-time fair queuing: a tenant is granted only when no other waiting tenant has an earlier
 * virtual time, and each grant advances the tenant's virtual time by its tokens divided by its weight. A tenant
 * that was idle starts at the floor (the virtual time of the latest grant), so idleness earns no credit.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const PRUNE = `local function prune(grants, tokens, meta, now, window)
  local old = redis.call('ZRANGEBYSCORE', grants, '-inf', now - window)
  if #old == 0 then return end
  local freed = 0
  for _, id in ipairs(old) do
    freed = freed + (tonumber(redis.call('HGET', tokens, id)) or 0)
    redis.call('HDEL', tokens, id)
  end
  redis.call('ZREMRANGEBYSCORE', grants, '-inf', now - window)
  local total = (tonumber(redis.call('HGET', meta, 'total')) or 0) - freed
  if total < 0 or redis.call('ZCARD', grants) == 0 then total = 0 end
  redis.call('HSET', meta, 'total', total)
end`;

/**
 * KEYS: grants, tokens, meta, pause, vt, waiting. ARGV: windowMs, rpm (0: none), tpm (0: none), tokens, grant id,
 * tenant, weight, more (1 when the tenant has further waiters in this worker), claimMs (how long a waiting
 * tenant's claim lasts without being renewed), maxSleepMs, worker id.
 * Returns {1, 0} granted; {0, ms} no capacity for ms; {0, -1} capacity, but another tenant goes first.
 */
export const quotaAcquireScript: LuaScript = {
  name: 'quota-acquire',
  source: `${NOW}
${PRUNE}
local grants, tokens, meta, pause, vt, waiting = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local window, rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cost, id, tenant, weight = tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[7])
local more, claim, maxSleep = ARGV[8] == '1', tonumber(ARGV[9]), tonumber(ARGV[10])
local member = tenant .. '|' .. ARGV[11]
prune(grants, tokens, meta, now, window)
redis.call('ZREMRANGEBYSCORE', waiting, '-inf', now)

local wait = 0
local pausedUntil = tonumber(redis.call('GET', pause)) or 0
if pausedUntil > now then wait = pausedUntil - now end
local count = redis.call('ZCARD', grants)
if rpm > 0 and count >= rpm then
  local release = redis.call('ZRANGE', grants, count - rpm, count - rpm, 'WITHSCORES')
  wait = math.max(wait, tonumber(release[2]) + window - now)
end
local total = tonumber(redis.call('HGET', meta, 'total')) or 0
if tpm > 0 and count > 0 and total + cost > tpm then
  local all = redis.call('ZRANGE', grants, 0, -1, 'WITHSCORES')
  local left = total
  for i = 1, #all, 2 do
    left = left - (tonumber(redis.call('HGET', tokens, all[i])) or 0)
    if left + cost <= tpm or i + 1 == #all then
      wait = math.max(wait, tonumber(all[i + 1]) + window - now)
      break
    end
  end
end

local floor = tonumber(redis.call('HGET', meta, 'floor')) or 0
local mine = math.max(tonumber(redis.call('HGET', vt, tenant)) or 0, floor)
local first = true
for _, waiter in ipairs(redis.call('ZRANGE', waiting, 0, -1)) do
  local other = string.match(waiter, '^(.*)|')
  if other ~= tenant then
    local theirs = math.max(tonumber(redis.call('HGET', vt, other)) or 0, floor)
    if theirs < mine then first = false end
  end
end

local ttl = window * 2 + 60000
if wait > 0 or not first then
  local sleep = wait > 0 and math.min(wait, maxSleep) or 0
  redis.call('ZADD', waiting, now + sleep + claim, member)
  redis.call('PEXPIRE', waiting, ttl)
  if wait > 0 then return {0, math.ceil(wait)} end
  return {0, -1}
end

redis.call('ZADD', grants, now, id)
redis.call('HSET', tokens, id, cost)
redis.call('HSET', meta, 'total', total + cost, 'floor', mine)
redis.call('HSET', vt, tenant, tostring(mine + math.max(cost, 1) / weight))
if more then
  redis.call('ZADD', waiting, now + claim, member)
else
  redis.call('ZREM', waiting, member)
end
for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
return {1, 0}`,
};

/**
 * KEYS: grants, tokens, meta, vt. ARGV: grant id, real tokens, extra requests (the corrective re-ask), tenant,
 * estimated tokens, weight. Replaces a grant's estimate with the real usage; extra requests are granted as they
 * happened, costing no tokens.
 */
export const quotaSettleScript: LuaScript = {
  name: 'quota-settle',
  source: `${NOW}
local grants, tokens, meta, vt = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, actual, extra = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local tenant, estimate, weight = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local current = tonumber(redis.call('HGET', tokens, id))
if current then
  redis.call('HSET', tokens, id, actual)
  local total = (tonumber(redis.call('HGET', meta, 'total')) or 0) + actual - current
  redis.call('HSET', meta, 'total', math.max(total, 0))
end
for i = 1, extra do
  redis.call('ZADD', grants, now, id .. ':' .. i)
  redis.call('HSET', tokens, id .. ':' .. i, 0)
end
local v = tonumber(redis.call('HGET', vt, tenant))
if v then
  redis.call('HSET', vt, tenant, tostring(v + (math.max(actual, 1) - math.max(estimate, 1)) / weight))
end
return 1`,
};

/** KEYS: pause. ARGV: ms. Nobody is granted for `ms` from now (a 429's retry-after); a longer pause stays. */
export const quotaPauseScript: LuaScript = {
  name: 'quota-pause',
  source: `${NOW}
local untilAt = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1])) or 0
if untilAt > current then redis.call('SET', KEYS[1], untilAt, 'PX', math.max(1, tonumber(ARGV[1]))) end
return 1`,
};
