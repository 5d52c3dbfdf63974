-- GET one project, cycling through ids FIRST_ID .. FIRST_ID + 9999.
local first = tonumber(os.getenv("FIRST_ID"))
local prefix = os.getenv("PREFIX")
local token = os.getenv("TOKEN")
local n = 0
request = function()
  n = n + 1
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", prefix .. "/" .. (first + (n % 10000)), headers)
end
