# The sandbox dials in: POST /2010-04-01/Sandbox/Calls.json replays an
# inbound call to the module the way Twilio delivers one, the voice webhook
# to the number's VoiceUrl and the call's end to its StatusCallback, both
# signed with the owning account's token.  So a call is routed and metered
# with no carrier and no phone: an own-account number, and a managed one
# whose minutes are paid from its credits (signed with the subaccount's
# token).  Call sids are random, so this runs its own nginx; under
# TEST_NGINX_USE_VALGRIND it runs under memcheck, libcurl included.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};

my $PLATFORM = 'AC00000000000000000000000000000000';
my $SANDBOX_TOKEN = 'sandbox-auth-token';

my $port = Agnitel::Nginx::test_port(25);
my $sandbox = $port + 1;
my $to_sandbox = Agnitel::Nginx::twilio_location($sandbox);

my $n = Agnitel::Nginx->new(name => 'replay', port => $port);
$n->write_file('secret.key', 'r' x 32);
$n->write_file('platform.token', "$SANDBOX_TOKEN\n");

$n->write_config(<<"END", workers => 1);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;
    agnitel_voice_url http://127.0.0.1:\$PORT/twilio/voice;
    agnitel_status_url http://127.0.0.1:\$PORT/twilio/status;
    agnitel_twilio_managed account_sid=$PLATFORM
                           auth_token_file=platform.token;

    server {
        listen 127.0.0.1:\$PORT;
$to_sandbox
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
        location = /twilio/voice { agnitel_twilio_voice; }
        location = /twilio/status { agnitel_twilio_status; }
    }

    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }
END
$vg ? $n->start_valgrind : $n->start;

my $json = JSON::PP->new;

