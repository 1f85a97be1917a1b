-- wrk script of bench/import.pl: every request imports a number never
-- imported before, +1 212 and 7 digits made of the thread's id and a
-- counter, so that no import is refused as taken.  Arguments after "--":
-- the API key, and a base added to every number so that several runs on
-- one store never meet.
--
--   wrk -t2 -c32 -d10s -s bench/import.lua URL -- KEY [BASE]

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "statuses.lua")

function init(args)
    key = args[1]
    base = tonumber(args[2] or "0")
    counter = 0
    statuses = {}
    headers = {
        ["X-Api-Key"] = key,
        ["Content-Type"] = "application/json",
    }
end

function request()
    counter = counter + 1
    if counter >= 1000000 then
        error("more than a million imports in one thread")
    end
    local n = base + id * 1000000 + counter
    local body = string.format('{"phone_number":"+1212%07d",'
                               .. '"friendly_name":"Line %d",'
                               .. '"sip_username":"trunk-%d",'
                               .. '"sip_password":"secret-%d"}', n, n, n, n)
    return wrk.format("POST", "/api/v1/phone-numbers/import", headers, body)
end
