# Indian telephony, its first steps: the provider and its states, the
# mobile OTP through Twilio Verify (the sandbox's emulator, in which code
# 123456 approves), the module's own limits (5 codes an hour per mobile, 5
# checks per code, 429 with Retry-After), Verify's errors as DESIGN maps
# them, steps out of order (409 invalid_state naming the next step), and
# the code in no log line and not in the store.  Under
# TEST_NGINX_USE_VALGRIND it runs under memcheck.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use MIME::Base64 qw(encode_base64);
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};

my $PLATFORM = 'AC00000000000000000000000000000000';
my $TOKEN = 'sandbox-auth-token';
my $SERVICE = 'VA' . ('0' x 31) . '1';

my $port = Agnitel::Nginx::test_port(27);
my $sandbox = $port + 1;

my $n = Agnitel::Nginx->new(name => 'india', port => $port);
$n->write_file('secret.key', 'i' x 32);
$n->write_file('platform.token', "$TOKEN\n");

my $to_verify = Agnitel::Nginx::carrier_location('agnitel_verify_api',
    '/_verify/', $port + 1);

$n->write_config(<<"END", workers => 2);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_verify service_sid=$SERVICE account_sid=$PLATFORM
                   auth_token_file=platform.token;

    server {
        listen 127.0.0.1:\$PORT;
$to_verify
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        location /v2/ { agnitel_twilio_sandbox; }
    }
END
$vg ? $n->start_valgrind : $n->start;

my $json = JSON::PP->new;

