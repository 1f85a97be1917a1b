# Outbound calls: POST /api/v1/calls places the call at Twilio (Calls.json,
# through the carrier location) from a caller ID the workspace owns, with
# TwiML dialling the agent and the status reported for metering.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

our $CALLS = $TWILIO_NUMBER . <<"_EOC_";
        location = /2010-04-01/Accounts/$SID/Calls.json {
            echo_read_request_body;
            echo_status 201;
            echo '{"sid":"CA33333333333333333333333333333333","status":"queued"}';
        }
_EOC_

sub call {
    my ($from, $to, $agent) = @_;
    return "POST /api/v1/calls\n"
        . qq({"from":"$from","to":"$to","agent_id":"$agent"});
}

check_accum_error_log();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a call from an owned Twilio number: Calls.json with the TwiML; others refused
--- http_config eval
::twilio_config($::CALLS,
                extra => 'agnitel_status_url https://agents.example.com/status;')
--- init
::prepare(::workspace(1), ::connect_twilio(), ::add_twilio(),
          ::import_number('+14155550100'));
--- request eval
[
    ::call('+14155550123', '+12125550100', 'a1'),
    ::call('+14155550100', '+12125550100', 'a1'),
    ::call('+14155550199', '+12125550100', 'a1'),
    ::call('+14155550123', '2125550100', 'a1'),
    ::call('+14155550123', '+12125550100', 'a 1'),
]
--- error_code eval
[201, 422, 403, 400, 400]
--- response_body_like eval
[
    '^\{"success":true,"message":"Call placed","data":\{"call_sid":"CA33333333333333333333333333333333","from":"\+14155550123","to":"\+12125550100","agent_id":"a1","status":"queued"\}\}$',
    '"code":"unsupported_provider","field":"from"',
    '"code":"caller_id_not_owned","field":"from"',
    '"code":"invalid_field","field":"to"',
    '"code":"invalid_field","field":"agent_id"',
]
--- error_log eval
[qr{twilio: POST /2010-04-01/Accounts/\Q$Agnitel::Fixtures::SID\E/Calls\.json\?- body=From=%2B14155550123&To=%2B12125550100&Twiml=%3CResponse%3E%3CDial%3E%3CSip%3Esip%3A%2B14155550123%4068uajga988j\.sip\.livekit\.cloud%3FX-Agnitel-Agent%3Da1%3C%2FSip%3E%3C%2FDial%3E%3C%2FResponse%3E&StatusCallback=https%3A%2F%2Fagents\.example\.com%2Fstatus auth=\S+ },
 qr/call CA33333333333333333333333333333333 from \+14155550123 to \+12125550100 for agent a1/]
