-- bench/http/common.lua: helpers shared by the wrk scripts of bench/http (registrations.lua,
-- checkins.lua, frames.lua). Loaded with require("common"); each script puts its own folder on
-- package.path first.
--
-- What it gives:
--   env(name[, default])  a string from the environment (run.sh passes session, CSRF token, ...);
--                         fails when unset and there is no default
--   setup                 wrk's setup(thread): numbers the threads 1, 2, ... (global `tid` in each
--                         thread's Lua state) and keeps them for done()
--   json_headers()        Cookie fv_session, X-CSRF-Token, Content-Type: application/json
--   phone(prefix, n)      a fresh mainland mobile number: the 4-digit prefix, the thread's digit
--                         and n in 6 digits (11 digits); unique per (prefix, thread, n)
--   count(key)            counts a response outcome in the thread (global n_<key>)
--   done(keys)            a wrk done() that prints "fv-counts: key=N ..." summed over the threads
--
-- The scripts check the bodies, not only the status: a 200 can still say "refused" (a
-- registration) or "no face" (a frame), and run.sh refuses a run whose counts are off.
local M = {}

local threads = {}

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    if default == nil then error("bench/http: environment variable " .. name .. " is not set") end
    return default
  end
  return v
end

function M.setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

function M.json_headers()
  return {
    ["Cookie"] = "fv_session=" .. M.env("FV_SESSION"),
    ["X-CSRF-Token"] = M.env("FV_CSRF"),
    ["Content-Type"] = "application/json",
  }
end

function M.phone(prefix, n)
  if #prefix ~= 4 or tid == nil or tid > 9 or n > 999999 then
    error("bench/http: phone numbers exhausted (prefix " .. prefix .. ", thread " ..
          tostring(tid) .. ", n " .. n .. ")")
  end
  return string.format("%s%d%06d", prefix, tid, n)
end

function M.count(key)
  local k = "n_" .. key
  _G[k] = (_G[k] or 0) + 1
end

function M.done(keys)
  return function(summary, latency, requests)
    local parts = {}
    for _, key in ipairs(keys) do
      local sum = 0
      for _, t in ipairs(threads) do sum = sum + (t:get("n_" .. key) or 0) end
      parts[#parts + 1] = key .. "=" .. sum
    end
    io.write("fv-counts: " .. table.concat(parts, " ") .. "\n")
  end
end

return M
