-- wrk script: GET /api/v1/stores?limit=50 as an admin (every store is visible).
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("STOREPLANE_TOKEN")
end

function request()
  return wrk.format("GET", "/api/v1/stores?limit=50")
end
