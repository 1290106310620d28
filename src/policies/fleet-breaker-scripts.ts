import type { LuaScript } from './coordination.js';

/**
 * The Lua of the fleet-wide circuit breakers: one hash per breaker target with `state` (closed, open,
 * half-open), `failures` (consecutive, fleet-wide), `openUntil`, the half-open `probe` (its holder's token and
 * lease end) and `lastFailure`. The semantics are cockatiel's consecutive breaker, which a worker falls back to:
 * `threshold` failures in a row open it; after `halfOpenMs` one call (fleet-wide) probes; its success closes the
 * breaker, its failure opens it again. Time is Redis's own clock.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: breaker. ARGV: probe lease ms, token. Returns {verdict, failures}: `closed` (go ahead), `probe` (go
 * ahead as the one half-open probe), `open` or `half-open` (refused: fail fast).
 */
export const breakerAdmitScript: LuaScript = {
  name: 'breaker-admit',
  source: `${NOW}
local key, lease, token = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local b = redis.call('HMGET', key, 'state', 'failures', 'openUntil', 'probeUntil')
local state = b[1] or 'closed'
local failures = tonumber(b[2]) or 0
if state == 'closed' then return {'closed', failures} end
if state == 'open' and now < (tonumber(b[3]) or 0) then return {'open', failures} end
if state == 'half-open' and now < (tonumber(b[4]) or 0) then return {'half-open', failures} end
redis.call('HSET', key, 'state', 'half-open', 'probe', token, 'probeUntil', now + lease)
return {'probe', failures}`,
};

/**
 * KEYS: index (the set of every breaker key). Returns, per breaker: key, state, openUntil, lastFailure,
 * configured ('1' when it is the breaker of the agent's own model), and
 * Redis's clock last. For the API's and the fleet page's view of the shared state.
 */
export const breakerListScript: LuaScript = {
  name: 'breaker-list',
  source: `${NOW}
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local b = redis.call('HMGET', key, 'state', 'openUntil', 'lastFailure', 'configured')
  if b[1] then
    table.insert(out, key)
    table.insert(out, b[1])
    table.insert(out, b[2] or '0')
    table.insert(out, b[3] or '')
    table.insert(out, b[4] or '1')
  else
    redis.call('SREM', KEYS[1], key)
  end
end
table.insert(out, tostring(now))
return out`,
};

/**
 * KEYS: breaker, index. ARGV: outcome (`success`, `failure`, or `neutral`: an error that says nothing about the
 * endpoint), token, threshold, halfOpenMs, lastFailure (JSON, with a failure), ttl ms, configured ('1': the
 * agent's own model). Returns the state after.
 */
export const breakerRecordScript: LuaScript = {
  name: 'breaker-record',
  source: `${NOW}
local key, outcome, token = KEYS[1], ARGV[1], ARGV[2]
local threshold, halfOpen, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local b = redis.call('HMGET', key, 'state', 'probe')
local state = b[1] or 'closed'
local probing = state == 'half-open' and b[2] == token
if outcome == 'success' then
  if probing or state == 'closed' then
    redis.call('HSET', key, 'state', 'closed', 'failures', 0)
    redis.call('HDEL', key, 'probe', 'probeUntil', 'openUntil')
    state = 'closed'
  end
elseif outcome == 'failure' then
  redis.call('HSET', key, 'lastFailure', ARGV[5])
  if probing then
    redis.call('HSET', key, 'state', 'open', 'openUntil', now + halfOpen, 'failures', 0)
    redis.call('HDEL', key, 'probe', 'probeUntil')
    state = 'open'
  elseif state == 'closed' then
    local failures = redis.call('HINCRBY', key, 'failures', 1)
    if failures >= threshold then
      redis.call('HSET', key, 'state', 'open', 'openUntil', now + halfOpen, 'failures', 0)
      state = 'open'
    end
  end
elseif probing then
  -- The probe proved nothing: the next call probes instead.
  redis.call('HSET', key, 'probeUntil', 0)
end
redis.call('PEXPIRE', key, ttl)
redis.call('HSET', key, 'configured', ARGV[7])
redis.call('SADD', KEYS[2], key)
redis.call('PEXPIRE', KEYS[2], ttl)
return state`,
};
