-- bench/http/checkins.lua: wrk script for POST /api/v1/projects/:code/checkins (check-in by
-- phone) as reception, which confirms a phone in person and needs no one-time code
-- (docs/api/kiosk.md).
-- FV_MODE=first (default): every request a new phone (FV_PHONE_PREFIX, default 1361, + thread
--   digit + counter): a first visit each.
-- FV_MODE=return: thread t cycles over its FV_POOL phones (default 2000), FV_PHONE_PREFIX (default
--   1350) t 000000 .. FV_POOL-1, which run.sh checks in once beforehand: a return visit each.
-- Environment: FV_SESSION, FV_CSRF, FV_PROJECT (default demo). Counts: first, return (from the
-- result's "kind"), other (a 200 of another kind), http_error (not 200).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local fv = require("common")

local path = "/api/v1/projects/" .. fv.env("FV_PROJECT", "demo") .. "/checkins"
local mode = fv.env("FV_MODE", "first")
local prefix = fv.env("FV_PHONE_PREFIX", mode == "first" and "1361" or "1350")
local pool = tonumber(fv.env("FV_POOL", "2000"))
if mode ~= "first" and mode ~= "return" then error("FV_MODE must be first or return") end
local n = 0

setup = fv.setup

function request()
  local k
  if mode == "first" then
    n = n + 1
    k = n
  else
    k = n % pool
    n = n + 1
  end
  return wrk.format("POST", path, fv.json_headers(),
                    string.format('{"phone": "%s"}', fv.phone(prefix, k)))
end

function response(status, headers, body)
  if status ~= 200 then
    fv.count("http_error")
  elseif body:find('"kind": "first"', 1, true) then
    fv.count("first")
  elseif body:find('"kind": "return"', 1, true) then
    fv.count("return")
  else
    fv.count("other")
  end
end

done = fv.done({"first", "return", "other", "http_error"})
