-- Platformatic DB: POST a new supply link each time, like create_link.lua (a distinct product
-- per request keeps every link new; the supplier cycles through FIRST_SUPPLIER .. +4999,
-- skipping BUYER_ID). Set BUYER_ID (a chain master of CHAIN_ID), CHAIN_ID, FIRST_SUPPLIER.
-- Platformatic requires every NOT NULL column without looking at column defaults, so the body
-- carries status and verified (the values chaindb's defaults give); it fills createdAt and
-- updatedAt itself. PREFIX (default empty) goes before /supplyLink/.
local prefix = os.getenv("PREFIX") or ""
local buyer = os.getenv("BUYER_ID")
local chain = os.getenv("CHAIN_ID")
local first_supplier = tonumber(os.getenv("FIRST_SUPPLIER"))
local counter = 0
-- Each thread gets its own tag (a global set by setup), and each run its own start time.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_tag", os.time() .. "-" .. threads)
end
request = function()
  counter = counter + 1
  local product = "bench-plt-" .. thread_tag .. "-" .. counter
  local supplier = first_supplier + (counter % 5000)
  if tostring(supplier) == buyer then supplier = supplier + 5000 end
  local headers = { ["Content-Type"] = "application/json" }
  local body = string.format(
    '{"buyerId": %s, "chainId": %s, "supplierId": %d, "product": "%s", "annualValueCny10K": 120.5, '
      .. '"since": "2026-01-01", "status": "active", "verified": false}',
    buyer, chain, supplier, product)
  return wrk.format("POST", prefix .. "/supplyLink/", headers, body)
end
