# Contract: the two Twilio Verify v2 calls of the Indian provider's mobile
# OTP (the code sent: POST Verifications with To, Channel=sms; the code
# checked: POST VerificationCheck with To, Code; both with the platform's
# credentials) against Prism serving Twilio's official description of
# Verify, and any request Prism's validator rejects fails the suite.
# t/india.t checks the flow against the sandbox's emulator, which is ours;
# this checks the requests against what Twilio publishes.
#
# Needs ../shared/twilio-oai/twilio_verify_v2.json
# (AGNITEL_TWILIO_VERIFY_OAI overrides the path) and Prism from
# package-lock.json, as t/contract/twilio.t.  Ports: nginx 2015, Prism
# 4019, both moved with TEST_NGINX_PORT (Agnitel::Nginx::test_port), or set
# with AGNITEL_CONTRACT_VERIFY_NGINX_PORT, AGNITEL_CONTRACT_VERIFY_PRISM_PORT.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Agnitel::Nginx;
use Agnitel::Prism;

use JSON::PP ();
use MIME::Base64 ();

my $spec  = $ENV{AGNITEL_TWILIO_VERIFY_OAI}
            // "$FindBin::Bin/../../../shared/twilio-oai/twilio_verify_v2.json";
my $prism = $Agnitel::Prism::BINARY;

my $NGINX_PORT = $ENV{AGNITEL_CONTRACT_VERIFY_NGINX_PORT}
                 || Agnitel::Nginx::test_port(31);
my $PRISM_PORT = $ENV{AGNITEL_CONTRACT_VERIFY_PRISM_PORT}
                 || Agnitel::Nginx::test_port(2035);

plan skip_all => "Twilio's Verify OpenAPI description is not at $spec: "
               . 'the contract suite needs ../shared/twilio-oai'
    unless -f $spec;

plan skip_all => "Prism is not installed ($prism is missing): "
               . 'run "npm ci" in the repository, or "make test-contract"'
    unless -x $prism;

plan skip_all => 'starts its own master and workers and Prism; '
               . 'not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $json = JSON::PP->new->utf8;

# the platform's Verify service and account: any SIDs of the right shape
# (the description's patterns: VA or AC and 32 hex digits)
my $SERVICE = 'VA' . '0123456789abcdef' x 2;
my $ACCOUNT = 'AC' . 'fedcba9876543210' x 2;
my $MOBILE  = '+919898989898';


# --- what Prism will answer: the description's example of a check

# Whether the code is right is Prism's example's "status": "approved" and
# the API verifies the mobile, "pending" and it is a wrong code.  Read from
# the description rather than assumed, so a newer one does not break the
# suite.
my $check = Agnitel::Prism::examples(
    Agnitel::Prism::read_spec($spec),
    '/v2/Services/{ServiceSid}/VerificationCheck', 'post');

