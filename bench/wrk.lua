-- what bench/buy.lua and bench/import.lua share.  Arguments after "--":
-- the API key, and a base added to every number so that several runs on
-- one store never meet.  Threads number themselves in "id", and each
-- request gets a number never used before from fresh(); each thread counts
-- the statuses it got, and the summary is one line the Perl side parses,
-- "statuses: 201=9876 409=2".

local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

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

-- 7 digits made of the thread's id and a counter
function fresh()
    counter = counter + 1
    if counter >= 1000000 then
        error("more than a million requests in one thread")
    end
    return base + id * 1000000 + counter
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        for s, c in pairs(t:get("statuses")) do
            total[s] = (total[s] or 0) + c
        end
    end
    local out = {}
    for s, c in pairs(total) do
        table.insert(out, s .. "=" .. c)
    end
    table.sort(out)
    io.write("statuses: " .. table.concat(out, " ") .. "\n")
end
