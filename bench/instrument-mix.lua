-- wrk script: the demo backend's request mix as `tetrad load` sends it
-- (crates/tetrad/src/commands/load/mix.rs), for bench/instrument.sh's `mix` measurement.
--
-- Same weights and the same smooth weighted round robin, so every cycle of 37 requests holds
-- each route exactly its weight's number of times; item ids cycle through 1..100 like the
-- load's (the multiples of 7 are the demo's 404s). `/slow` (weight 3 in the load) is left out:
-- it sleeps 0.5-2 s without using CPU, so with it in the mix wrk's throughput would be set by
-- how many of its connections are asleep, not by the server's work per request.
--
-- Usage: wrk -t1 -c256 -d5s -s bench/instrument-mix.lua http://127.0.0.1:PORT

local routes = {
  { path = "/", weight = 10 },
  { path = "/items/{id}", weight = 12 },
  { path = "/health", weight = 4 },
  { path = "/fail", weight = 5 },
  { path = "/error", weight = 4 },
  { path = "/panic", weight = 2 },
}
local item_ids = 100

-- One cycle of route indexes, built once: each route earns its weight, the richest (the first
-- on a tie) is picked and pays the whole cycle.
local cycle = {}
do
  local total, credit = 0, {}
  for i, route in ipairs(routes) do
    total = total + route.weight
    credit[i] = 0
  end
  for _ = 1, total do
    local pick = 1
    for i, route in ipairs(routes) do
      credit[i] = credit[i] + route.weight
      if credit[i] > credit[pick] then
        pick = i
      end
    end
    credit[pick] = credit[pick] - total
    cycle[#cycle + 1] = pick
  end
end

-- The requests, formatted once: one per fixed route, one per item id.
local fixed, items = {}, {}
local turn, next_item = 0, 0

function init(_)
  for i, route in ipairs(routes) do
    if route.path ~= "/items/{id}" then
      fixed[i] = wrk.format("GET", route.path)
    end
  end
  for id = 1, item_ids do
    items[id] = wrk.format("GET", "/items/" .. id)
  end
end

function request()
  turn = turn % #cycle + 1
  local pick = cycle[turn]
  if fixed[pick] then
    return fixed[pick]
  end
  next_item = next_item % item_ids + 1
  return items[next_item]
end
