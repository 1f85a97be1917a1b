# Twilio, own account: connect, search, buy, add and release through a
# fake Twilio that logs exactly what the module sent.  Test::Nginx checks
# --- error_log after every request of a block, so a block asserting a line
# makes the requests it needs first (workspace, account) in --- init.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

our $AUTH = 'Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpmMDBkZmFjZWYwMGRmYWNlZjAwZGZhY2VmMDBkZmFjZQ==';
our $ACCOUNT = <<'_EOC_';
        location = /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json {
            if ($http_authorization != "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpmMDBkZmFjZWYwMGRmYWNlZjAwZGZhY2VmMDBkZmFjZQ==") {
                return 401 '{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}';
            }
            return 200 '{"sid":"AC0123456789abcdef0123456789abcdef","friendly_name":"Main","status":"active"}';
        }
_EOC_

check_accum_error_log();
# any account SID connects; purchases answer as the block says
our $ANY_ACCOUNT = <<'_EOC_';
        location ~ ^/2010-04-01/Accounts/(AC[0-9a-f]+)\.json$ {
            return 200 '{"sid":"$1","status":"active"}';
        }
_EOC_

sub buy_fake {
    my ($answer) = @_;
    return $::ANY_ACCOUNT . <<"_EOC_";
        location ~ /IncomingPhoneNumbers\.json\$ {
            echo_read_request_body;
$answer
        }
_EOC_
}

our $BOUGHT = <<'_EOC_';
            echo_status 201;
            echo '{"sid":"PN$request_id","account_sid":"AC0123456789abcdef0123456789abcdef","phone_number":"+14155550100","capabilities":{"voice":true,"sms":true,"mms":false,"fax":false},"status":"in-use"}';
_EOC_

sub buy {
    my ($number, $extra) = @_;
    return "POST /api/v1/phone-numbers/buy\n"
        . qq({"phone_number":"$number","price":1.15) . ($extra || '') . '}';
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: connecting checks the credentials live and keeps the token secret
--- http_config eval: ::twilio_config($::ACCOUNT)
--- init
::prepare(::workspace(1));
--- request eval
[
    ::connect_twilio(),
    "GET /api/v1/telephony/providers",
    ::connect_twilio(),
]
--- error_code eval
[201, 200, 409]
--- response_body_like eval
[
    '^\{"success":true,"message":"Twilio account connected","data":\{"id":"prv_[0-9a-f]{16}","type":"twilio_own","friendly_name":"Main","account_sid":"AC0123456789abcdef0123456789abcdef","status":"active","created_at":"[^"]+"\}\}$',
    '^\{"success":true,"message":"Telephony providers","data":\[\{"id":"prv_[0-9a-f]{16}","type":"twilio_own",[^\]]*\}\]\}$',
    '"code":"provider_exists"',
]
--- error_log eval
[qr/twilio: GET \/2010-04-01\/Accounts\/AC0123456789abcdef0123456789abcdef\.json\?- body=- auth=\Q$::AUTH\E key=- ct=application\/x-www-form-urlencoded/]
--- no_error_log
f00dface
[alert]



=== TEST 2: wrong credentials are 422 provider_auth_failed and store nothing; managed without agnitel_twilio_managed is 409
--- http_config eval: ::twilio_config($::ACCOUNT)
--- request eval
[
    ::workspace(1),
    "POST /api/v1/telephony/providers/twilio\n"
    . qq({"mode":"own","friendly_name":"Main","account_sid":"$::SID","auth_token":"wrong"}),
    "GET /api/v1/telephony/providers",
    "POST /api/v1/telephony/providers/twilio\n"
    . qq({"mode":"managed","friendly_name":"Main"}),
    "POST /api/v1/telephony/providers/twilio\n"
    . qq({"mode":"own","friendly_name":"Main","account_sid":"AC12","auth_token":"x"}),
]
--- error_code eval
[201, 422, 200, 409, 400]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"the carrier refused the credentials","error":\{"code":"provider_auth_failed"\}\}$',
    '"data":\[\]',
    '"code":"provider_not_configured","field":"mode"',
    '"field":"account_sid"',
]



