# agnitel_twilio_sandbox: Twilio's REST API (2010-04-01) as the module
# calls it, with Twilio's JSON shapes, error bodies and test-credential
# magic.  Each block starts nginx on an empty store (store_temp, which both
# Test::Nginx runners wipe before every start), so blocks do not depend on
# one another.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;
use MIME::Base64 qw(encode_base64);

# the directive's default account (src/ngx_http_agnitel_sandbox.h)
our $SID = 'AC00000000000000000000000000000000';
our $TOKEN = 'sandbox-auth-token';

sub headers {
    my ($user, $pass) = @_;
    $user = $SID unless defined $user;
    $pass = $TOKEN unless defined $pass;
    return 'Authorization: Basic ' . encode_base64("$user:$pass", '')
        . "\nContent-Type: application/x-www-form-urlencoded\n";
}

sub path { "/2010-04-01/Accounts/$SID" . $_[0] }

sub buy { "POST " . path('/IncomingPhoneNumbers.json') . "\n" . $_[0] }

# a page of exactly $n available numbers, then the rest of the answer
sub page {
    my ($n) = @_;
    my $item = '\{[^{}]*\{[^{}]*\}\}';
    return '^\{"available_phone_numbers":\['
        . join(',', ($item) x $n) . '\],"uri":"[^"]+"\}$';
}

sub twilio_error {
    my ($code, $status, $message) = @_;
    return '^\{"code":' . $code . ',"message":"' . $message
        . '","more_info":"https://www\.twilio\.com/docs/errors/' . $code
        . '","status":' . $status . '\}$';
}

our $PN = 'PN[0-9a-f]{32}';
our $DATE = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000';

no_shuffle();
run_tests();

# A bought number by its sid: blocks cannot carry the random sid from one
# request to the next, so this part drives its own nginx, on a port of its
# own: Test::Nginx leaves the last block's nginx running until the end.

