-- wrk script of bench/webhook.pl: the same signed voice webhook again and
-- again.  Arguments after "--": the form body and its X-Twilio-Signature.

function init(args)
    body = args[1]
    headers = {
        ["X-Twilio-Signature"] = args[2],
        ["Content-Type"] = "application/x-www-form-urlencoded",
    }
end

function request()
    return wrk.format("POST", "/twilio/voice", headers, body)
end
