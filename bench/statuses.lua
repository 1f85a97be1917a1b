-- what bench/buy.lua and bench/import.lua share: each thread counts the
-- statuses it got, and the summary is one line the Perl side parses,
-- "statuses: 201=9876 409=2".  Threads number themselves in "id".

local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
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
