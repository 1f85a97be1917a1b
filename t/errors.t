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
["", "Allow: GET"]
--- response_body_like eval
['"success":true', '^\{"success":false,"message":"method not allowed on this resource","error":\{"code":"method_not_allowed"\}\}$']



=== TEST 7: 405 lists the allowed methods (a number)
--- request eval
[::workspace(1), "POST /api/v1/phone-numbers/+14155550100\n{}"]
--- error_code eval
[201, 405]
--- response_headers eval
["", "Allow: GET, PATCH"]
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
["", "Allow: POST", "Allow: DELETE", "Allow: GET, POST"]



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
