-- POST a new supply link each time: a distinct product per request keeps every link new.
local prefix = os.getenv("PREFIX")
local token = os.getenv("TOKEN")
local body_kind = os.getenv("BODY")  -- "api" or "baseline"
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
  local product = "bench-" .. thread_tag .. "-" .. counter
  local supplier = first_supplier + (counter % 5000)
  if tostring(supplier) == buyer then supplier = supplier + 5000 end
  local headers = { ["Content-Type"] = "application/json" }
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  local body
  if body_kind == "api" then
    body = string.format('{"chain": %s, "supplier": %d, "product": "%s", "annual_value_cny_10k": 120.5, "since": "2026-01-01"}', chain, supplier, product)
  else
    body = string.format('{"buyer": %s, "chain": %s, "supplier": %d, "product": "%s", "annual_value_cny_10k": 120.5, "since": "2026-01-01"}', buyer, chain, supplier, product)
  end
  return wrk.format("POST", prefix, headers, body)
end