=== TEST 3a: no search before a Twilio account is connected
--- http_config eval: ::twilio_config($::ACCOUNT)
--- request eval
[::workspace(1), "GET /api/v1/phone-numbers/available?iso_country=US"]
--- error_code eval
[201, 409]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"connect a Twilio account first","error":\{"code":"provider_not_configured"\}\}$',
]
--- no_error_log
twilio: GET /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/AvailablePhoneNumbers
[alert]



=== TEST 3: search: the query Twilio gets, its quirks, the rate card
--- http_config eval
::twilio_config($::ACCOUNT . <<'_EOC_');
        location = /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/AvailablePhoneNumbers/US/Local.json {
            return 200 '{"available_phone_numbers":[{"friendly_name":"(415) 555-0100","phone_number":"+14155550100","lata":"722","locality":"San Francisco","rate_center":"SNFC","latitude":"37.780000","longitude":"-122.390000","region":"CA","postal_code":"94105","iso_country":"US","address_requirements":"none","beta":false,"capabilities":{"voice":true,"SMS":true,"MMS":false}},{"phone_number":"+14155550199","friendly_name":null,"capabilities":{"Voice":"true"}}],"uri":"/x"}';
        }
        location = /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/AvailablePhoneNumbers/US/TollFree.json {
            return 404 '{"code":21452,"message":"No phone numbers found","status":404}';
        }
        location = /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/AvailablePhoneNumbers/GB/Mobile.json {
            return 400 '{"code":21451,"message":"Invalid area code","status":400}';
        }
_EOC_
--- init
::prepare(::workspace(1), ::connect_twilio());
--- request eval
[
    "GET /api/v1/phone-numbers/available?iso_country=us&area_code=415&contains=**55*&voice_enabled=true&limit=5",
    "GET /api/v1/phone-numbers/available?iso_country=US&type=toll_free",
    "GET /api/v1/phone-numbers/available?iso_country=GB&type=mobile",
    "GET /api/v1/phone-numbers/available",
    "GET /api/v1/phone-numbers/available?iso_country=US&type=landline",
    "GET /api/v1/phone-numbers/available?iso_country=US&limit=51",
    "GET /api/v1/phone-numbers/available?iso_country=US&area_code=4a5",
]
--- error_code eval
[200, 200, 422, 400, 400, 400, 400]
--- response_body_like eval
[
    '^\{"success":true,"message":"Available phone numbers","data":\[\{"phone_number":"\+14155550100","friendly_name":"\(415\) 555-0100","iso_country":"US","region":"CA","locality":"San Francisco","postal_code":"94105","capabilities":\{"voice":true,"sms":true\},"address_requirements":"none","price":1.15,"per_minute_price_inbound":0.0085,"per_minute_price_outbound":0.0945,"currency":"USD"\},\{"phone_number":"\+14155550199","friendly_name":null,"iso_country":"US","region":null,"locality":null,"postal_code":null,"capabilities":\{"voice":true,"sms":false\},"address_requirements":null,"price":1.15,"per_minute_price_inbound":0.0085,"per_minute_price_outbound":0.0945,"currency":"USD"\}\],"meta":\{"total":2\}\}$',
    '"data":\[\],"meta":\{"total":0\}',
    '"code":"invalid_number"',
    '"field":"iso_country"',
    '"field":"type"',
    '"field":"limit"',
    '"field":"area_code"',
]
--- error_log eval
[qr/twilio: GET \/2010-04-01\/Accounts\/AC0123456789abcdef0123456789abcdef\/AvailablePhoneNumbers\/US\/Local\.json\?AreaCode=415&Contains=%2A%2A55%2A&VoiceEnabled=true&PageSize=5 body=- auth=\Q$::AUTH\E key=- ct=/]



