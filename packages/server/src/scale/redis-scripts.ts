// Lua scripts of the Redis run queue. Each runs atomically in Redis, which is what makes a run's transitions
// (queued -> running -> final) and its event numbering safe with several servers and workers at once.
//
// A run is the hash PREFIX:run:ID; its events the list PREFIX:run:ID:events, numbered by PREFIX:run:ID:seq.
// Sorted sets (score = submit order) index it: PREFIX:runs:all, :queued, :running, :finished.

/** Prepends `"seq":N,` to an event's JSON object text; the shared tail of the event-appending scripts. */
const APPEND_EVENT = `
local function append_event(seq_key, events_key, json, channel, max_events, is_final)
  local seq = redis.call('INCR', seq_key)
  local stored = '{"seq":' .. seq .. ',' .. string.sub(json, 2)
  if is_final or redis.call('LLEN', events_key) < max_events then
    redis.call('RPUSH', events_key, stored)
  end
  redis.call('PUBLISH', channel, stored)
  return seq
end
`;

/**
 * KEYS: run, queued, all, order. ARGV: cap, id, field, value, ...
 * Returns the 1-based position, -1 when the queue is full, -2 when the id exists.
 */
export const ENQUEUE = `
local queued = redis.call('ZCARD', KEYS[2])
if queued >= tonumber(ARGV[1]) then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -2 end
local order = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], 'order', order, unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], order, ARGV[2])
redis.call('ZADD', KEYS[3], order, ARGV[2])
return queued + 1
`;

/**
 * Starts one attempt of a run. KEYS: run, queued, running. ARGV: id, now, attempt token, max attempts.
 * Returns { outcome, attempts }: outcome 'claimed', 'exhausted' (too many attempts), 'missing', or the run's
 * final status. A run already running is re-claimed (its previous worker stopped): the new token fences the old
 * attempt off, so its late events and completion are ignored.
 */
export const CLAIM = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
if status ~= 'queued' and status ~= 'running' then return {status, 0} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[4]) then return {'exhausted', attempts} end
redis.call('HSET', KEYS[1], 'status', 'running', 'attempt', ARGV[3])
if status == 'queued' then redis.call('HSET', KEYS[1], 'startedAt', ARGV[2]) end
local order = redis.call('HGET', KEYS[1], 'order')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], order, ARGV[1])
return {'claimed', attempts}
`;

/**
 * Appends a non-final event. KEYS: run, seq, events. ARGV: event JSON, attempt token ('' = not fenced), channel,
 * max events. Returns the event's seq, or 0 when the attempt was fenced off or the run already ended.
 */
export const APPEND = `${APPEND_EVENT}
if ARGV[2] ~= '' then
  if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[2] then
    return 0
  end
end
return append_event(KEYS[2], KEYS[3], ARGV[1], ARGV[3], tonumber(ARGV[4]), false)
`;

/**
 * Ends a run once. KEYS: run, queued, running, finished, seq, events.
 * ARGV: id, now, attempt token ('' = any), status, error JSON, outputs JSON, files JSON, final event JSON, channel,
 * max events, only-if-queued ('1': cancel a queued run only).
 * Returns the final event's seq (1+), or 0 when the run had already ended, is not the caller's attempt, or (with
 * only-if-queued) already started.
 */
export const COMPLETE = `${APPEND_EVENT}
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
if ARGV[11] == '1' and status ~= 'queued' then return 0 end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'finishedAt', ARGV[2])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'outputs', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'files', ARGV[7]) end
local order = redis.call('HGET', KEYS[1], 'order')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], order, ARGV[1])
if ARGV[8] == '' then return 1 end
return append_event(KEYS[5], KEYS[6], ARGV[8], ARGV[9], tonumber(ARGV[10]), true)
`;

/** Stores an already numbered event (the RunQueue interface). KEYS: seq, events. ARGV: seq, JSON, max, final. */
export const STORE_NUMBERED = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
if ARGV[4] == '1' or redis.call('LLEN', KEYS[2]) < tonumber(ARGV[3]) then redis.call('RPUSH', KEYS[2], ARGV[2]) end
return 1
`;
