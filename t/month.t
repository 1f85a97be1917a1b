# A managed month played out with seconds for days: connect with the
# terms, top up, buy two numbers; the first renews, the second lapses into
# grace and is released for good; unused credits expire at the cycle's
# end; the first, short of credits at its next renewal, goes to grace and
# is renewed by hand.  At every step the ledger, the balance and the
# statuses add up.
#
# Periods: renewal 3 s, grace window 4 s, billing cycle 5 s; jobs every
# second.  Every step waits for its condition, not for a time.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $PLATFORM = 'AC00000000000000000000000000000000';
my $port = Agnitel::Nginx::test_port(19);
my $sandbox = $port + 2;

my $n = Agnitel::Nginx->new(name => 'month', port => $port);
$n->write_file('secret.key', 'o' x 32);
$n->write_file('platform.token', "sandbox-auth-token\n");

$n->write_config(<<"END");
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;
    agnitel_twilio_managed account_sid=$PLATFORM
                           auth_token_file=platform.token;
    agnitel_billing renewal=3s window=4s cycle=5s;
    agnitel_jobs interval=1s reconcile_after=10s timeout=2s;
    agnitel_twilio_url http://127.0.0.1:\$CARRIER_PORT;

    log_format carrier '\$request_method \$request_uri';

    server {
        listen 127.0.0.1:\$PORT;
        agnitel_twilio_api /_twilio/;
        location /_twilio/ {
            internal;
            proxy_pass http://127.0.0.1:\$CARRIER_PORT/;
            proxy_pass_request_headers off;
            proxy_set_header Authorization \$agnitel_upstream_authorization;
            proxy_set_header Content-Type application/x-www-form-urlencoded;
            proxy_set_header Accept-Encoding "";
        }
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        access_log logs/carrier.log carrier;
        location / { proxy_pass http://127.0.0.1:$sandbox; }
    }

    server {
        listen 127.0.0.1:$sandbox;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }
END
$n->start;

my $ws = $n->workspace(1);
my $json = JSON::PP->new;

sub api {
    my ($status, $body) = $n->api(1, @_);
    return ($status, eval { $json->decode($body) } // $body);
}

sub topup {
    my ($amount, $ref) = @_;
    my ($status) = $n->request(POST => "/admin/v1/workspaces/$ws/credits",
                               qq({"amount":$amount,"reference":"$ref"}));
    is($status, 201, "top-up of $amount");
}

sub micros {
    my ($s) = @_;
    my ($sign, $int, $frac) = $s =~ /^(-?)(\d+)(?:\.(\d{1,6}))?$/
        or die "not money: $s";
    $frac = substr(($frac // '') . '000000', 0, 6);
    my $m = $int * 1_000_000 + $frac;
    return $sign ? -$m : $m;
}

sub ledger { @{(api(GET => '/api/v1/billing/ledger?limit=200'))[1]{data}} }
sub types { join ' ', reverse map { $_->{type} } ledger() }
sub balance { micros((api(GET => '/api/v1/billing'))[1]{data}{balance}) }
sub number { (api(GET => "/api/v1/phone-numbers/$_[0]"))[1]{data} }

sub adds_up {
    my ($what) = @_;
    my $sum = 0;
    $sum += micros($_->{amount}) for ledger();
    is(balance(), $sum, "$what: the balance is the ledger's sum");
}

my $A = '+15005550041';
my $B = '+15005550042';

# --- connect with the terms, top up, buy two numbers

my ($status, $body) = api(GET => '/api/v1/telephony/terms');
my $version = $body->{data}{version};

($status, $body) = api(POST => '/api/v1/telephony/providers/twilio',
    qq({"mode":"managed","friendly_name":"M","accept_terms":true,)
  . qq("terms_version":"$version"}));
is($status, 201, 'day 0: connected with the terms');
my $sub = $body->{data}{account_sid};

# two purchases, one renewal, and half a dollar to expire
topup('3.95', 'month-1');

for my $e164 ($A, $B) {
    ($status) = api(POST => '/api/v1/phone-numbers/buy',
                    qq({"phone_number":"$e164","price":1.15}));
    is($status, 201, "$e164 bought");
}

is(balance(), micros('1.65'), 'the balance after two purchases');
adds_up('purchases');

my $a_renews = number($A)->{renews_at};

# --- at renews_at: A is renewed, B (the credits are short) goes to grace

$n->wait_for(sub { number($B)->{status} eq 'grace' }, 'B in grace', 15);

is(number($A)->{status}, 'active', 'A renewed: still active');
isnt(number($A)->{renews_at}, $a_renews, 'its renews_at moved on');
ok(number($B)->{grace_ends_at}, 'B has a grace_ends_at');
is(number($B)->{is_active}, JSON::PP::true, 'a number in grace still works');
like(types(), qr/^topup number_purchase number_purchase number_renewal/,
     'the ledger: top-up, two purchases, one renewal');
is(balance(), micros('0.5'), 'half a dollar left');
adds_up('renewal');

($status, $body) = api(POST => "/api/v1/phone-numbers/$A/renew");
is($status, 409, 'renewing an active number by hand: 409');
is($body->{error}{code}, 'invalid_state', 'invalid_state');

($status, $body) = api(POST => "/api/v1/phone-numbers/$B/renew");
is($status, 402, 'renewing B without credits: 402');
is($body->{error}{code}, 'insufficient_credits', 'insufficient_credits');

# --- the cycle ends: unused credits expire

$n->wait_for(sub { types() =~ /expiry/ }, 'the cycle to end', 15);

my ($expiry) = grep { $_->{type} eq 'expiry' } ledger();
is($expiry->{amount}, -0.5, 'the half dollar expired');
is(balance(), 0, 'nothing left');
adds_up('expiry');

# --- B's window closes: released at the carrier, then for good here

$n->wait_for(sub { (api(GET => "/api/v1/phone-numbers/$B"))[0] == 404 },
             'B to be released', 15);

($status, $body) = api(GET => '/api/v1/phone-numbers?status=released');
my ($gone) = grep { $_->{phone_number} eq $B } @{$body->{data}};
is($gone->{status}, 'released', 'B is released');
is($gone->{release_reason}, 'renewal_missed', 'because its renewal was missed');
like($n->read_file('logs/carrier.log'),
     qr{^DELETE /2010-04-01/Accounts/$sub/IncomingPhoneNumbers/PN[0-9a-f]{32}\.json$}m,
     'released at the carrier, in the subaccount');
unlike(types(), qr/reversal|refund/, 'no refund for it');

# --- A's next renewal finds nothing: grace, and renewed by hand

$n->wait_for(sub { number($A)->{status} eq 'grace' }, 'A in grace', 15);

topup('1.15', 'month-2');

($status, $body) = api(POST => "/api/v1/phone-numbers/$A/renew");
is($status, 200, 'A renewed by hand during its grace');
is($body->{data}{status}, 'active', 'active again');
is($body->{data}{grace_ends_at}, undef, 'no longer in grace');
is(balance(), 0, 'the renewal took the top-up');
like(types(), qr/number_renewal expiry topup number_renewal$/,
     'the ledger ends: expiry, top-up, renewal by hand');
adds_up('a renewal by hand');

unlike($n->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert in the log');

$n->stop;

done_testing;
