# Inbound dispatch rules: one per owned, active number; shown on the number;
# gone with the number; and agnitel_dispatch_resolve for SIP routers.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a rule's life: created, shown on the number, resolved, removed
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100'),
    "POST /api/v1/dispatch-rules\n"
    . '{"phone_number":"+14155550100","agent_id":"support-agent_1"}',
    "POST /api/v1/dispatch-rules\n"
    . '{"phone_number":"+14155550100","agent_id":"other"}',
    "GET /api/v1/phone-numbers/+14155550100",
    "GET /api/v1/dispatch-rules",
    "GET /dispatch/resolve?to=%2B14155550100",
    "DELETE /api/v1/dispatch-rules/dr_0000000000000000",
    "GET /api/v1/dispatch-rules",
]
--- error_code eval
[201, 201, 201, 409, 200, 200, 200, 404, 200]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '^\{"success":true,"message":"Dispatch rule created","data":\{"id":"dr_[0-9a-f]{16}","phone_number":"\+14155550100","agent_id":"support-agent_1","status":"active","created_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}\}$',
    '^\{"success":false,"message":"the number has a dispatch rule already","error":\{"code":"rule_exists","field":"phone_number"\}\}$',
    '"renews_at":null,"agent_id":"support-agent_1","inbound_trunk"',
    '"data":\[\{"id":"dr_[0-9a-f]{16}","phone_number":"\+14155550100","agent_id":"support-agent_1",.*\],"meta":\{"total":1\}',
    '^\{"success":true,"message":"Dispatch","data":\{"workspace_id":"ws_[0-9a-f]{16}","phone_number":"\+14155550100","agent_id":"support-agent_1"\}\}$',
    '"code":"not_found"',
    '"meta":\{"total":1\}',
]



=== TEST 2: a rule set up before the block is listed (removal: t/lifecycle.t)
--- init
::prepare(::workspace(1), ::import_number('+14155550100'),
          "POST /api/v1/dispatch-rules\n"
          . '{"phone_number":"+14155550100","agent_id":"a1"}');
--- request eval
[
    "GET /api/v1/dispatch-rules",
]
--- error_code: 200
--- response_body_like: "id":"dr_[0-9a-f]{16}"



=== TEST 3: bad input: 400 naming the field; a number not owned: 404
--- request eval
[
    ::workspace(1),
    ::workspace(2),
    ::import_number('+14155550100'),
    "POST /api/v1/dispatch-rules\n" . '{"phone_number":"+14155550100","agent_id":"a b"}',
    "POST /api/v1/dispatch-rules\n" . '{"phone_number":"+14155550100","agent_id":"' . ('a' x 65) . '"}',
    "POST /api/v1/dispatch-rules\n" . '{"phone_number":"+14155550100"}',
    "POST /api/v1/dispatch-rules\n" . '{"phone_number":"14155550100","agent_id":"a"}',
    "POST /api/v1/dispatch-rules\n" . '{"phone_number":"+14155550199","agent_id":"a"}',
    "POST /ws2/api/v1/dispatch-rules\n" . '{"phone_number":"+14155550100","agent_id":"a"}',
    "DELETE /api/v1/dispatch-rules/not-an-id",
    "GET /dispatch/resolve",
    "GET /dispatch/resolve?to=abc",
    "GET /dispatch/resolve?to=%2B14155550100",
    "POST /dispatch/resolve?to=%2B14155550100\n{}",
]
--- error_code eval
[201, 201, 201, 400, 400, 400, 400, 404, 404, 404, 400, 400, 404, 405]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '"success":true',
    '"code":"invalid_field","field":"agent_id"',
    '"code":"invalid_field","field":"agent_id"',
    '"code":"invalid_field","field":"agent_id"',
    '"code":"invalid_field","field":"phone_number"',
    '"code":"not_found","field":"phone_number"',
    '"code":"not_found","field":"phone_number"',
    '"code":"not_found"',
    '"code":"invalid_field","field":"to"',
    '"code":"invalid_field","field":"to"',
    '^\{"success":false,"message":"no dispatch rule for the number","error":\{"code":"not_found","field":"to"\}\}$',
    '"code":"method_not_allowed"',
]



=== TEST 4: a released number's rule goes with it; the number can have one elsewhere
--- request eval
[
    ::workspace(1),
    ::workspace(2),
    ::import_number('+14155550100'),
    "POST /api/v1/dispatch-rules\n" . '{"phone_number":"+14155550100","agent_id":"a1"}',
    "DELETE /api/v1/phone-numbers/+14155550100/release",
    "GET /api/v1/dispatch-rules",
    "GET /dispatch/resolve?to=%2B14155550100",
    "GET /api/v1/phone-numbers?status=released",
    ::import_number('+14155550100', path => '/ws2/api/v1/phone-numbers/import'),
    "POST /ws2/api/v1/dispatch-rules\n" . '{"phone_number":"+14155550100","agent_id":"b2"}',
    "GET /dispatch/resolve?to=%2B14155550100",
    "GET /api/v1/dispatch-rules",
]
--- error_code eval
[201, 201, 201, 201, 200, 200, 404, 200, 201, 201, 200, 200]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '"success":true',
    '"agent_id":"a1"',
    '"status":"released"',
    '"data":\[\],"meta":\{"total":0\}',
    '"code":"not_found"',
    '"status":"released"(?!.*agent_id)',
    '"success":true',
    '"agent_id":"b2"',
    '"agent_id":"b2"',
    '"data":\[\],"meta":\{"total":0\}',
]
