# A workspace never sees another's numbers: 404, exactly as for a number
# that does not exist, never 403.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: workspace 2 cannot read, rename, release or list workspace 1's number
--- request eval
[
    ::workspace(1),
    ::workspace(2),
    ::import_number('+14155550100'),
    "GET /ws2/api/v1/phone-numbers/+14155550100",
    "GET /ws2/api/v1/phone-numbers/+14155550199",
    "PATCH /ws2/api/v1/phone-numbers/+14155550100\n{\"friendly_name\":\"Mine now\"}",
    "DELETE /ws2/api/v1/phone-numbers/+14155550100/release",
    "GET /ws2/api/v1/phone-numbers",
    "GET /ws2/api/v1/phone-numbers?status=released",
    "GET /api/v1/phone-numbers/+14155550100",
]
--- error_code eval
[201, 201, 201, 404, 404, 404, 404, 200, 200, 200]
--- response_body_like eval
# the same bytes as for a number that exists nowhere
my $nf = quotemeta '{"success":false,"message":"no such phone number in '
                 . 'this workspace","error":{"code":"not_found",'
                 . '"field":"phone_number"}}';
[
    '"success":true',
    '"success":true',
    '"success":true',
    "^$nf\n\$",
    "^$nf\n\$",
    "^$nf\n\$",
    "^$nf\n\$",
    '"data":\[\],"meta":\{"total":0,',
    '"data":\[\],"meta":\{"total":0,',
    '"friendly_name":"Support line".*"status":"active"',
]
