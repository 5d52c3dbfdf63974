-- Platformatic DB: GET a page of 50 projects of one chain, in id order, like list_projects.lua.
-- Set CHAIN_ID. With TOTAL unset or 1 the request asks for the total count too
-- (totalCount=true: a second query, answered in the X-Total-Count header), the same work as
-- chaindb's {count, ...} page; TOTAL=0 leaves it out. PREFIX (default empty) goes before /project/.
local chain = os.getenv("CHAIN_ID")
local prefix = os.getenv("PREFIX") or ""
local total = os.getenv("TOTAL")
local path = prefix .. "/project/?where.chainId.eq=" .. chain .. "&limit=50&orderby.id=asc"
if total ~= "0" then path = path .. "&totalCount=true" end
request = function()
  return wrk.format("GET", path)
end
