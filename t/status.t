# agnitel_twilio_status: Twilio's call status callback, signed like the
# voice webhook (the signatures are computed here, by Twilio's algorithm).
# A completed call counts on its number once per CallSid, and a managed
# number's minutes are paid from its credits.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;
use Digest::SHA qw(hmac_sha1_base64);
use File::Temp qw(tempdir);
use HTTP::Tiny;

# the platform's token, for the managed block
my $dir = tempdir(CLEANUP => 1);
open my $fh, '>', "$dir/platform.token" or die $!;
print $fh "platform-token\n";
close $fh;
chmod 0600, "$dir/platform.token";
$ENV{TEST_NGINX_PLATFORM_TOKEN} = "$dir/platform.token";

our $SUB = 'AC' . ('5' x 32);
our $SUBTOKEN = 'subaccount-token';

our $NUMBER = $TWILIO_NUMBER;

our $MANAGED = <<"_EOC_";
        location = /2010-04-01/Accounts.json {
            return 201 '{"sid":"$SUB","auth_token":"$SUBTOKEN","status":"active"}';
        }
        location = /2010-04-01/Accounts/$SUB/IncomingPhoneNumbers.json {
            return 201 '{"sid":"PN22222222222222222222222222222222","phone_number":"+14155550177","capabilities":{"voice":true,"sms":false}}';
        }
_EOC_

sub escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# a signed callback: [request, its headers]
sub callback {
    my (%p) = @_;
    my $token = delete $p{token} || $Agnitel::Fixtures::TOKEN;
    my $data = 'http://localhost/twilio/status'
             . join '', map { $_ . $p{$_} } sort keys %p;
    my $sig = hmac_sha1_base64($data, $token);
    $sig .= '=' while length($sig) % 4;
    return ["POST /twilio/status\n"
            . join('&', map { escape($_) . '=' . escape($p{$_}) } sort keys %p),
            "X-Twilio-Signature: $sig\n"
            . "Content-Type: application/x-www-form-urlencoded\n"];
}

sub call {
    my ($sid, %p) = @_;
    return callback(CallSid => $sid,
                    AccountSid => 'AC0123456789abcdef0123456789abcdef',
                    From => '+12125550100', To => '+14155550123',
                    Direction => 'inbound', CallStatus => 'completed', %p);
}

our @OWN = (call('CA' . 'a' x 32, CallDuration => 65),
            call('CA' . 'a' x 32, CallDuration => 65),
            ["GET /api/v1/phone-numbers/+14155550123",
             "X-Api-Key: " . ::key(1) . "\n"],
            call('CA' . 'b' x 32, CallDuration => 30, Direction => 'outbound-api',
                 From => '+14155550123', To => '+12125550100'),
            ["GET /api/v1/phone-numbers/+14155550123",
             "X-Api-Key: " . ::key(1) . "\n"],
            call('CA' . 'c' x 32, CallStatus => 'ringing'),
            call('CA' . 'd' x 32, CallDuration => 10, token => 'not-the-token'),
            call('CA' . 'e' x 32, CallDuration => 10, Direction => 'sideways'),
            call('CA' . 'f' x 32),
);

# the managed number: workspace, subaccount, credits, a purchase
sub managed_setup {
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 30);
    my %h = ('X-Api-Key' => ::key(1), 'Content-Type' => 'application/json');
    my ($req, $body) = split /\n/, ::workspace(1), 2;
    my $res = $http->post("http://127.0.0.1:$port/admin/v1/workspaces",
                          { headers => \%h, content => $body });
    my ($ws) = $res->{content} =~ /"id":"(ws_[0-9a-f]+)"/ or die "workspace\n";
    for ([ '/api/v1/telephony/providers/twilio',
           '{"mode":"managed","friendly_name":"M","accept_terms":true,"terms_version":"1"}' ],
         [ "/admin/v1/workspaces/$ws/credits", '{"amount":5,"reference":"r"}' ],
         [ '/api/v1/phone-numbers/buy', '{"phone_number":"+14155550177","price":1.15}' ])
    {
        $res = $http->post("http://127.0.0.1:$port$_->[0]",
                           { headers => \%h, content => $_->[1] });
        die "$_->[0]: $res->{status} $res->{content}\n" unless $res->{success};
    }
}

sub managed_call {
    return callback(CallSid => 'CA' . '9' x 32, AccountSid => $SUB,
                    From => '+12125550100', To => '+14155550177',
                    Direction => 'inbound', CallStatus => 'completed',
                    CallDuration => 61, token => $SUBTOKEN);
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: own account: a completed call counts once; other statuses, forgeries and bad input do not
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::prepare(::workspace(1), ::connect_twilio(), ::add_twilio());
--- more_headers eval
[map { $_->[1] } @::OWN]
--- request eval
[map { $_->[0] } @::OWN]
--- error_code eval
[200, 200, 200, 200, 200, 200, 403, 400, 400]
--- response_body_like eval
[
    '^<\?xml version="1.0" encoding="UTF-8"\?><Response/>$',
    '<Response/>',
    '"calls_inbound":1,"calls_outbound":0,"minutes_inbound":2,"minutes_outbound":0',
    '<Response/>',
    '"calls_inbound":1,"calls_outbound":1,"minutes_inbound":2,"minutes_outbound":1',
    '<Response/>',
    '<Reject reason="busy"/>',
    '<Reject reason="busy"/>',
    '<Reject reason="busy"/>',
]



=== TEST 2: managed: the minutes are paid from the credits, once
--- http_config eval
::twilio_config($::NUMBER . $::MANAGED,
    extra => 'agnitel_twilio_managed account_sid=AC0123456789abcdef0123456789abcdef auth_token_file=$TEST_NGINX_PLATFORM_TOKEN;')
--- init
::managed_setup();
--- more_headers eval
[::managed_call()->[1], ::managed_call()->[1],
 "X-Api-Key: " . ::key(1) . "\n", "X-Api-Key: " . ::key(1) . "\n"]
--- request eval
[::managed_call()->[0], ::managed_call()->[0],
 "GET /api/v1/billing/ledger", "GET /api/v1/billing"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
    '<Response/>',
    '<Response/>',
    '"data":\[\{"id":"le_[0-9a-f]{16}","type":"usage_inbound","amount":-0.017,"balance_after":3.833,"currency":"USD","phone_number":"\+14155550177".*"meta":\{"total":3,',
    '"balance":3.833,',
]