if (!$ENV{TEST_NGINX_USE_VALGRIND}) {
    require Agnitel::Nginx;

    my $n = Agnitel::Nginx->new(name => 'sandbox');
    $n->write_file('secret.key', join '', map { chr(($_ * 11) % 256) } 1 .. 32);
    $n->write_config(<<'END', workers => 1);
    agnitel_store store;
    agnitel_secret_key_file secret.key;

    server {
        listen 127.0.0.1:$PORT;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }
END
    $n->start;

    my %auth = (Authorization => 'Basic ' . encode_base64("$SID:$TOKEN", ''),
                'Content-Type' => 'application/x-www-form-urlencoded');

    my ($status, $body) = $n->request(POST => path('/IncomingPhoneNumbers.json'),
        'PhoneNumber=%2B14155550123&FriendlyName=Sales', %auth);
    is($status, 201, 'epilogue: bought +14155550123');
    my ($sid) = $body =~ /"sid":"(PN[0-9a-f]{32})"/;
    ok($sid, 'epilogue: it has a PN sid');
    $sid ||= 'PN' . 'f' x 32;

    ($status, $body) = $n->request(GET => path("/IncomingPhoneNumbers/$sid.json"),
                                   undef, %auth);
    is($status, 200, 'epilogue: fetched by sid');
    like($body, qr/"friendly_name":"Sales","identity_sid":null,"origin":"twilio","phone_number":"\+14155550123","sid":"$sid"/,
         'epilogue: the stored number');

    ($status, $body) = $n->request(GET => path('/IncomingPhoneNumbers.json?PhoneNumber=%2B14155550123'),
                                   undef, %auth);
    like($body, qr/"incoming_phone_numbers":\[\{[^\[]*"sid":"$sid"/,
         'epilogue: listed by PhoneNumber');

    ($status, $body) = $n->request(DELETE => path("/IncomingPhoneNumbers/$sid.json"),
                                   undef, %auth);
    is($status, 204, 'epilogue: deleted');
    is($body // '', '', 'epilogue: 204 has no body');

    ($status, $body) = $n->request(GET => path("/IncomingPhoneNumbers/$sid.json"),
                                   undef, %auth);
    is($status, 404, 'epilogue: gone');
    like($body, qr/"code":20404/, 'epilogue: Twilio 20404');

    ($status, $body) = $n->request(DELETE => path("/IncomingPhoneNumbers/$sid.json"),
                                   undef, %auth);
    is($status, 404, 'epilogue: a second delete is 404');

    ($status, $body) = $n->request(GET => path('/AvailablePhoneNumbers/US/Local.json?AreaCode=415&Contains=0123'),
                                   undef, %auth);
    like($body, qr/"phone_number":"\+14155550123"/,
         'epilogue: offered again once deleted');

    ($status, $body) = $n->request(POST => path('/IncomingPhoneNumbers.json'),
        'PhoneNumber=%2B14155550123', %auth);
    is($status, 201, 'epilogue: and can be bought again');
    unlike($body, qr/"sid":"$sid"/, 'epilogue: under a new sid');

    unlike($n->error_log, qr/\Q$TOKEN\E|\[alert\]|\[emerg\]/,
           'epilogue: no credentials or alerts in the error log');

    $n->stop;
}

__DATA__

=== TEST 1: no credentials: 401 20003 with Twilio's Basic challenge
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
GET /2010-04-01/Accounts/AC00000000000000000000000000000000.json
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Twilio API"
Content-Type: application/json
--- response_body_like eval
::twilio_error(20003, 401, 'Authenticate')
--- error_log
agnitel sandbox: authentication failed



=== TEST 2: wrong, undecodable and non-Basic credentials are 401 20003
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- log_level: info
--- more_headers eval
[
    ::headers(undef, 'sandbox-auth-tokeN'),
    ::headers(undef, 'sandbox-auth-token-longer'),
    ::headers('AC11111111111111111111111111111111'),
    ::headers(''),
    "Authorization: Basic !!!not-base64!!!\n",
    "Authorization: Bearer sandbox-auth-token\n",
    'Authorization: Basic ' . MIME::Base64::encode_base64('AC00000000000000000000000000000000', '') . "\n",
    ::headers(),
]
--- error_code eval
[401, 401, 401, 401, 401, 401, 401, 200]
--- response_body_like eval
[ (::twilio_error(20003, 401, 'Authenticate')) x 7, '"status":"active"' ]
--- request eval
[ map { "GET " . ::path('.json') } 1 .. 8 ]
--- no_error_log
sandbox-auth-token
[error]
[alert]
[emerg]



=== TEST 3: the account; another account, unknown paths and methods
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
::headers()
--- request eval
[
    "GET " . ::path('.json'),
    "GET /2010-04-01/Accounts/AC11111111111111111111111111111111.json",
    "GET /2010-04-01/Accounts/AC11111111111111111111111111111111/IncomingPhoneNumbers/PN00000000000000000000000000000009.json",
    "GET " . ::path(''),
    "GET " . ::path('.json/'),
    "GET " . ::path('/Recordings.json'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Fancy.json'),
    "GET " . ::path('/AvailablePhoneNumbers/USA/Local.json'),
    "GET /2010-04-01/Usage.json",
    "POST " . ::path('.json') . "\nFriendlyName=x",
    "DELETE " . ::path('/AvailablePhoneNumbers/US/Local.json'),
    "PUT " . ::path('/IncomingPhoneNumbers.json'),
]
--- error_code eval
[200, 404, 404, 404, 404, 404, 404, 404, 404, 405, 405, 405]
--- response_body_like eval
[
    '^\{"date_created":"Wed, 01 Jan 2025 00:00:00 \+0000","date_updated":"Wed, 01 Jan 2025 00:00:00 \+0000","friendly_name":"agnitel sandbox","owner_account_sid":"AC00000000000000000000000000000000","sid":"AC00000000000000000000000000000000","status":"active","subresource_uris":\{"available_phone_numbers":"/2010-04-01/Accounts/AC00000000000000000000000000000000/AvailablePhoneNumbers\.json","incoming_phone_numbers":"/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers\.json"\},"type":"Full","uri":"/2010-04-01/Accounts/AC00000000000000000000000000000000\.json"\}$',
    ::twilio_error(20404, 404, 'The requested resource /2010-04-01/Accounts/AC11111111111111111111111111111111\.json was not found'),
    '"code":20404,',
    '"code":20404,',
    '"code":20404,',
    ::twilio_error(20404, 404, 'The requested resource /2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings\.json was not found'),
    '"code":20404,',
    '"code":20404,',
    '"code":20404,',
    ::twilio_error(20004, 405, 'Method not allowed'),
    ::twilio_error(20004, 405, 'Method not allowed'),
    ::twilio_error(20004, 405, 'Method not allowed'),
]
--- response_body_unlike eval
[ ('auth_token') x 12 ]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: 405 names the methods a resource takes
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
::headers()
--- request eval
"POST " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json') . "\nFriendlyName=x"
--- error_code: 405
--- response_headers
Allow: GET, DELETE
--- response_body_like eval
::twilio_error(20004, 405, 'Method not allowed')



=== TEST 5: a default US search: +15005550006 first, 20 numbers, Twilio's shape
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
::headers()
--- request eval
[
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=500&PageSize=3'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?PageSize=60'),
    "GET " . ::path('/AvailablePhoneNumbers/us/Local.json?PageSize=1'),
]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(500\) 555-0006","phone_number":"\+15005550006","lata":"722","locality":"San Francisco","rate_center":"SNFC CNTRL","latitude":"37\.790000","longitude":"-122\.400000","region":"CA","postal_code":"94105","iso_country":"US","address_requirements":"none","beta":false,"capabilities":\{"voice":true,"SMS":true,"MMS":true\}\},\{"friendly_name":"\(500\) 555-0100","phone_number":"\+15005550100",',
    ::page(20),
    '^\{"available_phone_numbers":\[\{[^{]*"phone_number":"\+15005550006".*"phone_number":"\+15005550100".*"phone_number":"\+15005550101".*\],"uri":"/2010-04-01/Accounts/AC00000000000000000000000000000000/AvailablePhoneNumbers/US/Local\.json\?AreaCode=500&PageSize=3"\}$',
    ::page(50),
    '"phone_number":"\+15005550006".*"iso_country":"US"',
]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: AreaCode, Contains with letters and wildcards, regions, capabilities
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
::headers()
--- request eval
[
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=415&PageSize=2'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=415&Contains=CALL'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=212&Contains=55*9*9&PageSize=2'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?Contains=jkl0106&PageSize=5'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?InRegion=NY&PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?InLocality=Chicago&InPostalCode=60601&PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=415&InRegion=NY'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=907&PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=533'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=12'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?Contains=5%2B5'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?PageSize=0'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?AreaCode=415&Contains=99999'),
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 400, 400, 400, 400, 200]
--- response_body_like eval
[
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(415\) 555-0100","phone_number":"\+14155550100","lata":"722","locality":"San Francisco",[^{]*\{[^}]*\}\},\{"friendly_name":"\(415\) 555-0101","phone_number":"\+14155550101",[^{]*\{[^}]*\}\}\],',
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(415\) 555-2255","phone_number":"\+14155552255",[^{]*\{[^}]*\}\}\],',
    '^\{"available_phone_numbers":\[\{[^{]*"phone_number":"\+12125550909",[^{]*\{[^}]*\}\},\{[^{]*"phone_number":"\+12125550919",[^{]*\{[^}]*\}\}\],',
    '^\{"available_phone_numbers":\[\{[^{]*"phone_number":"\+15005550106",[^{]*\{[^}]*\}\},\{[^{]*"phone_number":"\+14155550106",[^{]*\{[^}]*\}\},\{[^{]*"phone_number":"\+12125550106",[^{]*\{[^}]*\}\},\{[^{]*"phone_number":"\+13125550106",[^{]*\{[^}]*\}\},\{[^{]*"phone_number":"\+15125550106",',
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(212\) 555-0100","phone_number":"\+12125550100","lata":"132","locality":"New York","rate_center":"NWYRCYZN01","latitude":"40\.750000","longitude":"-73\.990000","region":"NY","postal_code":"10001",',
    '^\{"available_phone_numbers":\[\{[^{]*"phone_number":"\+13125550100",[^{]*"locality":"Chicago"',
    '^\{"available_phone_numbers":\[\],"uri":"[^"]+InRegion=NY"\}$',
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(907\) 555-0100","phone_number":"\+19075550100","lata":null,"locality":null,"rate_center":null,"latitude":null,"longitude":null,"region":null,"postal_code":null,"iso_country":"US",',
    ::twilio_error(21452, 400, 'No phone numbers found'),
    ::twilio_error(21451, 400, 'Invalid area code'),
    '"code":21421,',
    '"code":20001,',
    '^\{"available_phone_numbers":\[\],',
]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: toll-free, Canada, Britain, and countries without numbers
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
::headers()
--- request eval
[
    "GET " . ::path('/AvailablePhoneNumbers/US/TollFree.json?PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/US/TollFree.json?AreaCode=888&PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/US/TollFree.json?AreaCode=415'),
    "GET " . ::path('/AvailablePhoneNumbers/US/TollFree.json?SmsEnabled=true&MmsEnabled=true'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Mobile.json'),
    "GET " . ::path('/AvailablePhoneNumbers/CA/Local.json?AreaCode=604&PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/GB/Local.json?PageSize=1&VoiceEnabled=true'),
    "GET " . ::path('/AvailablePhoneNumbers/GB/Local.json?SmsEnabled=true'),
    "GET " . ::path('/AvailablePhoneNumbers/GB/Mobile.json?PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/GB/Local.json?AreaCode=533&InLocality=manchester&PageSize=1'),
    "GET " . ::path('/AvailablePhoneNumbers/FR/Local.json'),
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(800\) 555-0100","phone_number":"\+18005550100","lata":null,"locality":null,"rate_center":null,"latitude":null,"longitude":null,"region":null,"postal_code":null,"iso_country":"US","address_requirements":"none","beta":false,"capabilities":\{"voice":true,"SMS":true,"MMS":false\}\}\],',
    '"phone_number":"\+18885550100"',
    '^\{"available_phone_numbers":\[\],',
    '^\{"available_phone_numbers":\[\],',
    '^\{"available_phone_numbers":\[\],',
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(604\) 555-0100","phone_number":"\+16045550100","lata":null,"locality":"Vancouver","rate_center":"VANCOUVER","latitude":"49\.280000","longitude":"-123\.120000","region":"BC","postal_code":"V6B","iso_country":"CA",',
    '^\{"available_phone_numbers":\[\{"friendly_name":"\+442079460100","phone_number":"\+442079460100",[^{]*"locality":"London",[^{]*"iso_country":"GB",[^{]*"capabilities":\{"voice":true,"SMS":false,"MMS":false\}\}\],',
    '^\{"available_phone_numbers":\[\],',
    '"phone_number":"\+447700900100",[^{]*"iso_country":"GB",[^{]*"capabilities":\{"voice":true,"SMS":true,"MMS":false\}',
    '"phone_number":"\+441614960100",[^{]*"locality":"Manchester"',
    '^\{"available_phone_numbers":\[\],"uri":"/2010-04-01/Accounts/AC00000000000000000000000000000000/AvailablePhoneNumbers/FR/Local\.json"\}$',
]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: buying: Twilio's shape, magic numbers, a second buy, no longer offered; the URLs Twilio calls are kept
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
::headers()
--- request eval
[
    ::buy('PhoneNumber=%2B15005550006&FriendlyName=Support+line&VoiceUrl=https%3A%2F%2Fagents.example.com%2Fvoice%3Fa%3D1%26b%3D2&StatusCallback=https%3A%2F%2Fagents.example.com%2Fstatus'),
    ::buy('PhoneNumber=%2B15005550006'),
    ::buy('PhoneNumber=%2B15005550000'),
    ::buy('PhoneNumber=%2B15005550001'),
    ::buy('PhoneNumber=%2B1500'),
    ::buy('PhoneNumber=+15005550002'),
    ::buy('FriendlyName=No+number'),
    "POST " . ::path('/IncomingPhoneNumbers.json'),
    ::buy('PhoneNumber=%2B15005550003&VoiceUrl=ftp%3A%2F%2Fx'),
    ::buy('PhoneNumber=%2B15005550003&StatusCallback=javascript%3Ax'),
    ::buy('PhoneNumber=%2B15005550003&FriendlyName=' . ('x' x 65)),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?PageSize=1'),
    ::buy('Unknown=1&PhoneNumber=%2B15005550100&PhoneNumber=%2B15005550101'),
    "GET " . ::path('/AvailablePhoneNumbers/US/Local.json?PageSize=1'),
    ::buy('PhoneNumber=%2B447700900100'),
    "GET " . ::path('/AvailablePhoneNumbers/GB/Mobile.json?PageSize=1'),
    ::buy('PhoneNumber=%2B18005550100&FriendlyName=%C3%89t%C3%A9+line'),
    "GET " . ::path('/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550006'),
]
--- error_code eval
[201, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 200, 201, 200, 201, 200, 201, 200]
--- response_body_like eval
[
    '^\{"account_sid":"AC00000000000000000000000000000000","address_requirements":"none","address_sid":null,"api_version":"2010-04-01","beta":false,"capabilities":\{"voice":true,"sms":true,"mms":true,"fax":false\},"date_created":"' . $::DATE . '","date_updated":"' . $::DATE . '","emergency_status":"Inactive","emergency_address_sid":null,"emergency_address_status":"unregistered","friendly_name":"Support line","identity_sid":null,"origin":"twilio","phone_number":"\+15005550006","sid":"' . $::PN . '","sms_application_sid":null,"sms_fallback_method":"POST","sms_fallback_url":null,"sms_method":"POST","sms_url":null,"status_callback":"https://agents\.example\.com/status","status_callback_method":"POST","trunk_sid":null,"uri":"/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers/' . $::PN . '\.json","voice_application_sid":null,"voice_caller_id_lookup":false,"voice_fallback_method":"POST","voice_fallback_url":null,"voice_method":"POST","voice_url":"https://agents\.example\.com/voice\?a=1&b=2","voice_receive_mode":"voice","status":"in-use","bundle_sid":null,"subresource_uris":\{"assigned_add_ons":"/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers/' . $::PN . '/AssignedAddOns\.json"\},"type":"local"\}$',
    ::twilio_error(21422, 400, 'PhoneNumber not available'),
    ::twilio_error(21422, 400, 'PhoneNumber not available'),
    ::twilio_error(21421, 400, 'PhoneNumber is invalid'),
    ::twilio_error(21421, 400, 'PhoneNumber is invalid'),
    ::twilio_error(21421, 400, 'PhoneNumber is invalid'),
    ::twilio_error(21421, 400, 'PhoneNumber is required'),
    ::twilio_error(21421, 400, 'PhoneNumber is required'),
    '"code":21402,',
    '"code":21609,"message":"StatusCallback is not a valid URL"',
    '"code":20001,',
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(500\) 555-0100","phone_number":"\+15005550100",',
    '"friendly_name":"\(500\) 555-0100",.*"phone_number":"\+15005550100",.*"voice_url":null,',
    '^\{"available_phone_numbers":\[\{"friendly_name":"\(500\) 555-0101","phone_number":"\+15005550101",',
    '"friendly_name":"\+447700900100",.*"phone_number":"\+447700900100",.*"type":"mobile"\}$',
    '"phone_number":"\+447700900101"',
    '"friendly_name":"\x{c3}\x{89}t\x{c3}\x{a9} line",.*"phone_number":"\+18005550100",.*"type":"tollfree"\}$',
    '^\{"end":0,"first_page_uri":"[^"]+","incoming_phone_numbers":\[\{"account_sid":"AC00000000000000000000000000000000",[^\[]*"friendly_name":"Support line",[^\[]*"phone_number":"\+15005550006",[^\[]*\}\],"next_page_uri":null,"page":0,"page_size":50,"previous_page_uri":null,"start":0,"uri":"[^"]+"\}$',
]
--- no_error_log
[alert]
[emerg]



=== TEST 9: the pre-owned +15005550009: fetch, list, delete, buy again
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
::headers()
--- request eval
[
    "GET " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json'),
    "GET " . ::path('/IncomingPhoneNumbers/PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json'),
    "GET " . ::path('/IncomingPhoneNumbers/PN123.json'),
    ::buy('PhoneNumber=%2B15005550009'),
    "GET " . ::path('/IncomingPhoneNumbers.json'),
    "DELETE " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json'),
    "GET " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json'),
    "DELETE " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json'),
    "GET " . ::path('/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550009'),
    ::buy('PhoneNumber=%2B15005550009'),
    "GET " . ::path('/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550009'),
    "GET " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json'),
    "DELETE " . ::path('/IncomingPhoneNumbers/PNbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.json'),
]
--- error_code eval
[200, 404, 404, 400, 200, 204, 404, 404, 200, 201, 200, 404, 404]
--- response_body_like eval
[
    '^\{"account_sid":"AC00000000000000000000000000000000",.*"capabilities":\{"voice":true,"sms":true,"mms":true,"fax":false\},"date_created":"Wed, 01 Jan 2025 00:00:00 \+0000",.*"friendly_name":"Existing sandbox number",.*"phone_number":"\+15005550009","sid":"PN00000000000000000000000000000009",.*"voice_url":null,.*"status":"in-use",',
    ::twilio_error(20404, 404, 'The requested resource /2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers/PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\.json was not found'),
    '"code":20404,',
    ::twilio_error(21422, 400, 'PhoneNumber not available'),
    '^\{"end":0,.*"incoming_phone_numbers":\[\{[^\[]*"sid":"PN00000000000000000000000000000009",[^\[]*\}\],',
    '^$',
    '"code":20404,',
    '"code":20404,',
    '^\{"end":0,"first_page_uri":"[^"]+","incoming_phone_numbers":\[\],',
    '"friendly_name":"\(500\) 555-0009",.*"phone_number":"\+15005550009","sid":"PN(?!00000000000000000000000000000009)[0-9a-f]{32}"',
    '"incoming_phone_numbers":\[\{[^\[]*"phone_number":"\+15005550009","sid":"PN(?!00000000000000000000000000000009)',
    '"code":20404,',
    '"code":20404,',
]
--- no_error_log
[alert]
[emerg]



=== TEST 10: purchases and releases are logged at info, credentials never
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- log_level: info
--- more_headers eval
[ ::headers(), ::headers(), "Authorization: Bearer sandbox-auth-token\n" ]
--- request eval
[
    ::buy('PhoneNumber=%2B15005550006'),
    "DELETE " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json'),
    "GET " . ::path('.json'),
]
--- error_code eval
[201, 204, 401]
--- response_body_like eval
['"sid":"PN', '^$', '"code":20003,']
--- no_error_log
sandbox-auth-token
[error]
[alert]
[emerg]



=== TEST 11: the log lines themselves
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- log_level: info
--- more_headers eval
::headers()
--- request eval
::buy('PhoneNumber=%2B15005550006')
--- error_code: 201
--- error_log eval
[qr/agnitel sandbox: bought \+15005550006 as PN[0-9a-f]{32}/]



=== TEST 12: a release is logged
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- log_level: info
--- more_headers eval
::headers()
--- request eval
"DELETE " . ::path('/IncomingPhoneNumbers/PN00000000000000000000000000000009.json')
--- error_code: 204
--- error_log eval
[qr/agnitel sandbox: released \+15005550009 \(PN00000000000000000000000000000009\)/]



=== TEST 13: account_sid= and auth_token= replace the default account
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ {
        agnitel_twilio_sandbox account_sid=ACabcdefabcdefabcdefabcdefabcdefab
                               auth_token=s3cret;
    }
--- log_level: info
--- more_headers eval
[
    ::headers(),
    ::headers('ACabcdefabcdefabcdefabcdefabcdefab', 's3cret'),
    ::headers('ACabcdefabcdefabcdefabcdefabcdefab', 's3cret'),
    ::headers('ACabcdefabcdefabcdefabcdefabcdefab', 's3cret'),
]
--- request eval
[
    "GET " . ::path('.json'),
    "GET /2010-04-01/Accounts/ACabcdefabcdefabcdefabcdefabcdefab.json",
    "GET " . ::path('.json'),
    "GET /2010-04-01/Accounts/ACabcdefabcdefabcdefabcdefabcdefab/IncomingPhoneNumbers/PN00000000000000000000000000000009.json",
]
--- error_code eval
[401, 200, 404, 200]
--- response_body_like eval
[
    '"code":20003,',
    '"owner_account_sid":"ACabcdefabcdefabcdefabcdefabcdefab","sid":"ACabcdefabcdefabcdefabcdefabcdefab",',
    '"code":20404,',
    '^\{"account_sid":"ACabcdefabcdefabcdefabcdefabcdefab",.*"uri":"/2010-04-01/Accounts/ACabcdefabcdefabcdefabcdefabcdefab/IncomingPhoneNumbers/PN00000000000000000000000000000009\.json",',
]
--- no_error_log
s3cret
[alert]
[emerg]



=== TEST 14: subaccounts (created by the account only) and calls, queued
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- config
    location /2010-04-01/ { agnitel_twilio_sandbox; }
--- more_headers eval
[
    ::headers(),
    ::headers('AC55555555555555555555555555555555', 'guess'),
    ::headers(),
    ::headers(),
]
--- request eval
[
    "POST /2010-04-01/Accounts.json\nFriendlyName=agnitel%20ws_1",
    "POST /2010-04-01/Accounts.json\nFriendlyName=x",
    "POST " . ::path('/Calls.json') . "\nTo=%2B12125550100&From=%2B15005550006&Twiml=%3CResponse%2F%3E",
    "GET " . ::path('/Calls.json'),
]
--- error_code eval
[201, 401, 201, 405]
--- response_body_like eval
[
    '^\{"sid":"AC[0-9a-f]{32}","auth_token":"[0-9a-f]{32}","friendly_name":"agnitel sandbox subaccount","owner_account_sid":"AC00000000000000000000000000000000","status":"active","type":"Full"\}$',
    '"code":20003,',
    '^\{"sid":"CA[0-9a-f]{32}","account_sid":"AC00000000000000000000000000000000","status":"queued","direction":"outbound-api"\}$',
    ::twilio_error(20004, 405, 'Method not allowed'),
]
