# Every error answers with the JSON envelope and the right status, and
# nothing is written on any error path.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 401 without a key, with a malformed, an unknown or a bad scheme
--- config
    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
    location /anon/ {
        proxy_set_header X-Api-Key "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
    location /unknown/ {
        proxy_set_header X-Api-Key agn_99999999999999999999999999999999;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
    location /short/ {
        proxy_set_header X-Api-Key agn_1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
    location /bearer/ {
        proxy_set_header X-Api-Key "";
        proxy_set_header Authorization "Bearer agn_00000000000000000000000000000001";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
    location /basic/ {
        proxy_set_header X-Api-Key "";
        proxy_set_header Authorization "Basic agn_00000000000000000000000000000001";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- request eval
[
    ::workspace(1),
    "GET /anon/api/v1/phone-numbers",
    "GET /unknown/api/v1/phone-numbers",
    "GET /short/api/v1/phone-numbers",
    "GET /basic/api/v1/phone-numbers",
    "GET /anon/api/v1/nothing-here",
    "GET /bearer/api/v1/phone-numbers",
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 401, 401, 401, 401, 401, 200, 200]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"a valid API key is required","error":\{"code":"unauthorized"\}\}$',
    '"code":"unauthorized"',
    '"code":"unauthorized"',
    '"code":"unauthorized"',
    '"code":"unauthorized"',
    '"success":true',
    '"success":true',
]



=== TEST 2: 400 invalid_json for bodies that are not a JSON object
--- request eval
[
    ::workspace(1),
    "POST /api/v1/phone-numbers/import\n{\"phone_number\":",
    "POST /api/v1/phone-numbers/import\n[1,2]",
    "POST /api/v1/phone-numbers/import",
    "POST /api/v1/phone-numbers/import\n{\"phone_number\":\"+14155550100\",\"phone_number\":\"+14155550101\"}",
    "POST /api/v1/phone-numbers/import\n\"text\"",
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 400, 400, 400, 400, 400, 200]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"request body is not valid JSON","error":\{"code":"invalid_json"\}\}$',
    '"message":"request body must be a JSON object","error":\{"code":"invalid_json"\}',
    '"message":"a JSON request body is required","error":\{"code":"invalid_json"\}',
    '"code":"invalid_json"',
    '"code":"invalid_json"',
    '"meta":\{"total":0,',
]



=== TEST 3: 400 invalid_field names the field, and nothing is written
--- request eval
[
    ::workspace(1),
    ::import_number(undef),
    ::import_number('4155550100'),
    ::import_number('+04155550100'),
    ::import_number('+1415555'),
    ::import_number('+1415555010012345'),
    ::import_number('+1 4155550100'),
    ::import_number('14155550100'),
    ::import_number('+14155550100', friendly_name => undef),
    ::import_number('+14155550100', sip_username => undef),
    ::import_number('+14155550100', sip_password => undef),
    ::import_number('+14155550100', sip_password => 'p' x 129),
    ::import_number('+14155550100', sip_username => 'true'),
    ::import_number('+14155550100', termination_uri => 'sip:a b'),
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, (400) x 13, 200]
--- response_body_like eval
[
    '"success":true',
    '"error":\{"code":"invalid_field","field":"phone_number"\}',
    '"message":"phone_number must be E.164, such as \+14155550100","error":\{"code":"invalid_field","field":"phone_number"\}',
    '"field":"phone_number"',
    '"field":"phone_number"',
    '"field":"phone_number"',
    '"field":"phone_number"',
    '"field":"phone_number"',
    '"field":"friendly_name"',
    '"message":"sip_username must be a string of 1 to 128 characters without control characters","error":\{"code":"invalid_field","field":"sip_username"\}',
    '"field":"sip_password"',
    '"field":"sip_password"',
    '"field":"sip_username"',
    '"field":"termination_uri"',
    '"data":\[\],"meta":\{"total":0,',
]



=== TEST 4: a phone number in the path must be E.164
--- request eval
[
    ::workspace(1),
    "GET /api/v1/phone-numbers/4155550100",
    "PATCH /api/v1/phone-numbers/abc\n{\"friendly_name\":\"x\"}",
    "DELETE /api/v1/phone-numbers/+1%20415/release",
]
--- error_code eval
[201, 400, 400, 400]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"the phone number in the path must be E.164, such as \+14155550100","error":\{"code":"invalid_field","field":"phone_number"\}\}$',
    '"field":"phone_number"',
    '"field":"phone_number"',
]



