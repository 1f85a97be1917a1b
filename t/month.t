# A managed month played out with seconds for days: connect with the
# terms, top up, buy two numbers; the first renews, the second lapses into
# grace and is released for good; unused credits expire at the cycle's
# end; the first, short of credits at its next renewal, goes to grace and
# is renewed by hand.  At every step the ledger, the balance and the
# statuses add up.
#
# Periods: renewal 4 s, grace window 8 s, billing cycle 6 s; jobs every
# second.  Every step waits for its condition, not for a time.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Agnitel::Nginx;

# Under TEST_NGINX_USE_VALGRIND the month plays out in one process under
# memcheck: ledger, renewals, grace, releases at the carrier and expiry.
my $vg = $ENV{TEST_NGINX_USE_VALGRIND};
my $patience = $vg ? 60 : 20;

my $PLATFORM = 'AC00000000000000000000000000000000';
my $port = Agnitel::Nginx::test_port(19);
my $sandbox = $port + 2;

my $to_front = Agnitel::Nginx::twilio_location($port + 1);

my $n = Agnitel::Nginx->new(name => 'month', port => $port);
$n->write_file('secret.key', 'o' x 32);
$n->write_file('platform.token', "sandbox-auth-token\n");

$n->write_config(<<"END");
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;
    agnitel_twilio_managed account_sid=$PLATFORM
                           auth_token_file=platform.token;
    agnitel_billing renewal=4s window=8s cycle=6s;
    agnitel_jobs interval=1s reconcile_after=10s timeout=2s;
    agnitel_twilio_url http://127.0.0.1:\$CARRIER_PORT;

    log_format carrier '\$request_method \$request_uri';

    server {
        listen 127.0.0.1:\$PORT;
$to_front
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    # the carrier: down (503) while html/down exists; while html/gone
    # exists it answers a DELETE with 404, as Twilio does for a number
    # already released (by a leader killed before it released it here)
    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        root html;
        access_log logs/carrier.log carrier;
        location / {
            if (-f \$document_root/down) {
                return 503 '{"code":20503,"message":"down","status":503}';
            }
            set \$gone "";
            if (-f \$document_root/gone) {
                set \$gone "\$request_method";
            }
            if (\$gone = DELETE) {
                return 404 '{"code":20404,"message":"gone","status":404}';
            }
            proxy_pass http://127.0.0.1:$sandbox;
        }
    }

    server {
        listen 127.0.0.1:$sandbox;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }
END
$vg ? $n->start_valgrind : $n->start;

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

*micros = \&Agnitel::Nginx::micros;

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
my $C = '+15005550043';     # told not to renew

# --- connect with the terms, top up, buy two numbers

my ($status, $body) = api(GET => '/api/v1/telephony/terms');
my $version = $body->{data}{version};

($status, $body) = api(POST => '/api/v1/telephony/providers/twilio',
    qq({"mode":"managed","friendly_name":"M","accept_terms":true,)
  . qq("terms_version":"$version"}));
is($status, 201, 'day 0: connected with the terms');
my $sub = $body->{data}{account_sid};

# three purchases, one renewal, and half a dollar to expire
topup('5.1', 'month-1');

for my $e164 ($A, $B, $C) {
    ($status) = api(POST => '/api/v1/phone-numbers/buy',
                    qq({"phone_number":"$e164","price":1.15}));
    is($status, 201, "$e164 bought");
}

is(balance(), micros('1.65'), 'the balance after three purchases');
adds_up('purchases');

($status, $body) = api(PATCH => "/api/v1/phone-numbers/$C",
                       '{"auto_renew":false}');
is($body->{data}{auto_renew}, JSON::PP::false, 'C is not to renew');

my $a_renews = number($A)->{renews_at};

# --- at renews_at: A is renewed, B (the credits are short) goes to grace

# C may have been bought a second after B, and so come due a second later
$n->wait_for(sub { number($B)->{status} eq 'grace'
                   && number($C)->{status} eq 'grace' },
             'B and C in grace', $patience);

is(number($A)->{status}, 'active', 'A renewed: still active');
isnt(number($A)->{renews_at}, $a_renews, 'its renews_at moved on');
ok(number($B)->{grace_ends_at}, 'B has a grace_ends_at');
is(number($B)->{is_active}, JSON::PP::true, 'a number in grace still works');

