-- wrk script for bench/run.sh: POSTs {"text": "<sentence>"} cycling through
-- the corpus, each wrk thread starting at a different line, and prints one
-- machine-readable line (WRK_JSON {...}) at the end.
--
--   wrk -t2 -c32 -d20s --timeout 10s -s bench/wrk_corpus.lua http://127.0.0.1:8765/embed -- bench/sentences.txt 1000
--
-- Arguments after --: the corpus file (one text per line) and how many of
-- its first lines to use (0 or absent: all).

local threads = {}
local bodies = {}
local counter = 0

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    return string.format('\\u%04x', c:byte())
  end) .. '"'
end

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1] or "bench/sentences.txt"
  local limit = tonumber(args[2] or "0") or 0
  for line in io.lines(path) do
    if limit > 0 and #bodies >= limit then break end
    bodies[#bodies + 1] = '{"text": ' .. json_string(line) .. '}'
  end
  assert(#bodies > 0, "no texts in " .. path)
  counter = ((id or 0) * 997) % #bodies
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[counter])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