=== TEST 5: 404 for unknown routes, on both APIs
--- request eval
[
    ::workspace(1),
    "GET /api/v1/numbers",
    "GET /api/v2/phone-numbers",
    "GET /api/v1/phone-numbers/+14155550100/release/now",
    "GET /api/v1/",
    "GET /admin/v1/tenants",
    "DELETE /admin/v1/workspaces/nope/api-keys/key_0000000000000000",
    "POST /admin/v1/workspaces/ws_0000000000000000/api-keys",
]
--- error_code eval
[201, 404, 404, 404, 404, 404, 404, 404]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"no such resource","error":\{"code":"not_found"\}\}$',
    '"code":"not_found"',
    '"code":"not_found"',
    '"code":"not_found"',
    '"code":"not_found"',
    '"message":"no such API key","error":\{"code":"not_found"\}',
    '"message":"no such workspace","error":\{"code":"not_found"\}',
]



=== TEST 6: 405 lists the allowed methods (list)
--- request eval
[::workspace(1), "PUT /api/v1/phone-numbers"]
--- error_code eval
[201, 405]
--- response_headers eval
["", "Allow: GET, HEAD"]
--- response_body_like eval
['"success":true', '^\{"success":false,"message":"method not allowed on this resource","error":\{"code":"method_not_allowed"\}\}$']



=== TEST 7: 405 lists the allowed methods (a number)
--- request eval
[::workspace(1), "POST /api/v1/phone-numbers/+14155550100\n{}"]
--- error_code eval
[201, 405]
--- response_headers eval
["", "Allow: GET, HEAD, PATCH"]
--- response_body_like eval
['"success":true', '"code":"method_not_allowed"']



=== TEST 8: 405 lists the allowed methods (import, release, admin)
--- request eval
[
    ::workspace(1),
    "GET /api/v1/phone-numbers/import",
    "GET /api/v1/phone-numbers/+14155550100/release",
    "PATCH /admin/v1/workspaces",
]
--- error_code eval
[201, 405, 405, 405]
--- response_headers eval
["", "Allow: POST", "Allow: DELETE", "Allow: GET, HEAD, POST"]



=== TEST 9: 413 for a body over 64 KiB, and nothing is written
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100', friendly_name => 'x', note => 'n' x 70000),
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 413, 200]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"request body is over 64 KiB","error":\{"code":"payload_too_large"\}\}$',
    '"meta":\{"total":0,',
]



=== TEST 10: 413 for a chunked body over 64 KiB
--- more_headers
X-Api-Key: agn_00000000000000000000000000000001
Content-Type: application/json
Transfer-Encoding: chunked
--- request eval
[
    ::chunked(::workspace(1)),
    ::chunked(::import_number('+14155550100', note => 'n' x 70000)),
    ::chunked(::import_number('+14155550101')),
    ::chunked("GET /api/v1/phone-numbers"),
]
--- error_code eval
[201, 413, 201, 200]
--- response_body_like eval
[
    '"success":true',
    '"code":"payload_too_large"',
    '"phone_number":"\+14155550101"',
    '"meta":\{"total":1,',
]



=== TEST 11: 415 unless the body is application/json
--- config
    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
    location /text/ {
        proxy_set_header Content-Type text/plain;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100', path => '/text/api/v1/phone-numbers/import'),
    "POST /text/admin/v1/workspaces\n{\"name\":\"x\"}",
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 415, 415, 200]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"Content-Type must be application/json","error":\{"code":"unsupported_media_type"\}\}$',
    '"code":"unsupported_media_type"',
    '"meta":\{"total":0,',
]



=== TEST 12: a charset parameter is fine, a look-alike type is not
--- config
    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
    location /jsonx/ {
        proxy_set_header Content-Type application/jsonx;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/;
    }
--- more_headers
X-Api-Key: agn_00000000000000000000000000000001
Content-Type: application/json; charset=utf-8
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100'),
    ::import_number('+14155550101', path => '/jsonx/api/v1/phone-numbers/import'),
]
--- error_code eval
[201, 201, 415]



