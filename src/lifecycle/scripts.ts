/**
 * The Lua scripts of the run lifecycle's Redis writes. Each one checks and writes in one step, so two processes
 * racing for a run (a worker and a cancel, a worker that lost its job's lock and the one that took it over, the
 * reconciler) can never both win. Record fields are JSON-encoded, so a status is stored with its quotes.
 */

const IS_TERMINAL = `local function terminal(status)
  return status == '"succeeded"' or status == '"failed"' or status == '"cancelled"'
end
`;

/** Moves the record from ARGV[1] to ARGV[2] only if it is in ARGV[1] (one retry wins a race). */
export const CLAIM_STATUS = `if redis.call('HGET', KEYS[1], 'status') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', ARGV[2])
  return 1
end
return 0`;

/** Deletes KEYS[1] only while it still names run ARGV[1] (`<runId> <request hash>`). */
export const RELEASE_IF_OURS = `local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * A worker's attempt at a run begins: counts the attempt (its fencing token) and, unless the run has finished or
 * a cancel was requested before it started, marks it running (its first start time ARGV[1] kept by later
 * attempts). One step, so nothing can come between counting the attempt and marking it. Returns `gone` (no run;
 * a missing record is never created here), or the verdict — `running`, `finished` or `cancel` — the attempt
 * number, the record's fields as stored after the change and, for `running`, the run's journal KEYS[2]: read
 * after the attempt was counted, so no older attempt can add to it afterwards (their writes are fenced on it).
 */
export const START_ATTEMPT = `${IS_TERMINAL}
if redis.call('HEXISTS', KEYS[1], 'owner') == 0 then return {'gone'} end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
local verdict = 'running'
if terminal(redis.call('HGET', KEYS[1], 'status')) then
  verdict = 'finished'
elseif redis.call('HGET', KEYS[1], 'cancelRequested') == 'true' then
  verdict = 'cancel'
else
  redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[1])
  redis.call('HSET', KEYS[1], 'status', '"running"')
end
local journal = {}
if verdict == 'running' then journal = redis.call('HGETALL', KEYS[2]) end
return {verdict, attempt, redis.call('HGETALL', KEYS[1]), journal}`;

/**
 * Admits a new run for its tenant. Refuses (`{limit, retryAfterMs}`) when the tenant has used its tokens of the
 * day, created its runs of the minute, or has its runs in flight; otherwise enters the run in every index at
 * once. The record is written after this (it is in the run's own slot on a Redis Cluster, these keys are not):
 * readers skip an index entry whose record is not there yet.
 *
 * KEYS: all runs, owner's runs, live runs, tenant live, tenant per-minute, tenant tokens today, tenants.
 * ARGV: run id, created (ms), now (ms), inflight limit, per-minute limit, tokens limit ('' = none), owner.
 */
export const ADMIT_RUN = `local id, created, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local window = 60000
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - window)
if ARGV[6] ~= '' and tonumber(redis.call('GET', KEYS[6]) or '0') >= tonumber(ARGV[6]) then
  return {'tokensPerDay', 0}
end
if ARGV[5] ~= '' and redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[5]) then
  local oldest = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
  return {'perMinute', tonumber(oldest[2]) + window - now}
end
if ARGV[4] ~= '' and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[4]) then return {'inflight', 0} end
redis.call('ZADD', KEYS[1], created, id)
redis.call('ZADD', KEYS[2], created, id)
redis.call('ZADD', KEYS[3], now, id)
redis.call('ZADD', KEYS[4], now, id)
redis.call('ZADD', KEYS[5], now, id)
redis.call('PEXPIRE', KEYS[5], window)
redis.call('SADD', KEYS[7], ARGV[7])
return {'ok', 0}`;

/**
 * Finishes a run: unless it has finished already or (with a fencing token ARGV[1]) a newer attempt started, writes
 * the outcome fields, appends the terminal event, starts the retention clock and compacts the event stream.
 * Returns `finished` with the tokens its tenant's day has not counted yet (an earlier finish of the same run
 * counted the rest), or `finished-already`, `superseded` or `gone`. The run's keys only: the caller then takes
 * the run off the live indexes and counts the tokens (`settleFinished`).
 *
 * KEYS: record, events, journal.
 * ARGV: fence ('' = none), run tokens, terminal event entry, stream max length, retention (s), then the record's
 * field/value pairs.
 */
export const FINISH_RUN = `${IS_TERMINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'gone'} end
if terminal(status) then return {'finished-already'} end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return {'superseded'} end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[3])
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 8) == 'pending:' then redis.call('HDEL', KEYS[1], field) end
end
local delta = tonumber(ARGV[2]) - tonumber(redis.call('HGET', KEYS[1], 'tenantTokens') or '0')
if delta > 0 then redis.call('HSET', KEYS[1], 'tenantTokens', ARGV[2]) else delta = 0 end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
-- The stream's last node keeps the room Redis set aside for more entries (about 4 KB, most of a short run's
-- footprint), and a finished run's stream gets no more: restoring it from its own serialized form keeps only
-- what it holds, with its ids and expiry. Only a saving: where a server refuses DUMP or RESTORE (a managed Redis
-- may), the run still finishes with its stream as it was.
local packed = redis.pcall('DUMP', KEYS[2])
if type(packed) == 'string' then
  redis.pcall('RESTORE', KEYS[2], math.max(redis.call('PTTL', KEYS[2]), 0), packed, 'REPLACE')
end
return {'finished', delta}`;

/**
 * Records that attempt ARGV[1] stopped for human input: each request (ARGV from 3 in fours: request id, journal
 * key of its answer, the pending entry, its `input.requested` event) becomes a `pending:<id>` field of the record
 * with its event, unless it is pending already. Returns `waiting` (status set), `answered` when an answer to one
 * of them is journaled already (the run should go on at once), `finished`, `superseded` or `gone`, followed by
 * the ids of the requests that became pending now.
 *
 * KEYS: record, journal, events. ARGV: fence, stream max length, then the requests.
 */
export const WAIT_FOR_INPUT = `${IS_TERMINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'gone'} end
if terminal(status) then return {'finished'} end
if redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return {'superseded'} end
local answered = false
local added = {}
for i = 3, #ARGV, 4 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i + 1]) == 1 then
    answered = true
  elseif redis.call('HEXISTS', KEYS[1], 'pending:' .. ARGV[i]) == 0 then
    redis.call('HSET', KEYS[1], 'pending:' .. ARGV[i], ARGV[i + 2])
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i + 3])
    added[#added + 1] = ARGV[i]
  end
end
if answered then return {'answered', unpack(added)} end
redis.call('HSET', KEYS[1], 'status', '"waiting"')
return {'waiting', unpack(added)}`;

/**
 * Closes pending request ARGV[1] with an answer (a person's, or the expiry's default): journals ARGV[3] under
 * its key ARGV[2] unless an answer is there already, removes the request from the record, appends the event
 * ARGV[4] and, when the run was waiting, puts it back to `queued` (its job is woken next). Answering twice never
 * applies twice. Returns `ok`, `closed` (answered or expired already, or no such request), `finished` or `gone`.
 *
 * KEYS: record, journal, events. ARGV: request id, journal key, journal entry, event entry, stream max length.
 */
export const CLOSE_INPUT = `${IS_TERMINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'gone' end
if terminal(status) then return 'finished' end
local field = 'pending:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], field) == 0 then return 'closed' end
redis.call('HDEL', KEYS[1], field)
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 0 then return 'closed' end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[4])
if status == '"waiting"' then redis.call('HSET', KEYS[1], 'status', '"queued"') end
return 'ok'`;
