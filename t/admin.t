# The operator API: workspaces and API keys.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;
use Digest::SHA qw(sha256_hex);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a workspace comes with an API key shown once
--- request eval
[
    "POST /admin/v1/workspaces\n{\"name\":\"Acme Voice\"}",
    "GET /admin/v1/workspaces",
    "GET /admin/v1/workspaces/",
]
--- error_code eval
[201, 200, 200]
--- response_body_like eval
[
    '^\{"success":true,"message":"Workspace created","data":\{"id":"ws_[0-9a-f]{16}","name":"Acme Voice","created_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","api_key_id":"key_[0-9a-f]{16}","api_key":"agn_[0-9A-Za-z]{32}"\}\}$',
    '^\{"success":true,"message":"Workspaces","data":\[\{"id":"ws_[0-9a-f]{16}","name":"Acme Voice","created_at":"[^"]+"\}\],"meta":\{"total":1\}\}$',
    '"meta":\{"total":1\}',
]



=== TEST 2: a key made elsewhere is imported by its SHA-256 and works
--- request eval
[
    ::workspace(1),
    "GET /api/v1/phone-numbers",
    "POST /admin/v1/workspaces\n{\"name\":\"dup\",\"api_key_sha256\":\"" . Digest::SHA::sha256_hex(::key(1)) . '"}',
    "POST /admin/v1/workspaces\n{\"name\":\"bad\",\"api_key_sha256\":\"abc\"}",
    "POST /admin/v1/workspaces\n{\"name\":\"bad\",\"api_key_sha256\":\"" . ('zz' x 32) . '"}',
    "GET /admin/v1/workspaces",
]
--- error_code eval
[201, 200, 409, 400, 400, 200]
--- response_body_like eval
[
    '^\{"success":true,"message":"Workspace created","data":\{"id":"ws_[0-9a-f]{16}","name":"ws1","created_at":"[^"]+","api_key_id":"key_[0-9a-f]{16}"\}\}$',
    '"success":true',
    '^\{"success":false,"message":"this API key is already in use","error":\{"code":"api_key_exists","field":"api_key_sha256"\}\}$',
    '"message":"api_key_sha256 must be 64 hex characters","error":\{"code":"invalid_field","field":"api_key_sha256"\}',
    '"field":"api_key_sha256"',
    '"meta":\{"total":1\}',
]



=== TEST 3: workspace names are validated
--- request eval
[
    "POST /admin/v1/workspaces\n{}",
    "POST /admin/v1/workspaces\n{\"name\":\"\"}",
    "POST /admin/v1/workspaces\n{\"name\":\"" . ('n' x 65) . '"}',
    "POST /admin/v1/workspaces\n{\"name\":[\"x\"]}",
    "GET /admin/v1/workspaces",
]
--- error_code eval
[400, 400, 400, 400, 200]
--- response_body_like eval
[
    '^\{"success":false,"message":"name must be a string of 1 to 64 characters without control characters","error":\{"code":"invalid_field","field":"name"\}\}$',
    '"field":"name"',
    '"field":"name"',
    '"field":"name"',
    '"data":\[\],"meta":\{"total":0\}',
]



=== TEST 4: unknown workspaces and keys are 404 (t/lifecycle.t makes and
revokes keys of real workspaces, whose ids are random)
--- request eval
[
    ::workspace(1),
    "POST /admin/v1/workspaces/ws_0123456789abcdef/api-keys",
    "POST /admin/v1/workspaces/ws_XYZ/api-keys",
    "DELETE /admin/v1/workspaces/ws_0123456789abcdef/api-keys/key_0123456789abcdef",
    "DELETE /admin/v1/workspaces/ws_0123456789abcdef/api-keys/key_x",
]
--- error_code eval
[201, 404, 404, 404, 404]
--- response_body_like eval
[
    '"success":true',
    '"message":"no such workspace"',
    '"message":"no such workspace"',
    '"message":"no such API key"',
    '"message":"no such API key"',
]



=== TEST 5: the admin API is protected with nginx's own access rules, whose
403 comes in the envelope too
--- config
    location /api/ { agnitel_api; }
    location /admin/ {
        deny all;
        agnitel_admin;
    }
--- request
POST /admin/v1/workspaces
{"name":"x"}
--- error_code: 403
--- response_body_like: ^\{"success":false,"message":"access is denied","error":\{"code":"forbidden"\}\}$