=== TEST 13: a broken chunked body is 400 in the envelope, on every route and with any key
--- more_headers eval
my $h = "Content-Type: application/json\nTransfer-Encoding: chunked\n";
my $k = "X-Api-Key: " . ::key(1) . "\n";
[
    ("$k$h") x 8,
    "X-Api-Key: agn_1\n$h",
    $h,
    "$k$h",
    "$k",
]
--- request eval
[
    ::chunked(::workspace(1)),
    "GET /api/v1/phone-numbers\nzz\r\n",
    "HEAD /api/v1/phone-numbers\nzz\r\n",
    "DELETE /api/v1/phone-numbers/+14155550100/release\nzz\r\n",
    "GET /api/v1/nothing-here\nzz\r\n",
    "PUT /api/v1/phone-numbers\nzz\r\n",
    "POST /api/v1/phone-numbers/import\n5\r\n{\"a\":\r\nzz\r\n",
    "GET /admin/v1/tenants\nzz\r\n",
    "GET /api/v1/phone-numbers\nzz\r\n",
    "POST /api/v1/phone-numbers/import\nzz\r\n",
    ::chunked("GET /api/v1/phone-numbers"),
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, (400) x 9, 200, 200]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"the request is malformed","error":\{"code":"bad_request"\}\}$',
    '^$',
    ('^\{"success":false,"message":"the request is malformed","error":\{"code":"bad_request"\}\}$') x 7,
    '"success":true',
    '"meta":\{"total":0,',
]



=== TEST 14: HEAD answers as GET does, without the body
--- request eval
[
    ::workspace(1),
    "HEAD /api/v1/phone-numbers",
    "HEAD /api/v1/nothing-here",
    "HEAD /api/v1/phone-numbers/import",
    "HEAD /anon/api/v1/phone-numbers",
    "HEAD /admin/v1/workspaces/",
]
--- error_code eval
[201, 200, 404, 405, 401, 200]
--- response_headers eval
[
    "",
    "Content-Type: application/json",
    "Content-Type: application/json",
    "Allow: POST",
    "Content-Type: application/json",
    "Content-Type: application/json",
]
--- response_body_like eval
['"success":true', '^$', '^$', '^$', '^$', '^$']



=== TEST 15: nginx's own 413 and 403 in an API location come in the envelope
--- config
    error_page 403 413 500 /50x.html;

    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
    location /small/ { client_max_body_size 1k; agnitel_api; }
    location /big/ { client_max_body_size 10m; agnitel_api; }
    location /get-only/ {
        limit_except GET { deny all; }
        agnitel_api;
    }
--- more_headers eval
my $h = "X-Api-Key: " . ::key(1) . "\nContent-Type: application/json\n";
[
    $h, $h, $h,
    "${h}Transfer-Encoding: chunked\n",
    $h, $h, $h, $h,
]
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100', note => 'n' x 70000),
    ::import_number('+14155550100', note => 'n' x 1100000),
    "POST /api/v1/phone-numbers/import\nfffff\r\n{}",
    ::import_number('+14155550100', path => '/small/api/v1/phone-numbers/import', note => 'n' x 2000),
    ::import_number('+14155550100', path => '/big/api/v1/phone-numbers/import', note => 'n' x 70000),
    ::import_number('+14155550100', path => '/get-only/api/v1/phone-numbers/import'),
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 413, 413, 413, 413, 413, 403, 200]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"request body is over 64 KiB","error":\{"code":"payload_too_large"\}\}$',
    '^\{"success":false,"message":"request body is over 64 KiB","error":\{"code":"payload_too_large"\}\}$',
    '^\{"success":false,"message":"request body is over 64 KiB","error":\{"code":"payload_too_large"\}\}$',
    '^\{"success":false,"message":"request body is over 1024 bytes","error":\{"code":"payload_too_large"\}\}$',
    '^\{"success":false,"message":"request body is over 64 KiB","error":\{"code":"payload_too_large"\}\}$',
    '^\{"success":false,"message":"access is denied","error":\{"code":"forbidden"\}\}$',
    '"meta":\{"total":0,',
]



=== TEST 16: 414 and 400 come before any location: HTML unless the server sends them to the API
--- config
    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
--- more_headers eval
["", "X-Big: " . ('b' x 9000) . "\n"]
--- request eval
["GET /api/v1/" . ('a' x 9000), "GET /api/v1/phone-numbers"]
--- error_code eval
[414, 400]
--- response_body_like eval
['<html>', '<html>']



=== TEST 17: with "error_page 400 414 494 /api/v1/;" in the server they are the envelope
--- config
    error_page 400 414 494 /api/v1/;

    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
