# SIP passwords never leave the module: not in responses, not in the error
# log at debug level.  (t/lifecycle.t checks the LMDB files on disk.)

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

log_level('debug');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the password is not in any response nor in the debug log
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100', sip_password => 'Pw-4c5f9e-secret'),
    "GET /api/v1/phone-numbers/+14155550100",
    "GET /api/v1/phone-numbers",
    "PATCH /api/v1/phone-numbers/+14155550100\n{\"friendly_name\":\"x\"}",
    "DELETE /api/v1/phone-numbers/+14155550100/release",
    "GET /api/v1/phone-numbers?status=released",
]
--- error_code eval
[201, 201, 200, 200, 200, 200, 200]
--- response_body_like eval
[
    '"success":true',
    ('^(?!.*(?:Pw-4c5f9e-secret|sip_password|v1\.))\{"success":true') x 6,
]
--- no_error_log
Pw-4c5f9e-secret
sip_password
[alert]
