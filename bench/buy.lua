-- wrk script of bench/buy.pl: every request buys a number never bought
-- before (a second purchase of one would be 409), +1415 and 7 digits made of
-- the thread's id and a counter.  Arguments after "--": the API key, and a
-- base added to every number so that several runs on one store never meet.
--
--   wrk -t2 -c200 -d10s --latency -s bench/buy.lua URL -- KEY [BASE]

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk.lua")

function request()
    local n = fresh()
    local body = string.format('{"phone_number":"+1415%07d","price":1.15}', n)
    return wrk.format("POST", "/api/v1/phone-numbers/buy", headers, body)
end