=== TEST 3b: the operator's rate card prices search results and purchases
--- http_config eval
::twilio_config(::buy_fake($::BOUGHT) . q{
        location ~ /AvailablePhoneNumbers/CA/(Local|Mobile)\.json$ {
            return 200 '{"available_phone_numbers":[{"phone_number":"+14165550100","iso_country":"CA","capabilities":{"voice":true,"SMS":false}}]}';
        }
}, extra => 'agnitel_rate CA local 1.5 0.012 0.0975 CAD;
    agnitel_rate US local 2 0.01 0.1 USD;');
--- request eval
[
    ::workspace(1),
    ::connect_twilio(),
    "GET /api/v1/phone-numbers/available?iso_country=CA",
    "GET /api/v1/phone-numbers/available?iso_country=CA&type=mobile",
    "POST /api/v1/phone-numbers/buy\n" . '{"phone_number":"+14165550100","price":1.50}',
    ::buy('+14155550100'),
]
--- error_code eval
[201, 201, 200, 200, 201, 409]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '"phone_number":"\+14165550100","friendly_name":null,"iso_country":"CA",.*"capabilities":\{"voice":true,"sms":false\},"address_requirements":null,"price":1.5,"per_minute_price_inbound":0.012,"per_minute_price_outbound":0.0975,"currency":"CAD"',
    '"address_requirements":null,"price":null,"per_minute_price_inbound":null,"per_minute_price_outbound":null,"currency":null\}',
    '"price":1.5,"per_minute_price_inbound":0.012,"per_minute_price_outbound":0.0975,"currency":"CAD"',
    '"code":"price_changed","field":"price"',
]



=== TEST 4: a purchase: pending, then active with Twilio's SID; the form sent, VoiceUrl and StatusCallback included
--- http_config eval
::twilio_config(::buy_fake($::BOUGHT),
                voice_url => 'https://agents.example.com/inbound?x=1',
                extra => 'agnitel_status_url https://agents.example.com/status;');
--- init
::prepare(::workspace(1), ::connect_twilio());
--- request eval
[
    ::buy('+14155550100', ',"friendly_name":"Sales line","per_minute_price_inbound":0.0085'),
    "GET /api/v1/phone-numbers",
    ::buy('+14155550100'),
]
--- error_code eval
[201, 200, 409]
--- response_body_like eval
[
    '^\{"success":true,"message":"Phone number bought","data":\{"id":"pn_[0-9a-f]{16}","phone_number":"\+14155550100","friendly_name":"Sales line","provider":"twilio","provider_id":"prv_[0-9a-f]{16}","telephony_id":"PN[0-9a-f]{32}","iso_country":"US","capabilities":\{"voice":true,"sms":true\},"price":1.15,"per_minute_price_inbound":0.0085,"per_minute_price_outbound":0.0945,"currency":"USD","status":"active","is_active":true,"purchased_at":"[^"]+","renews_at":null,"inbound_trunk":null,"created_at":"[^"]+"\}\}$',
    '"meta":\{"total":1,',
    '"code":"number_already_exists"',
]
--- error_log eval
[qr/twilio: POST \/2010-04-01\/Accounts\/AC0123456789abcdef0123456789abcdef\/IncomingPhoneNumbers\.json\?- body=PhoneNumber=%2B14155550100&FriendlyName=Sales%20line&VoiceUrl=https%3A%2F%2Fagents\.example\.com%2Finbound%3Fx%3D1&StatusCallback=https%3A%2F%2Fagents\.example\.com%2Fstatus auth=\Q$::AUTH\E key=- ct=application\/x-www-form-urlencoded/,
 qr/workspace ws_[0-9a-f]{16} bought \+14155550100 as PN[0-9a-f]{32}/]



=== TEST 5: an Idempotency-Key replays the first answer without a second purchase
--- http_config eval: ::twilio_config(::buy_fake($::BOUGHT))
--- more_headers
X-Api-Key: agn_00000000000000000000000000000001
Content-Type: application/json
Idempotency-Key: order-7f3a
--- request eval
[
    ::workspace(1),
    ::connect_twilio(),
    ::buy('+14155550100'),
    ::buy('+14155550100'),
    ::buy('+14155550100', ',"friendly_name":"Other"'),
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 201, 201, 201, 422, 200]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '"message":"Phone number bought".*"telephony_id":"PN[0-9a-f]{32}"',
    '"message":"Phone number bought".*"telephony_id":"PN[0-9a-f]{32}"',
    '^\{"success":false,"message":"this Idempotency-Key was used with another request body","error":\{"code":"idempotency_mismatch"\}\}$',
    '"meta":\{"total":1,',
]



