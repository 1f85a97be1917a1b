# Twilio, own account: connect, search, buy, add and release through a
# fake Twilio that logs exactly what the module sent.

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
no_shuffle();
run_tests();

__DATA__

=== TEST 1: connecting checks the credentials live and keeps the token secret
--- http_config eval: ::twilio_config($::ACCOUNT)
--- request eval
[
    ::workspace(1),
    ::connect_twilio(),
    "GET /api/v1/telephony/providers",
    ::connect_twilio(),
]
--- error_code eval
[201, 201, 200, 409]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":true,"message":"Twilio account connected","data":\{"id":"prv_[0-9a-f]{16}","type":"twilio_own","friendly_name":"Main","account_sid":"AC0123456789abcdef0123456789abcdef","status":"active","created_at":"[^"]+"\}\}$',
    '^\{"success":true,"message":"Telephony providers","data":\[\{"id":"prv_[0-9a-f]{16}","type":"twilio_own",[^\]]*\}\]\}$',
    '"code":"provider_exists"',
]
--- error_log eval
[qr/twilio: GET \/2010-04-01\/Accounts\/AC0123456789abcdef0123456789abcdef\.json\?- body=- auth=\Q$::AUTH\E key=- ct=application\/x-www-form-urlencoded/]
--- no_error_log
f00dface
[alert]



=== TEST 2: wrong credentials are 422 provider_auth_failed and store nothing
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
[201, 422, 200, 400, 400]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"the carrier refused the credentials","error":\{"code":"provider_auth_failed"\}\}$',
    '"data":\[\]',
    '"field":"mode"',
    '"field":"account_sid"',
]



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
--- request eval
[
    ::workspace(1),
    "GET /api/v1/phone-numbers/available?iso_country=US",
    ::connect_twilio(),
    "GET /api/v1/phone-numbers/available?iso_country=us&area_code=415&contains=**55*&voice_enabled=true&limit=5",
    "GET /api/v1/phone-numbers/available?iso_country=US&type=toll_free",
    "GET /api/v1/phone-numbers/available?iso_country=GB&type=mobile",
    "GET /api/v1/phone-numbers/available",
    "GET /api/v1/phone-numbers/available?iso_country=US&type=landline",
    "GET /api/v1/phone-numbers/available?iso_country=US&limit=51",
    "GET /api/v1/phone-numbers/available?iso_country=US&area_code=4a5",
]
--- error_code eval
[201, 409, 201, 200, 200, 422, 400, 400, 400, 400]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"connect a Twilio account first","error":\{"code":"provider_not_configured"\}\}$',
    '"success":true',
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
