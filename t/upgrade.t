# A store written before number records had a "due" (record version 2:
# when the renew job must next look at a number, so that its runs parse
# no record before then).  The suite buys a managed number, rewrites its
# record as version 1 wrote it (nginx stopped; mdb_dump and mdb_load),
# then starts nginx again: the number is still read and listed as it
# was, is renewed at renews_at, and that renewal writes it as version 2.
# Under TEST_NGINX_USE_VALGRIND it runs under memcheck.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::Local qw(timegm);
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};
my $patience = $vg ? 60 : 20;

my $port = Agnitel::Nginx::test_port(37);
my $sandbox = $port + 2;

my $n = Agnitel::Nginx->new(name => 'upgrade', port => $port);
$n->write_file('secret.key', 'u' x 32);
$n->write_file('platform.token', "sandbox-auth-token\n");

my $to_sandbox = Agnitel::Nginx::twilio_location($sandbox);

sub configure {
    my ($jobs) = @_;

    $n->write_config(<<"END");
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;
    agnitel_twilio_managed account_sid=AC00000000000000000000000000000000
                           auth_token_file=platform.token;
    agnitel_billing renewal=5s window=1h cycle=1d;
    $jobs

    server {
        listen 127.0.0.1:\$PORT;
$to_sandbox
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    server {
        listen 127.0.0.1:$sandbox;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }
END
}

sub start { $vg ? $n->start_valgrind : $n->start }
sub stop { $vg ? $n->valgrind_clean : $n->stop }

configure('');
start();

my $ws = $n->workspace(1);
my $json = JSON::PP->new;

sub api {
    my ($status, $body) = $n->api(1, @_);
    return ($status, eval { $json->decode($body) } // $body);
}

*micros = \&Agnitel::Nginx::micros;

my $E164 = '+15005550077';

my ($status, $body) = api(GET => '/api/v1/telephony/terms');
($status) = api(POST => '/api/v1/telephony/providers/twilio',
    qq({"mode":"managed","friendly_name":"M","accept_terms":true,)
  . qq("terms_version":"$body->{data}{version}"}));
is($status, 201, 'managed Twilio connected');

# a purchase and one renewal
($status) = $n->request(POST => "/admin/v1/workspaces/$ws/credits",
                        '{"amount":2.3,"reference":"upgrade"}');
is($status, 201, 'topped up');

($status, $body) = api(POST => '/api/v1/phone-numbers/buy',
                       qq({"phone_number":"$E164","price":1.15}));
is($status, 201, 'a managed number bought');

my $bought = $body->{data};

stop();

# --- the record as version 1 wrote it: header (version 1), view, record

sub version { ord(($n->store_record('numbers'))[0]) }

is(version(), 2, 'records are written as version 2');

# header (12 bytes, the version first), then the 8 bytes of "due" to drop
my ($v1, $put) = $n->store_record('numbers');
$put->("\x01" . substr($v1, 1, 11) . substr($v1, 20));

is(version(), 1, 'the record is rewritten as version 1');

# --- read as it was

start();

($status, $body) = api(GET => "/api/v1/phone-numbers/$E164");
is($status, 200, 'a version 1 record is read');
is_deeply($body->{data}, $bought, 'as it was bought');

($status, $body) = api(GET => '/api/v1/phone-numbers?status=active');
is(scalar @{$body->{data}}, 1, 'and listed');
is($body->{data}[0]{phone_number}, $E164, 'the number');

# --- jobs on: renewed at renews_at, the record written as version 2

stop();
configure('agnitel_jobs interval=1s reconcile_after=1h timeout=2s;');
start();

sub number { (api(GET => "/api/v1/phone-numbers/$E164"))[1]{data} }

$n->wait_for(sub { number()->{renews_at} ne $bought->{renews_at} },
             'the renewal', $patience);

($status, $body) = api(GET => '/api/v1/billing/ledger?limit=10');
my @renewals = grep { $_->{type} eq 'number_renewal' } @{$body->{data}};
is(scalar @renewals, 1, 'renewed once');
is(micros($renewals[0]{amount}), -micros('1.15'), 'for its monthly price');

sub epoch {
    my @t = $_[0] =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)Z$/
        or die "not a time: $_[0]\n";
    return timegm($t[5], $t[4], $t[3], $t[2], $t[1] - 1, $t[0]);
}

is(epoch(number()->{renews_at}) - epoch($bought->{renews_at}), 5,
   'its renews_at moved on by one renewal period');

stop();

is(version(), 2, 'the renewal wrote the record as version 2');

done_testing;
