-- wrk script of bench/renew.pl: every request records a top-up with a
-- reference never used before, one ledger entry each.  Arguments after
-- "--": the workspace id, and a base for the references.
--
--   wrk -t2 -c32 -d5s -s bench/topup.lua URL -- WS [BASE]

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk.lua")

function request()
    local body = string.format('{"amount":1,"reference":"ref-%d"}', fresh())
    return wrk.format("POST", "/admin/v1/workspaces/" .. key .. "/credits",
                      headers, body)
end
