-- wrk script for the ingest benchmark: POSTs one unique ~300-byte campaign_failure event per request.
-- Usage: wrk -t1 -c64 -d10s -s bench/wrk_post.lua http://127.0.0.1:PORT/hooks/events -- PREFIX
-- The event id is PREFIX-THREAD-COUNTER, so every request is a new event (no dedupe short-cut) and the
-- stored rows can be counted afterwards with `SELECT count(*) FROM events WHERE key LIKE 'PREFIX-%'`.
-- done() prints one line `WRK_JSON {...}` that bench/loadgen.py parses (latencies in microseconds).
-- The template must stay byte-for-byte equal to EVENT_TEMPLATE in bench/loadgen.py.

local template = [[{"kind":"campaign_failure","id":"%s-%d-%d","instance":"123-ABC-456","severity":"warning",]]
  .. [["summary":"Smart campaign \"Q4 Webinar Invites\" stopped on flow step 2 (Send Email).",]]
  .. [["fields":{"campaign_id":4821,"campaign_name":"Q4 Webinar Invites",]]
  .. [["error":"Send Email: email asset \"Webinar Invite 1\" is not approved"},"labels":{"team":"emea"}}]]

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

-- main state: remember every thread so done() can add up what each one generated
local threads = {}
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

-- thread state (globals, so the main state can read them with thread:get)
counter = 0
prefix = "bench"
tid = 0

function init(args)
  if args[1] ~= nil then
    prefix = args[1]
  end
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, string.format(template, prefix, tid, counter))
end

function done(summary, latency, requests)
  local sent = 0
  for _, t in ipairs(threads) do
    sent = sent + (t:get("counter") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"sent":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.duration, summary.requests, summary.bytes, sent,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
