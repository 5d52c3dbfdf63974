-- POST a stage move: each wrk thread moves its own STAGE_COUNT projects (ids from
-- FIRST_STAGE_ID on, thread after thread), one after another, to signed and back to
-- negotiating on its next pass (with a reason, as a move back needs one). Every move is a real
-- change; no two requests in flight touch one project (a pass is STAGE_COUNT requests long).
-- The projects start at negotiating (bench/api_load.py resets them before each run).
local prefix = os.getenv("PREFIX")
local token = os.getenv("TOKEN")
local first = tonumber(os.getenv("FIRST_STAGE_ID"))
local count = tonumber(os.getenv("STAGE_COUNT"))
local day = os.getenv("DAY")
local threads = 0
setup = function(thread)
  thread:set("base", first + threads * count)
  threads = threads + 1
end
local n = 0
-- wrk calls request() once on the first thread to check the script's request, and never sends
-- that one: a move counted but not sent left its project behind, and its move back a pass later
-- was refused (409, "already at stage negotiating"). The first call of each thread is a health
-- check, the same on every thread whether sent or not.
local checked = false
request = function()
  if not checked then
    checked = true
    return wrk.format("GET", "/healthz")
  end
  local project = base + (n % count)
  local stage = "negotiating"
  if math.floor(n / count) % 2 == 0 then stage = "signed" end
  n = n + 1
  local headers = { ["Content-Type"] = "application/json" }
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  local body = string.format('{"stage": "%s", "date": "%s", "reason": "bench"}', stage, day)
  return wrk.format("POST", prefix .. "/" .. project .. "/stage", headers, body)
end