sub api {
    my ($ws, @req) = @_;
    my ($status, $body) = $n->api($ws, @req);
    return ($status, eval { $json->decode($body) } // $body);
}

# a call dialled in at the sandbox: (status, decoded answer)
sub dial {
    my (%form) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $vg ? 60 : 15);
    my $res = $http->post_form(
        "http://127.0.0.1:$sandbox/2010-04-01/Sandbox/Calls.json", \%form);
    return ($res->{status}, eval { $json->decode($res->{content}) }
                            // $res->{content});
}

sub number {
    my ($ws, $e164) = @_;
    return (api($ws, GET => "/api/v1/phone-numbers/$e164"))[1]{data};
}

# workspace 1: the sandbox account as its own, a number with a rule

$n->workspace(1);

my ($status, $body) = api(1, POST => '/api/v1/telephony/providers/twilio',
    qq({"mode":"own","friendly_name":"Sandbox","account_sid":"$PLATFORM",)
    . qq("auth_token":"$SANDBOX_TOKEN"}));
is($status, 201, 'own account: the sandbox account is connected');

for my $e164 ('+14155550142', '+14155550143') {
    ($status) = api(1, POST => '/api/v1/phone-numbers/buy',
                    qq({"phone_number":"$e164","price":1.15}));
    is($status, 201, "$e164 is bought, with the module's webhook URLs");
}

($status) = api(1, POST => '/api/v1/dispatch-rules',
                '{"phone_number":"+14155550142","agent_id":"agent_7"}');
is($status, 201, 'a rule sends +14155550142 to agent_7');

# a routed call: the webhook dials the agent, the status callback meters it

($status, $body) = dial(To => '+14155550142', From => '+12125550100',
                        Duration => 95);
is($status, 200, 'a call to the ruled number is replayed');
like($body->{call_sid}, qr/^CA[0-9a-f]{32}$/, 'with a call sid of its own');
is($body->{account_sid}, $PLATFORM, 'from the account owning the number');
is($body->{voice}{url}, "http://127.0.0.1:$port/twilio/voice",
   'the voice webhook went to the VoiceUrl the module set at the purchase');
is($body->{voice}{status}, 200, 'the signature held: the module answered 200');
like($body->{voice}{twiml},
     qr{<Dial answerOnBridge="true"><Sip>sip:\+14155550142\@trunk\.example\.com\?X-Agnitel-Agent=agent_7</Sip></Dial>},
     'and dialled the agent at the termination host');
is($body->{call_status}, 'completed', 'so the call completed');
is($body->{duration}, 95, 'after 95 s');
is($body->{status_callback}{url}, "http://127.0.0.1:$port/twilio/status",
   'the status callback went to the StatusCallback the module set');
is($body->{status_callback}{status}, 200, 'which the module accepted');

my $num = number(1, '+14155550142');
is($num->{calls_inbound}, 1, 'the number counts one inbound call');
is($num->{minutes_inbound}, 2, 'of 2 minutes (95 s, rounded up)');

# no rule: the module turns the call away and nothing is metered

($status, $body) = dial(To => '+14155550143', Duration => 30);
is($status, 200, 'a call to the number without a rule is replayed');
like($body->{voice}{twiml}, qr{<Reject reason="busy"/>}, 'it is rejected');
is($body->{call_status}, 'busy', 'so the call ends busy');
is($body->{duration}, 0, 'after no time');
is($body->{status_callback}{status}, 200, 'and says so to the module');
ok(!exists number(1, '+14155550143')->{calls_inbound},
   'nothing is counted: the number has no counters yet');

# workspace 2: managed; the number belongs to its subaccount

my $ws2 = $n->workspace(2);

($status, $body) = api(2, POST => '/api/v1/telephony/providers/twilio',
    '{"mode":"managed","friendly_name":"Managed","accept_terms":true,'
    . '"terms_version":"1"}');
is($status, 201, 'managed: a subaccount is created at the sandbox');

($status) = $n->request(POST => "/admin/v1/workspaces/$ws2/credits",
                        '{"amount":5,"reference":"replay"}');
is($status, 201, 'credits of 5.00');

($status) = api(2, POST => '/api/v1/phone-numbers/buy',
                '{"phone_number":"+14155550177","price":1.15}');
is($status, 201, 'a managed number is bought');
($status) = api(2, POST => '/api/v1/dispatch-rules',
                '{"phone_number":"+14155550177","agent_id":"agent_9"}');
is($status, 201, 'with a rule');

my $price = number(2, "+14155550177")->{per_minute_price_inbound};

($status, $body) = dial(To => '+14155550177', Duration => 61);
is($status, 200, 'a call to the managed number is replayed');
like($body->{account_sid}, qr/^AC[0-9a-f]{32}$/, 'from the subaccount');
isnt($body->{account_sid}, $PLATFORM, 'not the platform account');
is($body->{voice}{status}, 200, "signed with the subaccount's token");
is($body->{status_callback}{status}, 200, 'both webhooks');

my @usage = grep { $_->{type} eq 'usage_inbound' }
            @{ (api(2, GET => '/api/v1/billing/ledger'))[1]{data} };
is(scalar @usage, 1, 'one usage entry is written');
is(Agnitel::Nginx::micros($usage[0]{amount}),
   -2 * Agnitel::Nginx::micros($price),
   "2 minutes at the number's per-minute price ($price)");

# what the sandbox refuses

($status, $body) = dial(To => '+14155550199');
is($status, 404, 'a number the sandbox did not sell: 404');
is($body->{code}, 20404, "with Twilio's code");

($status, $body) = dial(To => '4155550142');
is($status, 400, 'To not in E.164: 400');
is($body->{code}, 21211, 'Twilio: invalid To');

($status, $body) = dial(To => '+14155550142', Duration => 'long');
is($status, 400, 'a Duration that is no number of seconds: 400');

($status, $body) = dial(To => '+14155550142', From => 'me');
is($status, 400, 'From not in E.164: 400');

# a number bought at the sandbox directly, with no VoiceUrl: nothing to call
my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 15);
my $res = $http->post_form(
    "http://127.0.0.1:$sandbox/2010-04-01/Accounts/$PLATFORM/IncomingPhoneNumbers.json",
    { PhoneNumber => '+14155550188' },
    { headers => { Authorization => 'Basic '
                   . encode_base64("$PLATFORM:$SANDBOX_TOKEN", '') } });
is($res->{status}, 201, 'a number bought without a VoiceUrl');

($status, $body) = dial(To => '+14155550188');
is($status, 400, 'cannot be dialled: 400');
like($body->{message}, qr/no VoiceUrl/, 'which says why');

$res = $http->get("http://127.0.0.1:$sandbox/2010-04-01/Sandbox/Calls.json");
is($res->{status}, 405, 'a GET: 405');

is(number(1, '+14155550142')->{calls_inbound}, 1,
   'after all that, the first number still counts one call');

$vg ? $n->valgrind_clean : $n->stop;

done_testing;
