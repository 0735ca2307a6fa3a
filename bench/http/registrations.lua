-- bench/http/registrations.lua: wrk script for POST /api/v1/projects/:code/registrations as an
-- agent (docs/api/agent.md). Every request registers a new customer phone (FV_PHONE_PREFIX,
-- default 1391, + thread digit + counter), so each one is a first claim that the rules accept.
-- Environment: FV_SESSION, FV_CSRF (the agent's login), FV_PROJECT (default demo),
-- FV_PHONE_PREFIX. Counts: accepted, refused (a 200 with status "refused"), http_error (not 200).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local fv = require("common")

local path = "/api/v1/projects/" .. fv.env("FV_PROJECT", "demo") .. "/registrations"
local prefix = fv.env("FV_PHONE_PREFIX", "1391")
local n = 0

setup = fv.setup

function request()
  n = n + 1
  local body = string.format('{"customer_name": "Bench Customer %d-%d", "phone": "%s"}', tid, n,
                             fv.phone(prefix, n))
  return wrk.format("POST", path, fv.json_headers(), body)
end

function response(status, headers, body)
  if status ~= 200 then
    fv.count("http_error")
  elseif body:find('"status": "accepted"', 1, true) then
    fv.count("accepted")
  else
    fv.count("refused")
  end
end

done = fv.done({"accepted", "refused", "http_error"})
