-- wrk script of the benchmark (bench/__main__.py writes the request files).
--
--   wrk ... -s bench/wrk/requests.lua http://127.0.0.1:PORT -- REQUEST_FILE TOKEN EXPECT
--
-- REQUEST_FILE, first line = mode:
--   "random": then lines METHOD<TAB>PATH<TAB>BODY; each request is a random line (pre-formatted
--             once in init, so the generator spends no CPU building requests).
--   "cas":    then one template line METHOD<TAB>PATH<TAB>BODY containing __ID__ (global id),
--             __UUID__ and __QTY__, then lines GLOBAL_ID<TAB>UUID<TAB>QUANTITY. Items are used in
--             order; after the last one the list starts over with expected quantity + 1 (every
--             request adds 1 unit), so compare-and-swap conflicts only happen after a failure.
-- TOKEN: bearer token, or "-" for none. EXPECT: text every good response contains, or "-".
--
-- Every response is checked: non-2xx, GraphQL `errors`, missing EXPECT text (all errors), and
-- ConflictError payloads (counted apart). done() prints one line "BENCH_JSON {...}".

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- per-thread state (globals, so that done() can read them with thread:get)
non2xx, gql_errors, unexpected, conflicts, bad_request, responses = 0, 0, 0, 0, 0, 0
local mode, reqs, n = nil, {}, 0
local method, path_t, body_t
local gids, uuids, qtys = {}, {}, {}
local index, pass = 0, 0
local headers = {}
local expect = nil

local function split(line)
   local a, b, c = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
   return a, b, c
end

function init(args)
   local file, token = args[1], args[2]
   if args[3] and args[3] ~= "-" then expect = args[3] end
   headers["Content-Type"] = "application/json"
   if token and token ~= "-" then headers["Authorization"] = "Bearer " .. token end
   local lines = io.lines(file)
   mode = lines()
   if mode == "cas" then
      method, path_t, body_t = split(lines())
      for line in lines do
         local g, u, q = split(line)
         n = n + 1
         gids[n], uuids[n], qtys[n] = g, u, tonumber(q)
      end
   else
      for line in lines do
         local m, p, b = split(line)
         if b == "" then b = nil end
         n = n + 1
         reqs[n] = wrk.format(m, p, headers, b)
      end
   end
   math.randomseed(os.time() + n)
end

function request()
   if mode == "cas" then
      index = index + 1
      if index > n then
         index, pass = 1, pass + 1
      end
      local qty = tostring(qtys[index] + pass)
      local path = path_t:gsub("__UUID__", uuids[index])
      local body = body_t:gsub("__ID__", gids[index]):gsub("__QTY__", qty)
      return wrk.format(method, path, headers, body)
   end
   return reqs[math.random(n)]
end

function response(status, hdrs, body)
   responses = responses + 1
   local bad = false
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      bad = true
   end
   if body then
      if body:find('"errors"', 1, true) then
         gql_errors = gql_errors + 1
         bad = true
         if body:find("BAD_REQUEST", 1, true) then bad_request = bad_request + 1 end
      end
      if body:find("ConflictError", 1, true) then
         conflicts = conflicts + 1
         return
      end
   end
   if not bad and expect and not (body and body:find(expect, 1, true)) then
      unexpected = unexpected + 1
   end
end

function done(summary, latency, requests)
   local t = {non2xx = 0, gql_errors = 0, unexpected = 0, conflicts = 0, bad_request = 0, responses = 0}
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
   end
   local e = summary.errors
   local f = math.floor
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
      '"write_errors":%d,"status_errors":%d,"timeouts":%d,"mean_us":%d,"max_us":%d,"p50_us":%d,"p90_us":%d,' ..
      '"p99_us":%d,"non2xx":%d,"gql_errors":%d,"unexpected":%d,"conflicts":%d,"bad_request":%d,"checked":%d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      f(latency.mean), f(latency.max), f(latency:percentile(50)), f(latency:percentile(90)),
      f(latency:percentile(99)), t.non2xx, t.gql_errors, t.unexpected, t.conflicts, t.bad_request, t.responses))
end
