# agnitel_caller_id, for nginx's auth_request: may the API key's workspace
# call from X-Agnitel-From?  204 for an owned, active, voice-capable number
# of a Twilio account; 403 for anything else; 401 without a valid key.
# /dial stands for an outbound dialer behind "auth_request /caller-id".

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

sub from { "X-Api-Key: " . ::key($_[1] || 1) . "\nX-Agnitel-From: $_[0]\n" }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: only the workspace's own Twilio numbers pass
--- http_config eval: ::twilio_config($::TWILIO_NUMBER)
--- init
::prepare(::workspace(1), ::workspace(2), ::connect_twilio(), ::add_twilio(),
          ::import_number('+14155550100'));
--- more_headers eval
[
    ::from('+14155550123'),
    ::from('+14155550100'),
    ::from('+14155550199'),
    ::from('4155550123'),
    "X-Agnitel-From: +14155550123\n",
    ::from('+14155550123', 2),
    ::from('+14155550123'),
    ::from('+14155550100'),
]
--- request eval
[
    "GET /caller-id",
    "GET /caller-id",
    "GET /caller-id",
    "GET /caller-id",
    "GET /caller-id",
    "GET /caller-id",
    "GET /dial",
    "GET /dial",
]
--- error_code eval
[204, 403, 403, 403, 401, 403, 200, 403]
--- response_body_like eval
[
    '^$',
    '"code":"forbidden"',
    '"code":"forbidden"',
    '"code":"forbidden"',
    '"code":"unauthorized"',
    '"code":"forbidden"',
    '^dialled$',
    '',
]
