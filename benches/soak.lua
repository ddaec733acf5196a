-- Mixed traffic: valid requests, attacks (no token, forged token, other users' data,
-- mass assignment, bad logins) and, once the per-IP quota is spent, 429s.
local token = os.getenv("TOKEN") or error("set TOKEN to a bearer token of a demo user")
local reqs = {
  wrk.format("GET", "/api/health"),
  wrk.format("GET", "/api/users/me", { ["Authorization"] = "Bearer " .. token }),
  wrk.format("GET", "/api/orders", { ["Authorization"] = "Bearer " .. token }),
  wrk.format("GET", "/api/users/me"),
  wrk.format("GET", "/api/users/me", { ["Authorization"] = "Bearer " .. token .. "x" }),
  wrk.format("GET", "/api/users/00000000-0000-4000-8000-000000000000", { ["Authorization"] = "Bearer " .. token }),
  wrk.format("GET", "/api/admin/users", { ["Authorization"] = "Bearer " .. token }),
  wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" }, '{"email":"alice@example.com","password":"wrong"}'),
  wrk.format("PUT", "/api/users/x", { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, '{"role":"admin"}'),
  wrk.format("GET", "/no/such/route"),
}
local i = 0
request = function()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d, socket errors: connect %d read %d write %d timeout %d, non-2xx/3xx %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
end
