# agnitel_twilio_voice: Twilio's voice webhook.  Signatures are computed
# here, independently, by Twilio's published algorithm: base64 of
# HMAC-SHA1 keyed with the account's auth token, over the URL Twilio called
# and the POST parameters sorted by name, each name then value.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;
use Digest::SHA qw(hmac_sha1_base64);

# a number of the connected account, fetched by add-twilio
our $NUMBER = $TWILIO_NUMBER;

sub setup {
    my (%opt) = @_;
    ::prepare(::workspace(1), ::connect_twilio(), ::add_twilio(),
              $opt{rule} ? ("POST /api/v1/dispatch-rules\n"
                            . '{"phone_number":"+14155550123",'
                            . '"agent_id":"agent-7"}') : ());
}

sub escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# the request: a form body, and its signature for the URL given
sub webhook {
    my ($params, %opt) = @_;
    my $url = $opt{url} || 'http://localhost/twilio/voice';
    my $token = $opt{token} || $Agnitel::Fixtures::TOKEN;
    my @pairs = ref $params eq 'ARRAY' ? @$params : map { [$_, $params->{$_}] }
                                                    sort keys %$params;
    my $data = $url . join '', map { $_->[0] . $_->[1] }
                               sort { $a->[0] cmp $b->[0] } @pairs;
    my $sig = hmac_sha1_base64($data, $token);
    $sig .= '=' while length($sig) % 4;
    my $body = join '&', map { escape($_->[0]) . '=' . escape($_->[1]) }
                         @pairs;
    return ($body, $opt{no_signature} ? '' : "X-Twilio-Signature: $sig\n");
}

our %CALL = (CallSid => 'CA' . ('1' x 32),
             AccountSid => 'AC0123456789abcdef0123456789abcdef',
             From => '+12125550100', To => '+14155550123',
             CallStatus => 'ringing', Direction => 'inbound');

# Twilio's worked example from its request-validation docs (and its SDKs'
# tests): auth token 12345, https://mycompany.com/myapp.php?foo=1&bar=2,
# these parameters, this signature.  The account's number is +18005551212.
our $DOC_NUMBER = <<"_EOC_";
        location = /2010-04-01/Accounts/$SID.json {
            return 200 '{"sid":"$SID","status":"active"}';
        }
        location = /2010-04-01/Accounts/$SID/IncomingPhoneNumbers/PN18005551212000000000000000000000.json {
            return 200 '{"sid":"PN18005551212000000000000000000000","phone_number":"+18005551212","capabilities":{"voice":true,"sms":false}}';
        }
_EOC_