sub api {
    my ($ws, @req) = @_;
    my ($status, $body, $headers) = $n->api($ws, @req);
    return ($status, eval { $json->decode($body) } // $body, $headers);
}

sub otp { api($_[0], POST => '/api/v1/telephony/india/otp',
              qq({"mobile":"$_[1]"})) }
sub check { api($_[0], POST => '/api/v1/telephony/india/otp/check',
                qq({"mobile":"$_[1]","code":"$_[2]"})) }
sub create { api($_[0], POST => '/api/v1/telephony/providers/india',
                 '{"friendly_name":"India"}') }

# Verify itself, as the platform account, past the module
sub verify_direct {
    my ($resource, %form) = @_;
    my $res = HTTP::Tiny->new(keep_alive => 0)->post_form(
        "http://127.0.0.1:$sandbox/v2/Services/$SERVICE/$resource", \%form,
        { headers => { Authorization => 'Basic '
                       . encode_base64("$PLATFORM:$TOKEN", '') } });
    return $res->{status};
}

$n->workspace($_) for 1 .. 5;

# steps out of order, before there is a provider

my ($status, $body) = otp(1, '+919898989898');
is($status, 409, 'an OTP before the provider exists: 409');
is($body->{error}{code}, 'invalid_state', 'invalid_state');
like($body->{message}, qr{next, create it: POST /api/v1/telephony/providers/india},
     'which names the step that comes next');

# the provider

($status, $body) = create(1);
is($status, 201, 'the Indian provider is created');
is($body->{data}{type}, 'india', 'of type india');
is($body->{data}{state}, 'otp_required', 'waiting for the mobile OTP');
like($body->{data}{id}, qr/^prv_[0-9a-f]{16}$/, 'with an id');
ok(!exists $body->{data}{account_sid}, 'and no Twilio account field');

($status, $body) = create(1);
is($status, 409, 'a second one: 409');
is($body->{error}{code}, 'provider_exists', 'provider_exists');

($status, $body) = api(1, POST => '/api/v1/telephony/providers/india', '{}');
is($status, 400, 'no friendly_name: 400');
is($body->{error}{field}, 'friendly_name', 'naming the field');

($status, $body) = api(1, GET => '/api/v1/telephony/providers');
is(scalar @{ $body->{data} }, 1, 'the list shows it');
is($body->{data}[0]{state}, 'otp_required', 'with its state');

# bad mobiles: Indian mobiles only

for my $m ('+91987654321', '+915876543210', '+14155550100', '+9198989898980',
           '+91987654321x', '')
{
    ($status, $body) = otp(1, $m);
    is($status, 400, "mobile \"$m\": 400");
    is($body->{error}{field}, 'mobile', 'naming mobile');
}

($status, $body) = check(1, '+919898989898', '123456');
is($status, 409, 'a check before any code was sent: 409');
like($body->{message}, qr{POST /api/v1/telephony/india/otp},
     'saying to ask for a code first');

# the OTP

($status, $body) = otp(1, '+919898989898');
is($status, 202, 'a code is sent to the mobile');
is($body->{data}{status}, 'pending', 'pending');
is($body->{data}{mobile}, '+919898989898', 'to the mobile given');

($status, $body) = check(1, '+919898989898', '654321');
is($status, 422, 'a wrong code: 422');
is($body->{error}{code}, 'otp_invalid', 'otp_invalid');

($status, $body) = check(1, '+919898989898', '12a4');
is($status, 400, 'a code that is not digits: 400');
is($body->{error}{field}, 'code', 'naming code');

($status, $body) = check(1, '+919898989899', '123456');
is($status, 409, 'a check for another mobile than the one sent to: 409');

($status, $body) = check(1, '+919898989898', '123456');
is($status, 200, 'the right code verifies the mobile');
is($body->{data}{state}, 'kyc_required', 'KYC comes next');
is($body->{data}{mobile}, '+919898989898', 'the verified mobile is kept');

($status, $body) = otp(1, '+919898989898');
is($status, 409, 'an OTP once verified: 409');
like($body->{message}, qr{kyc_required: next, submit KYC},
     'the answer says KYC comes next');

($status, $body) = check(1, '+919898989898', '123456');
is($status, 409, 'and a check too');

# the module's limits

create(2);
for my $i (1 .. 5) {
    ($status) = otp(2, '+919800000001');
    is($status, 202, "code $i of the hour is sent");
}

my $headers;
($status, $body, $headers) = otp(2, '+919800000001');
is($status, 429, 'the sixth within the hour: 429');
is($body->{error}{code}, 'otp_attempts_exceeded', 'otp_attempts_exceeded');
ok($headers->{'retry-after'} >= 3500 && $headers->{'retry-after'} <= 3600,
   "Retry-After is when the first send leaves the hour ($headers->{'retry-after'} s)");

create(3);
($status) = otp(3, '+919800000002');
is($status, 202, 'a code for the check limit');
for my $i (1 .. 5) {
    ($status) = check(3, '+919800000002', '000000');
    is($status, 422, "wrong check $i");
}

($status, $body, $headers) = check(3, '+919800000002', '123456');
is($status, 429, 'a sixth check, even with the right code: 429');
ok($headers->{'retry-after'} >= 1, 'with Retry-After');

($status) = otp(3, '+919800000002');
is($status, 202, 'a new code may be asked for');
($status, $body) = check(3, '+919800000002', '123456');
is($status, 200, 'and it verifies');

# Verify's own refusals, as DESIGN maps them

create(4);
($status) = otp(4, '+919800000003');
is($status, 202, 'a code is sent');
is(verify_direct('VerificationCheck', To => '+919800000003',
                 Code => '123456'), 200,
   'and used up at Verify behind the module');
($status, $body) = check(4, '+919800000003', '123456');
is($status, 410, 'Verify no longer knows it (20404): 410');
is($body->{error}{code}, 'otp_expired', 'otp_expired');

create(5);
is(verify_direct('Verifications', To => '+919800000004', Channel => 'sms'),
   201, "Verify's own send limit is used up elsewhere") for 1 .. 5;
($status, $body) = otp(5, '+919800000004');
is($status, 429, 'Verify refuses the send (60203): 429');
is($body->{error}{code}, 'otp_attempts_exceeded', 'otp_attempts_exceeded');

# each workspace its own

($status, $body) = api(2, GET => '/api/v1/telephony/providers');
is($body->{data}[0]{state}, 'otp_required',
   "workspace 2 is still at its OTP: workspace 1's verification is its own");

# no code in a log line or in the store

my $log = $n->error_log;
unlike($log, qr/123456|654321/, 'no code in the error log');
my $store = $n->read_file('store/data.mdb');
unlike($store, qr/123456|654321/, 'no code in the store');

$vg ? $n->valgrind_clean : $n->stop;

done_testing;
