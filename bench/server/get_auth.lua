-- wrk script: GET of PATH_Q (environment) with the bearer token; GZIP=1 adds
-- "Accept-Encoding: gzip" as every browser does.
local token = os.getenv("TOKEN")
local path = os.getenv("PATH_Q")
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
  if os.getenv("GZIP") == "1" then
    wrk.headers["Accept-Encoding"] = "gzip"
  end
end
request = function()
  return wrk.format("GET", path)
end