=== TEST 6: the price must be the rate card's; no carrier call otherwise
--- http_config eval: ::twilio_config(::buy_fake($::BOUGHT))
--- request eval
[
    ::workspace(1),
    ::buy('+14155550100'),
    ::connect_twilio(),
    "POST /api/v1/phone-numbers/buy\n" . '{"phone_number":"+14155550100","price":1.1}',
    ::buy('+14155550100', ',"per_minute_price_outbound":0.09'),
    "POST /api/v1/phone-numbers/buy\n" . '{"phone_number":"+14155550100","price":"1.15"}',
    "POST /api/v1/phone-numbers/buy\n" . '{"phone_number":"+14155550100"}',
    ::buy('+442071838750'),
    ::buy('4155550100'),
    "GET /api/v1/phone-numbers?status=pending",
]
--- error_code eval
[201, 409, 201, 409, 409, 400, 400, 422, 400, 200]
--- response_body_like eval
[
    '"success":true',
    '"code":"provider_not_configured"',
    '"success":true',
    '^\{"success":false,"message":"the price is not the current one: search again","error":\{"code":"price_changed","field":"price"\}\}$',
    '"code":"price_changed","field":"per_minute_price_outbound"',
    '"field":"price"',
    '"field":"price"',
    '"code":"invalid_number","field":"phone_number"',
    '"field":"phone_number"',
    '"meta":\{"total":0,',
]
--- no_error_log
twilio: POST
[alert]



=== TEST 7: Twilio 21422: 409 number_unavailable, and nothing is kept
--- http_config eval
::twilio_config(::buy_fake(q{            echo_status 400;
            echo '{"code":21422,"message":"PhoneNumber not available","status":400}';}));
--- request eval
[
    ::workspace(1),
    ::connect_twilio(),
    ::buy('+14155550100'),
    "GET /api/v1/phone-numbers?status=pending",
    "GET /api/v1/phone-numbers",
    ::import_number('+14155550100'),
]
--- error_code eval
[201, 201, 409, 200, 200, 201]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '^\{"success":false,"message":"the number is not available","error":\{"code":"number_unavailable"\}\}$',
    '"meta":\{"total":0,',
    '"meta":\{"total":0,',
    '"success":true',
]



=== TEST 8: Twilio 21421: 422 invalid_number
--- http_config eval
::twilio_config(::buy_fake(q{            echo_status 400;
            echo '{"code":21421,"message":"PhoneNumber is invalid","status":400}';}));
--- request eval
[::workspace(1), ::connect_twilio(), ::buy('+14155550100'), "GET /api/v1/phone-numbers"]
--- error_code eval
[201, 201, 422, 200]
--- response_body_like eval
['"success":true', '"success":true', '"code":"invalid_number"', '"meta":\{"total":0,']



=== TEST 8b: Twilio 21452 on a purchase: 409 number_unavailable
--- http_config eval
::twilio_config(::buy_fake(q{            echo_status 400;
            echo '{"code":21452,"message":"No phone numbers found","status":400}';}));
--- request eval
[::workspace(1), ::connect_twilio(), ::buy('+14155550100'), "GET /api/v1/phone-numbers?status=pending"]
--- error_code eval
[201, 201, 409, 200]
--- response_body_like eval
['"success":true', '"success":true', '"code":"number_unavailable"', '"meta":\{"total":0,']



=== TEST 9: a carrier that does not answer in time: 504, and the number stays pending
--- http_config eval
::twilio_config(::buy_fake(q{            echo_sleep 3;
            echo_status 201;
            echo '{"sid":"PN0123456789abcdef0123456789abcdef"}';}));
--- init
::prepare(::workspace(1), ::connect_twilio());
--- request eval
[
    ::buy('+14155550100'),
    "GET /api/v1/phone-numbers?status=pending",
    "GET /api/v1/phone-numbers/+14155550100",
    ::buy('+14155550100'),
    "DELETE /api/v1/phone-numbers/+14155550100/release",
]
--- error_code eval
[504, 200, 200, 409, 409]
--- response_body_like eval
[
    '^\{"success":false,"message":"the carrier did not answer in time","error":\{"code":"upstream_timeout"\}\}$',
    '"phone_number":"\+14155550100".*"status":"pending","is_active":false.*"meta":\{"total":1,',
    '"telephony_id":null.*"status":"pending"',
    '"code":"number_already_exists"',
    '^\{"success":false,"message":"the purchase of this number has no known outcome yet","error":\{"code":"number_pending","field":"phone_number"\}\}$',
]
--- error_log
the purchase of +14155550100 has no known outcome: it stays pending
--- timeout: 6



