// Lua scripts of the Redis run queue. Each runs atomically in Redis, which is what makes a run's transitions
// (queued -> running -> final) and its event numbering safe with several servers and workers at once.
//
// A run is the hash PREFIX:run:ID; its events the list PREFIX:run:ID:events, numbered by PREFIX:run:ID:seq.
// Sorted sets (score = submit order) index it: PREFIX:runs:all, :queued, :running, :finished.

/** Prepends `"seq":N,` to an event's JSON object text; the shared tail of the event-appending scripts. */
const APPEND_EVENT = `
-- Past max_events a run's stored events stop growing with progress: a progress event then replaces the previous
-- stored one when that is progress of the same node (so a replay still ends on current values), else it is only
-- published. Every other event is stored, since a graph's size bounds them.
local function store_event(events_key, stored, max_events)
  local event = cjson.decode(stored)
  if event.type ~= 'node:progress' or redis.call('LLEN', events_key) < max_events then
    redis.call('RPUSH', events_key, stored)
    return
  end
  local last = redis.call('LINDEX', events_key, -1)
  if last then
    local previous = cjson.decode(last)
    if previous.type == 'node:progress' and previous.node == event.node then
      redis.call('LSET', events_key, -1, stored)
    end
  end
end

local function append_event(seq_key, events_key, json, channel, max_events)
  local seq = redis.call('INCR', seq_key)
  local stored = '{"seq":' .. seq .. ',' .. string.sub(json, 2)
  store_event(events_key, stored, max_events)
  redis.call('PUBLISH', channel, stored)
  return seq
end

-- A run left the queue from 0-based rank \`rank\`: the runs behind it moved up one place; tell their clients.
local function announce_from(queued_key, rank, run_prefix, channel, max_events)
  local ids = redis.call('ZRANGE', queued_key, rank, rank + 999)
  for i, id in ipairs(ids) do
    local event = '{"type":"run:queued","runId":"' .. id .. '","position":' .. (rank + i) .. '}'
    append_event(run_prefix .. id .. ':seq', run_prefix .. id .. ':events', event, channel, max_events)
  end
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
 * Starts one attempt of a run. KEYS: run, queued, running. ARGV: id, now, attempt token, max attempts, run key prefix,
 * channel, max events.
 * Returns { outcome, attempts }: outcome 'claimed', 'exhausted' (too many attempts), 'missing', or the run's
 * final status. A run already running is re-claimed (its previous worker stopped): the new token fences the old
 * attempt off, so its late events and completion are ignored.
 */
export const CLAIM = `${APPEND_EVENT}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
if status ~= 'queued' and status ~= 'running' then return {status, 0} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[4]) then return {'exhausted', attempts} end
redis.call('HSET', KEYS[1], 'status', 'running', 'attempt', ARGV[3])
if status == 'queued' then redis.call('HSET', KEYS[1], 'startedAt', ARGV[2]) end
local order = redis.call('HGET', KEYS[1], 'order')
local rank = redis.call('ZRANK', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], order, ARGV[1])
if rank then announce_from(KEYS[2], rank, ARGV[5], ARGV[6], tonumber(ARGV[7])) end
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
return append_event(KEYS[2], KEYS[3], ARGV[1], ARGV[3], tonumber(ARGV[4]))
`;

/**
 * Ends a run once. KEYS: run, queued, running, finished, seq, events.
 * ARGV: id, now, attempt token ('' = any), status, error JSON, outputs JSON, files JSON, final event JSON, channel,
 * max events, only-if-queued ('1': cancel a queued run only), run key prefix.
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
local rank = redis.call('ZRANK', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], order, ARGV[1])
local seq = 1
if ARGV[8] ~= '' then seq = append_event(KEYS[5], KEYS[6], ARGV[8], ARGV[9], tonumber(ARGV[10])) end
if rank then announce_from(KEYS[2], rank, ARGV[12], ARGV[9], tonumber(ARGV[10])) end
return seq
`;

/** Stores an already numbered event (the RunQueue interface). KEYS: seq, events. ARGV: seq, JSON, max. */
export const STORE_NUMBERED = `${APPEND_EVENT}
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
store_event(KEYS[2], ARGV[2], tonumber(ARGV[3]))
return 1
`;
