-- wrk script of bench/import.pl: every request imports a number never
-- imported before, +1 212 and 7 digits made of the thread's id and a
-- counter, so that no import is refused as taken.  Arguments after "--":
-- the API key, and a base added to every number so that several runs on
-- one store never meet.
--
--   wrk -t2 -c32 -d10s -s bench/import.lua URL -- KEY [BASE]

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk.lua")

function request()
    local n = fresh()
    local body = string.format('{"phone_number":"+1212%07d",'
                               .. '"friendly_name":"Line %d",'
                               .. '"sip_username":"trunk-%d",'
                               .. '"sip_password":"secret-%d"}', n, n, n, n)
    return wrk.format("POST", "/api/v1/phone-numbers/import", headers, body)
end