sub doc_setup {
    ::prepare(::workspace(1),
              "POST /api/v1/telephony/providers/twilio\n"
              . qq({"mode":"own","friendly_name":"Docs","account_sid":"$SID",)
              . '"auth_token":"12345"}',
              "POST /api/v1/phone-numbers/add-twilio\n"
              . '{"phone_number":"+18005551212",'
              . '"number_sid":"PN18005551212000000000000000000000"}',
              "POST /api/v1/dispatch-rules\n"
              . '{"phone_number":"+18005551212","agent_id":"agent-doc"}');
}

our $DOC_BODY = 'CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234'
              . '&From=%2B14158675309&To=%2B18005551212';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a signed webhook for a number with a rule: TwiML dialling the agent
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::setup(rule => 1);
--- more_headers eval
(::webhook(\%::CALL))[1] . "Content-Type: application/x-www-form-urlencoded\n"
--- request eval
"POST /twilio/voice\n" . (::webhook(\%::CALL))[0]
--- error_code: 200
--- response_headers
Content-Type: text/xml
--- response_body chomp
<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true"><Sip>sip:+14155550123@68uajga988j.sip.livekit.cloud?X-Agnitel-Agent=agent-7</Sip></Dial></Response>



=== TEST 2: behind a TLS-terminating proxy the URL signed is https
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::setup(rule => 1);
--- more_headers eval
(::webhook(\%::CALL, url => 'https://localhost/twilio/voice?tenant=a%20b'))[1]
. "X-Forwarded-Proto: https\nContent-Type: application/x-www-form-urlencoded\n"
--- request eval
"POST /twilio/voice?tenant=a%20b\n" . (::webhook(\%::CALL))[0]
--- error_code: 200
--- response_body_like: <Dial answerOnBridge="true">



=== TEST 3: signed, but the number has no rule: busy
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::setup();
--- more_headers eval
(::webhook(\%::CALL))[1] . "Content-Type: application/x-www-form-urlencoded\n"
--- request eval
"POST /twilio/voice\n" . (::webhook(\%::CALL))[0]
--- error_code: 200
--- response_body chomp
<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>



=== TEST 4: signed with another account's token: 403, rejected
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::setup(rule => 1);
--- more_headers eval
(::webhook(\%::CALL, token => 'another-accounts-token'))[1]
. "Content-Type: application/x-www-form-urlencoded\n"
--- request eval
"POST /twilio/voice\n" . (::webhook(\%::CALL))[0]
--- error_code: 403
--- response_body_like: <Reject
--- error_log
a voice webhook for +14155550123 without a valid signature



=== TEST 5: no signature: 403
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::setup(rule => 1);
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /twilio/voice\n" . (::webhook(\%::CALL))[0]
--- error_code: 403



=== TEST 6: a body changed after signing: 403
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::setup(rule => 1);
--- more_headers eval
(::webhook(\%::CALL))[1] . "Content-Type: application/x-www-form-urlencoded\n"
--- request eval
"POST /twilio/voice\n" . (::webhook({ %::CALL, From => '+12125550199' }))[0]
--- error_code: 403



=== TEST 7: bad input is a 4xx reject: no To, To not E.164, a parameter twice, a bad escape (400), a body over 64 KiB (413)
--- http_config eval: ::twilio_config($::NUMBER)
--- init
::setup(rule => 1);
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA=
--- request eval
[
    "POST /twilio/voice\nCallSid=CA1&From=%2B12125550100",
    "POST /twilio/voice\nTo=4155550123",
    "POST /twilio/voice\nTo=%2B14155550123&To=%2B14155550124",
    "POST /twilio/voice\nTo=%2B14155550123&From=%2",
    "POST /twilio/voice\nTo=%2B14155550123&Pad=" . ('x' x 65536),
    "GET /twilio/voice",
]
--- error_code eval
[400, 400, 400, 400, 413, 405]
--- response_body_like eval
[
    '<Reject reason="busy"/>',
    '<Reject reason="busy"/>',
    '<Reject reason="busy"/>',
    '<Reject reason="busy"/>',
    '<Reject reason="busy"/>',
    '"code":"method_not_allowed"',
]



=== TEST 8: Twilio's documented example signature is accepted as is; one changed parameter is not
--- http_config eval: ::twilio_config($::DOC_NUMBER)
--- init
::doc_setup();
--- more_headers eval
[
    "Host: mycompany.com\nX-Forwarded-Proto: https\n"
    . "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=\n"
    . "Content-Type: application/x-www-form-urlencoded\n",
    "Host: mycompany.com\nX-Forwarded-Proto: https\n"
    . "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=\n"
    . "Content-Type: application/x-www-form-urlencoded\n",
]
--- request eval
[
    "POST /myapp.php?foo=1&bar=2\n$::DOC_BODY",
    "POST /myapp.php?foo=1&bar=2\n" . ($::DOC_BODY =~ s/Digits=1234/Digits=1235/r),
]
--- error_code eval
[200, 403]
--- response_body_like eval
[
    '<Sip>sip:\+18005551212@68uajga988j\.sip\.livekit\.cloud\?X-Agnitel-Agent=agent-doc</Sip>',
    '<Reject reason="busy"/>',
]