my %statuses = map { ($_->{status} // '(none)') => 1 } values %$check;
die 'the VerificationCheck examples disagree on "status": '
    . join(', ', sort keys %statuses) . "\n"
    unless keys %statuses == 1;

my ($CHECKED) = keys %statuses;
die "the VerificationCheck example's status is \"$CHECKED\", "
    . "neither approved nor pending\n"
    unless $CHECKED =~ /^(?:approved|pending)$/;

note "Prism's VerificationCheck example says \"$CHECKED\"";


# --- nginx's prefix first: Prism's log goes into it

my $n = Agnitel::Nginx->new(name => 'contract_verify', port => $NGINX_PORT);


# --- Prism (which stops nginx, then itself, when the test ends)

my $p = Agnitel::Prism->new(spec => $spec, port => $PRISM_PORT,
                            nginx => $n)->start;


# --- nginx, configured as in production but for the upstream

# the internal location is the one conf-examples/ gives, with Prism for
# verify.twilio.com (plain HTTP, so no proxy_ssl_*)
$n->write_file('secret.key', join '', map { chr(($_ * 7 + 5) % 256) } 1 .. 32);
$n->write_file('platform.token', "f00dfacef00dfacef00dfacef00dface\n");

$n->write_config(<<"END", workers => 2);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_verify service_sid=$SERVICE account_sid=$ACCOUNT
                   auth_token_file=platform.token;

    # in a subrequest \$request_method and \$request_uri are the main
    # request's (the API route), \$uri the carrier path
    log_format carrier '\$request_method \$request_uri \$uri \$status';

    server {
        listen 127.0.0.1:\$PORT;

        agnitel_verify_api /_verify/;

        location /_verify/ {
            internal;
            proxy_pass http://127.0.0.1:$PRISM_PORT/;
            proxy_pass_request_headers off;
            proxy_set_header Authorization \$agnitel_upstream_authorization;
            proxy_set_header Content-Type application/x-www-form-urlencoded;

            # nginx's own record of every carrier call and Prism's status:
            # a request refused before Prism logs it still shows here
            log_subrequest on;
            access_log logs/carrier.log carrier;
        }

        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END

$n->start;
$n->workspace(1);

sub api_is {
    my ($want, $what, $method, $path, $body) = @_;
    my ($status, $answer) = $n->api(1, $method, $path, $json->encode($body));
    is($status, $want, $what) or diag "$method $path: $answer";
    return eval { $json->decode($answer) } || {};
}


# --- the two operations

my $d = api_is(201, 'the Indian provider is created',
               POST => '/api/v1/telephony/providers/india',
               { friendly_name => 'India' });
is($d->{data}{state}, 'otp_required', 'waiting for the mobile OTP');

# send: POST Verifications (To, Channel=sms)
$d = api_is(202, 'send: a code is sent to the mobile',
            POST => '/api/v1/telephony/india/otp', { mobile => $MOBILE });
is($d->{data}{status}, 'pending', 'send: pending');

# check: POST VerificationCheck (To, Code); Prism's example decides
$d = api_is($CHECKED eq 'approved' ? 200 : 422,
            "check: the code is checked (Prism says $CHECKED)",
            POST => '/api/v1/telephony/india/otp/check',
            { mobile => $MOBILE, code => '123456' });

if ($CHECKED eq 'approved') {
    is($d->{data}{state}, 'kyc_required', 'check: KYC comes next');
} else {
    is($d->{error}{code}, 'otp_invalid', 'check: otp_invalid');
}


# --- what Prism made of it

my @calls = $p->requests;
my $base = "/v2/Services/$SERVICE";

# the suite cannot pass by sending nothing: each operation reached Prism
for ([send => qr{^POST \Q$base\E/Verifications$}],
     [check => qr{^POST \Q$base\E/VerificationCheck$}])
{
    my ($op, $re) = @$_;
    is(scalar(grep { $_->{request} =~ $re } @calls), 1,
       "Prism received $op (1 request)")
        or diag join "\n", 'Prism received:', map { $_->{request} } @calls;
}

is(scalar @calls, 2, 'and nothing else');

# what nginx saw: two carrier calls, each answered with a 2xx
my @carrier = split /\n/, $n->read_file('logs/carrier.log');
is(scalar @carrier, 2, 'nginx made two carrier calls')
    or diag join "\n", @carrier;
is_deeply([grep { !/ 2\d\d$/ } @carrier], [], 'Prism answered each with a 2xx');

# the point of the suite: every request passed Prism's validator
$p->validator_accepts(@calls);
$p->no_rejection;

# and the markers it looks for do see a rejection: a send with the
# credentials and Channel but no To, which the description requires, so
# that it is the form's validation that trips them
$p->canary(POST => "$base/Verifications", {
    headers => { Authorization => 'Basic '
                                  . MIME::Base64::encode_base64(
                                      "$ACCOUNT:f00dface", ''),
                 'Content-Type' => 'application/x-www-form-urlencoded' },
    content => 'Channel=sms' });

unlike($n->error_log, qr/\[(?:alert|emerg|crit)\]/, 'nginx: no alert');

done_testing();