($status, $body) = api(POST => '/api/v1/dispatch-rules',
                       qq({"phone_number":"$B","agent_id":"a1"}));
is($status, 409, 'a number in grace takes no new dispatch rule');
is($body->{error}{code}, 'number_not_active', 'number_not_active');
is(number($C)->{status}, 'grace', 'C, not renewing, went to grace as well');
like(types(), qr/^topup number_purchase number_purchase number_purchase number_renewal/,
     'the ledger: top-up, three purchases, one renewal (not C\'s)');
is(balance(), micros('0.5'), 'half a dollar left');
adds_up('renewal');

($status, $body) = api(POST => "/api/v1/phone-numbers/$A/renew");
is($status, 409, 'renewing an active number by hand: 409');
is($body->{error}{code}, 'invalid_state', 'invalid_state');

($status, $body) = api(POST => "/api/v1/phone-numbers/$B/renew");
is($status, 402, 'renewing B without credits: 402');
is($body->{error}{code}, 'insufficient_credits', 'insufficient_credits');

# --- the cycle ends: unused credits expire

$n->wait_for(sub { types() =~ /expiry/ }, 'the cycle to end', $patience);

my ($expiry) = grep { $_->{type} eq 'expiry' } ledger();
is($expiry->{amount}, -0.5, 'the half dollar expired');
is(balance(), 0, 'nothing left');
adds_up('expiry');

# --- B's window closes while the carrier is down: it waits, in grace

$n->write_file('html/down', '', 0644);

$n->wait_for(sub {
    my ($s, $jobs) = $n->request(GET => '/admin/v1/jobs');
    $jobs =~ /"name":"renew"[^}]*"last_error":"the carrier failed"/;
}, 'a release that fails', $patience);

is(number($B)->{status}, 'grace', 'B stays in grace, never active again');

# --- the carrier has it released already: released here, once

unlink $n->prefix . '/html/down';
$n->write_file('html/gone', '', 0644);

$n->wait_for(sub { (api(GET => "/api/v1/phone-numbers/$B"))[0] == 404 },
             'B to be released', $patience);

unlink $n->prefix . '/html/gone';

# the job logs the release once its commit is synced, which may be after
# another worker has read the number gone
my $lapsed = qr/renew: \Q$B\E of workspace \S+ was not renewed in time: released for good/;
$n->wait_for(sub { $n->error_log =~ $lapsed }, "B's release logged",
             $patience);
my @released = $n->error_log =~ /$lapsed/g;
is(scalar @released, 1, 'B was released once');

$n->wait_for(sub { (api(GET => "/api/v1/phone-numbers/$C"))[0] == 404 },
             'C to be released', $patience);

($status, $body) = api(GET => '/api/v1/phone-numbers?status=released');
my ($gone) = grep { $_->{phone_number} eq $B } @{$body->{data}};
is($gone->{status}, 'released', 'B is released');
is($gone->{release_reason}, 'renewal_missed', 'because its renewal was missed');
like($n->read_file('logs/carrier.log'),
     qr{^DELETE /2010-04-01/Accounts/$sub/IncomingPhoneNumbers/PN[0-9a-f]{32}\.json$}m,
     'asked of the carrier, in the subaccount');
unlike(types(), qr/reversal|refund/, 'no refund for it');

# --- A's next renewal finds nothing: grace, and renewed by hand

$n->wait_for(sub { number($A)->{status} eq 'grace' }, 'A in grace', $patience);

topup('2.3', 'month-2');

# five renewals at once, with credits for two: one debit
my @statuses = map { $_->[0] }
               $n->at_once(1, map { [POST => "/api/v1/phone-numbers/$A/renew"] }
                                  1 .. 5);
is(join(' ', sort @statuses), '200 409 409 409 409',
   'A renewed by hand during its grace: five at once, one renewal');

$body = number($A);
is($body->{status}, 'active', 'active again');
is($body->{grace_ends_at}, undef, 'no longer in grace');
is(balance(), micros('1.15'), 'one renewal debited');
like(types(), qr/number_renewal expiry topup number_renewal$/,
     'the ledger ends: expiry, top-up, renewal by hand');
adds_up('a renewal by hand');

unlike($n->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert in the log');

$n->valgrind_clean if $vg;

$n->stop;

done_testing;
