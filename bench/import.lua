-- wrk script of bench/import.pl: every request imports a number never
-- imported before, +1 212 and 7 digits made of the thread's id and a
-- counter, so that no import is refused as taken.  Arguments after "--":
-- the API key, and a base added to every number so that several runs on
-- one store never meet.
--
--   wrk -t2 -c32 -d10s -s bench/import.lua URL -- KEY [BASE]
--
-- The client shares the machine with the server it measures, so it spends
-- as little CPU a request as it can, as wrk's SCRIPTING advises: the
-- request line and headers are built once, and the answers go unread
-- (with response() defined, wrk parses every answer's headers and body
-- into Lua: 1.8 us of the client's CPU a request, 10% of it).
-- import.pl checks wrk's own count of answers other than 2xx instead, and
-- that every answered import was stored.

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk.lua")

local shared_init = init

function init(args)
    shared_init(args)

    -- wrk.format() ends the headers with an empty line; the body's
    -- Content-Length goes before it

    head = wrk.format("POST", "/api/v1/phone-numbers/import", headers)
    head = head:sub(1, -3)

    response = nil
end

function request()
    local n = fresh()
    local body = string.format('{"phone_number":"+1212%07d",'
                               .. '"friendly_name":"Line %d",'
                               .. '"sip_username":"trunk-%d",'
                               .. '"sip_password":"secret-%d"}', n, n, n, n)
    return head .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
end
