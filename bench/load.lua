-- Cycles through prepared requests (one per line of $BENCH_REQUESTS: method TAB path TAB
-- cookie TAB csrf token TAB body), each with its user's session cookie and CSRF token, as a
-- browser behind the TLS proxy would send them; prints one JSON line of results at the end.
local lines = {}
local counter = 0

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

function init(args)
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    table.insert(lines, split(line))
  end
  -- Each thread starts at a different place so that threads do not hit the same rows together.
  counter = math.random(#lines)
end

function request()
  counter = counter % #lines + 1
  local f = lines[counter]
  local headers = {
    ["Cookie"] = f[3],
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-For"] = "10.9.0.1",
    ["Origin"] = os.getenv("BENCH_ORIGIN"),
  }
  if f[1] == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-CSRFToken"] = f[4]
  end
  return wrk.format(f[1], f[2], headers, f[5] ~= "" and f[5] or nil)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
