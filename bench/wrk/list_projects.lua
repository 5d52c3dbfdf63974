-- GET a page of 50 projects of one chain. Set CHAIN_ID and PREFIX (path prefix) and TOKEN.
local chain = os.getenv("CHAIN_ID")
local prefix = os.getenv("PREFIX")
local token = os.getenv("TOKEN")
request = function()
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", prefix .. "?chain_id=" .. chain .. "&limit=50", headers)
end
