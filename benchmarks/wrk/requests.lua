-- Requests from a file, spread over many ids and tokens (benchmarks/api_benchmark.py writes it).
-- Usage: [WRK_RATE=R] wrk -t N -s requests.lua URL -- FILE N
--   FILE: one request a line, tab-separated: METHOD, PATH, TOKEN ("-" for none), BODY ("" for none).
--   Each of the N wrk threads takes every Nth line (its own share, so writes of two threads never
--   collide) and cycles through its share in order. WRK_RATE (requests/s over all threads): pace
--   the requests on a fixed schedule per thread, kept with delay(); unset, as fast as answers
--   come (wrk decides at load time whether delay() exists, hence an environment variable).
-- done() prints one line "RESULT {json}" with the counts and the latency percentiles (ms).
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local requests = {}
local position = 0
local rate = tonumber(os.getenv("WRK_RATE") or "")
local interval = nil
local next_slot = nil

function init(args)
  local path, thread_count = args[1], tonumber(args[2])
  local index = 0
  for line in io.lines(path) do
    if index % thread_count == id then
      local method, target, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
      local headers = {}
      if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
      if body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      table.insert(requests, wrk.format(method, target, headers, body))
    end
    index = index + 1
  end
  if #requests == 0 then error("no requests for thread " .. id .. " in " .. path) end
  if rate and rate > 0 then
    interval = 1000.0 * thread_count / rate
  end
end

function request()
  position = position % #requests + 1
  return requests[position]
end

if rate then
  function delay()
    local now = now_ms()
    if not next_slot or next_slot < now - 1000 then next_slot = now end
    local wait = next_slot - now
    next_slot = next_slot + interval
    if wait < 0 then return 0 end
    return wait
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50": %.3f, "p90": %.3f, "p95": %.3f, "p99": %.3f, "max": %.3f, "mean": %.3f}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    latency.mean / 1000))
end
