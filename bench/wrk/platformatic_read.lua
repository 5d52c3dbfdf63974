-- Platformatic DB: GET one project, cycling through ids FIRST_ID .. FIRST_ID + 9999 like
-- read_project.lua. PREFIX (default empty) goes before /project/.
local first = tonumber(os.getenv("FIRST_ID"))
local prefix = os.getenv("PREFIX") or ""
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", prefix .. "/project/" .. (first + (n % 10000)))
end
