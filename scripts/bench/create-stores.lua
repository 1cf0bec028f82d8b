-- wrk script: POST /api/v1/stores with a unique store name per request.
-- Each wrk thread gets its own prefix so names never collide across threads.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("prefix", "t" .. counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("STOREPLANE_TOKEN")
end

function request()
  n = n + 1
  local body = string.format('{"name":"%s-%d","engine":"woocommerce","plan":"small"}', prefix, n)
  return wrk.format(nil, "/api/v1/stores", nil, body)
end

function response(status, headers, body)
  if status ~= 202 then
    errors = (errors or 0) + 1
  end
end