--- more_headers eval
[
    "",
    "X-Big: " . ('b' x 9000) . "\n",
    "Content-Length: 2\nTransfer-Encoding: chunked\n",
]
--- request eval
["GET /api/v1/" . ('a' x 9000), "GET /api/v1/phone-numbers", "POST /api/v1/phone-numbers/import\n{}"]
--- error_code eval
[414, 400, 400]
--- response_body_like eval
[
    '^\{"success":false,"message":"the request URI is too long","error":\{"code":"uri_too_long"\}\}$',
    '^\{"success":false,"message":"the request is malformed","error":\{"code":"bad_request"\}\}$',
    '^\{"success":false,"message":"the request is malformed","error":\{"code":"bad_request"\}\}$',
]



=== TEST 18: two credentials are ambiguous: 401
--- more_headers eval
my $ct = "Content-Type: application/json\n";
[
    $ct,
    "X-Api-Key: " . ::key(1) . "\nX-Api-Key: " . ::key(1) . "\n",
    "X-Api-Key: " . ::key(1) . "\nX-Api-Key: " . ::key(2) . "\n",
    "X-Api-Key: " . ::key(1) . "\nAuthorization: Bearer " . ::key(1) . "\n",
    "Authorization: Bearer " . ::key(1) . "\n",
    "X-Api-Key: " . ::key(1) . "\n",
]
--- request eval
[
    ::workspace(1),
    "GET /api/v1/phone-numbers",
    "GET /api/v1/phone-numbers",
    "GET /api/v1/phone-numbers",
    "GET /api/v1/phone-numbers",
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 401, 401, 401, 200, 200]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":false,"message":"a valid API key is required","error":\{"code":"unauthorized"\}\}$',
    '"code":"unauthorized"',
    '"code":"unauthorized"',
    '"success":true',
    '"success":true',
]



=== TEST 19: money is read exactly from the request text: six decimals at most, no float
--- http_config eval
::twilio_config(q{
        location ~ ^/2010-04-01/Accounts/(AC[0-9a-f]+)\.json$ {
            return 200 '{"sid":"$1","status":"active"}';
        }
        location ~ /IncomingPhoneNumbers\.json$ {
            echo_read_request_body;
            echo_status 201;
            echo '{"sid":"PN0123456789abcdef0123456789abcdef","account_sid":"AC0123456789abcdef0123456789abcdef","phone_number":"+14155550100","capabilities":{"voice":true,"sms":true,"mms":false,"fax":false},"status":"in-use"}';
        }
})
--- request eval
my $buy = "POST /api/v1/phone-numbers/buy\n";
my $n = '"phone_number":"+14155550100"';
[
    ::workspace(1),
    ::connect_twilio(),
    $buy . qq({$n,"price":1.15000000000000000001}),
    $buy . qq({$n,"price":1.1500000001}),
    $buy . qq({$n,"price":1.15e0}),
    $buy . qq({$n,"price":-1.15}),
    $buy . qq({$n,"price":"1.15"}),
    $buy . qq({$n,"price":1234567890123}),
    $buy . qq({$n,"price":1.15,"per_minute_price_inbound":0.00850000001}),
    $buy . qq({$n,"price":1.15,"per_minute_price_outbound":null}),
    $buy . qq({$n}),
    $buy . qq({"meta":{"price":1.15},"note":"\\"price\\":1.15,",$n,"price":1.16}),
    $buy . qq({$n,"pr\\u0069ce":999999999999.999999}),
    $buy . qq({$n,"price":1.150000,"per_minute_price_inbound":0.0085,"per_minute_price_outbound":0.09450}),
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 201, (400) x 9, 409, 409, 201, 200]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '^\{"success":false,"message":"price must be a JSON number such as 1\.15, with at most 12 digits before the point and 6 after it, and no sign, exponent or quotes","error":\{"code":"invalid_field","field":"price"\}\}$',
    '"code":"invalid_field","field":"price"',
    '"code":"invalid_field","field":"price"',
    '"code":"invalid_field","field":"price"',
    '"code":"invalid_field","field":"price"',
    '"code":"invalid_field","field":"price"',
    '"message":"per_minute_price_inbound must be a JSON number .*","error":\{"code":"invalid_field","field":"per_minute_price_inbound"\}',
    '"code":"invalid_field","field":"per_minute_price_outbound"',
    '^\{"success":false,"message":"price is required","error":\{"code":"invalid_field","field":"price"\}\}$',
    '"code":"price_changed","field":"price"',
    '"code":"price_changed","field":"price"',
    '"message":"Phone number bought".*"price":1\.15,"per_minute_price_inbound":0\.0085,"per_minute_price_outbound":0\.0945,',
    '"meta":\{"total":1,',
]
