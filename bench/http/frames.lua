-- bench/http/frames.lua: wrk script for POST /api/v1/liveness/:id/frames (docs/api/kiosk.md):
-- the same camera frame, a still image read from FV_IMAGE (never copied anywhere), sent over and
-- over to the liveness checks FV_LIVENESS_IDS (comma-separated; started by run.sh under one
-- consent, all owned by the login of FV_SESSION), round-robin, thread t starting at the t-th id.
-- A still photo never passes the check (it needs a blink or a head turn): after its first
-- usable frontal frame a check waits in the "action" stage, and every frame is analysed in full
-- (decode, detection, landmarks, quality, anti-spoof model, embedding). At most 600 frames per
-- check (run.sh starts enough of them for the run).
-- Environment: FV_SESSION, FV_CSRF, FV_LIVENESS_IDS, FV_IMAGE, FV_IMAGE_TYPE (default
-- image/jpeg). Counts: usable (a face that passed every gate), face (found, not usable),
-- no_face, http_error (not 200).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local fv = require("common")

local reqs = {}
local i = 0

setup = fv.setup

function init(args)
  local f = assert(io.open(fv.env("FV_IMAGE"), "rb"))
  local image = f:read("*a")
  f:close()
  local headers = {
    ["Cookie"] = "fv_session=" .. fv.env("FV_SESSION"),
    ["X-CSRF-Token"] = fv.env("FV_CSRF"),
    ["Content-Type"] = fv.env("FV_IMAGE_TYPE", "image/jpeg"),
  }
  for id in fv.env("FV_LIVENESS_IDS"):gmatch("[0-9a-f]+") do
    reqs[#reqs + 1] = wrk.format("POST", "/api/v1/liveness/" .. id .. "/frames", headers, image)
  end
  if #reqs == 0 then error("FV_LIVENESS_IDS holds no id") end
  i = (tid or 1) - 1
end

function request()
  i = i + 1
  return reqs[(i - 1) % #reqs + 1]
end

function response(status, headers, body)
  if status ~= 200 then
    fv.count("http_error")
  elseif body:find('"usable": true', 1, true) then
    fv.count("usable")
  elseif body:find('"face": true', 1, true) then
    fv.count("face")
  else
    fv.count("no_face")
  end
end

done = fv.done({"usable", "face", "no_face", "http_error"})
