-- wrk script: POST /api/events with BATCH fresh events per request (unique ids per thread and
-- request, so every event is a real insert, not a duplicate).
local counter = 0
local batch = tonumber(os.getenv("BATCH") or "100")
local token = os.getenv("TOKEN")
local tid = nil

function setup(thread)
  thread:set("tid", tostring(math.random(100000000, 999999999)))
end

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  counter = counter + 1
  local parts = {}
  for i = 1, batch do
    parts[i] = string.format(
      '{"id":"w%s-%d-%d","category":"burglary","time":"2025-06-%02dT%02d:%02d:00Z","lon":%.5f,"lat":%.5f}',
      tid, counter, i, 1 + (counter % 28), i % 24, counter % 60,
      -3.05 + (i % 100) * 0.001, 51.55 + (counter % 100) * 0.001)
  end
  return wrk.format("POST", "/api/events?report=rejected", nil, "[" .. table.concat(parts, ",") .. "]")
end