=== TEST 10: a carrier error (5xx) or a malformed answer: 502, the number stays pending
--- http_config eval
::twilio_config(::buy_fake(q{            echo_status 503;
            echo '<html>Service Unavailable</html>';}));
--- request eval
[::workspace(1), ::connect_twilio(), ::buy('+14155550100'), "GET /api/v1/phone-numbers?status=pending"]
--- error_code eval
[201, 201, 502, 200]
--- response_body_like eval
['"success":true', '"success":true', '"code":"upstream_error"', '"meta":\{"total":1,']



=== TEST 11: a 201 without a SID is not a purchase we can record: 502, pending
--- http_config eval
::twilio_config(::buy_fake(q{            echo_status 201;
            echo '{"status":"in-use"}';}));
--- request eval
[::workspace(1), ::connect_twilio(), ::buy('+14155550100'), "GET /api/v1/phone-numbers?status=pending"]
--- error_code eval
[201, 201, 502, 200]
--- response_body_like eval
['"success":true', '"success":true', '"message":"the carrier.s answer is malformed"', '"meta":\{"total":1,']



=== TEST 12: a carrier that cannot be reached: 502
--- config
    agnitel_twilio_api /_twilio/;
    location /_twilio/ {
        internal;
        proxy_pass http://127.0.0.1:9/;
        proxy_set_header Authorization $agnitel_upstream_authorization;
    }
    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
--- http_config eval: ::twilio_config('')
--- request eval
[::workspace(1), ::connect_twilio(), "GET /api/v1/telephony/providers"]
--- error_code eval
[201, 502, 200]
--- response_body_like eval
['"success":true', '^\{"success":false,"message":"the carrier could not be reached","error":\{"code":"upstream_error"\}\}$', '"data":\[\]']
--- no_error_log
[alert]



=== TEST 12b: no agnitel_twilio_api: a JSON 500 and a line for the operator
--- config
    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
--- http_config eval: ::twilio_config('')
--- init
::prepare(::workspace(1));
--- request eval
::connect_twilio()
--- error_code: 500
--- response_body_like eval
'^\{"success":false,"message":"internal error; nothing was saved","error":\{"code":"internal_error"\}\}$'
--- error_log
a carrier call needs "agnitel_twilio_api"



=== TEST 13: an answer larger than subrequest_output_buffer_size: 502
--- http_config eval
::twilio_config($::ACCOUNT . q{
        location ~ /AvailablePhoneNumbers/ {
            echo_duplicate 70000 'x';
        }
});
--- request eval
[::workspace(1), ::connect_twilio(), "GET /api/v1/phone-numbers/available?iso_country=US"]
--- error_code eval
[201, 201, 502]
--- response_body_like eval
['"success":true', '"success":true', '"code":"upstream_error"']
--- no_error_log
[alert]



