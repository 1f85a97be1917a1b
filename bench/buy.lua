-- wrk script of bench/buy.pl: every request buys a number never bought
-- before (a second purchase of one would be 409), +1415 and 7 digits made of
-- the thread's id and a counter.  Arguments after "--": the API key, and a
-- base added to every number so that several runs on one store never meet.
--
--   wrk -t2 -c200 -d10s --latency -s bench/buy.lua URL -- KEY [BASE]

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "statuses.lua")

function init(args)
    key = args[1]
    base = tonumber(args[2] or "0")
    counter = 0
    statuses = {}
    path = "/api/v1/phone-numbers/buy"
    headers = {
        ["X-Api-Key"] = key,
        ["Content-Type"] = "application/json",
    }
end

function request()
    counter = counter + 1
    if counter >= 1000000 then
        error("more than a million buys in one thread")
    end
    local n = base + id * 1000000 + counter
    local body = string.format('{"phone_number":"+1415%07d","price":1.15}', n)
    return wrk.format("POST", path, headers, body)
end