=== TEST 14: add-twilio imports a number the account has, checked by its SID
--- http_config eval
::twilio_config($::ACCOUNT . q{
        location = /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/IncomingPhoneNumbers/PN11111111111111111111111111111111.json {
            return 200 '{"sid":"PN11111111111111111111111111111111","phone_number":"+14155550123","friendly_name":"Front desk","capabilities":{"voice":true,"sms":false}}';
        }
        location ~ /IncomingPhoneNumbers/ {
            return 404 '{"code":20404,"message":"The requested resource was not found","status":404}';
        }
});
--- request eval
[
    ::workspace(1),
    "POST /api/v1/phone-numbers/add-twilio\n" . '{"phone_number":"+14155550123","number_sid":"PN11111111111111111111111111111111"}',
    ::connect_twilio(),
    "POST /api/v1/phone-numbers/add-twilio\n" . '{"phone_number":"+14155550199","number_sid":"PN11111111111111111111111111111111"}',
    "POST /api/v1/phone-numbers/add-twilio\n" . '{"phone_number":"+14155550123","number_sid":"PN22222222222222222222222222222222"}',
    "POST /api/v1/phone-numbers/add-twilio\n" . '{"phone_number":"+14155550123","number_sid":"PN1"}',
    "POST /api/v1/phone-numbers/add-twilio\n" . '{"phone_number":"+14155550123","number_sid":"PN11111111111111111111111111111111"}',
    "POST /api/v1/phone-numbers/add-twilio\n" . '{"phone_number":"+14155550123","number_sid":"PN11111111111111111111111111111111"}',
]
--- error_code eval
[201, 409, 201, 422, 422, 400, 201, 409]
--- response_body_like eval
[
    '"success":true',
    '"code":"provider_not_configured"',
    '"success":true',
    '"code":"invalid_number","field":"phone_number"',
    '^\{"success":false,"message":"number_sid is not a number of the connected Twilio account","error":\{"code":"invalid_number","field":"number_sid"\}\}$',
    '"field":"number_sid"',
    '^\{"success":true,"message":"Twilio number added","data":\{"id":"pn_[0-9a-f]{16}","phone_number":"\+14155550123","friendly_name":"Front desk","provider":"twilio","provider_id":"prv_[0-9a-f]{16}","telephony_id":"PN11111111111111111111111111111111","iso_country":"US","capabilities":\{"voice":true,"sms":false\},"price":null,.*"status":"active","is_active":true',
    '"code":"number_already_exists"',
]



=== TEST 15: release deletes the number at Twilio; a provider in use cannot go
--- http_config eval
::twilio_config(::buy_fake($::BOUGHT) . q{
        location ~ ^/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/IncomingPhoneNumbers/PN[0-9a-f]+\.json$ {
            if ($request_method = DELETE) {
                return 204;
            }
            return 405;
        }
});
--- init
::prepare(::workspace(1), ::connect_twilio(), ::buy('+14155550100'));
--- request eval
[
    "DELETE /api/v1/phone-numbers/+14155550100/release",
    "DELETE /api/v1/telephony/providers/prv_0000000000000000",
    "GET /api/v1/phone-numbers?status=released",
]
--- error_code eval
[200, 404, 200]
--- response_body_like eval
[
    '"status":"released"',
    '"code":"not_found"',
    '"provider":"twilio".*"status":"released".*"meta":\{"total":1,',
]
--- error_log eval
[qr/twilio: DELETE \/2010-04-01\/Accounts\/AC0123456789abcdef0123456789abcdef\/IncomingPhoneNumbers\/PN[0-9a-f]{32}\.json\?- body=- auth=\Q$::AUTH\E/]



=== TEST 16: a number Twilio no longer has (404) is still released here
--- http_config eval
::twilio_config(::buy_fake($::BOUGHT) . q{
        location ~ /IncomingPhoneNumbers/ {
            return 404 '{"code":20404,"message":"not found","status":404}';
        }
});
--- request eval
[::workspace(1), ::connect_twilio(), ::buy('+14155550100'), "DELETE /api/v1/phone-numbers/+14155550100/release", "GET /api/v1/phone-numbers"]
--- error_code eval
[201, 201, 201, 200, 200]
--- response_body_like eval
['"success":true', '"success":true', '"success":true', '"status":"released"', '"meta":\{"total":0,']



=== TEST 17: a carrier 5xx on release keeps the number active; its provider stays
--- http_config eval
::twilio_config(::buy_fake($::BOUGHT) . q{
        location ~ /IncomingPhoneNumbers/ {
            return 500 '{"code":20500,"message":"Internal Server Error","status":500}';
        }
});
--- request eval
[
    ::workspace(1),
    ::connect_twilio(),
    ::buy('+14155550100'),
    "DELETE /api/v1/phone-numbers/+14155550100/release",
    "GET /api/v1/phone-numbers/+14155550100",
    "GET /api/v1/telephony/providers",
]
--- error_code eval
[201, 201, 201, 502, 200, 200]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '"success":true',
    '"code":"upstream_error"',
    '"status":"active","is_active":true',
    '"type":"twilio_own"',
]
