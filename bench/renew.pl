#!/usr/bin/env perl
# make bench: managed billing at scale.  Buys at least 10,000 managed
# numbers (through the sandbox, with jobs off), lets their renewal come
# due, then turns jobs on (a reload): the first renew run finds them all
# due at once.  Prints how long that run took and how many it renewed,
# and, separately, how many ledger entries per second the write path
# records (wrk posting top-ups, each a new reference).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Agnitel::Nginx;
use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use Time::HiRes qw(sleep);

my $want    = $ENV{BENCH_RENEWALS} || 10_000;
my $port    = 1987;
my $sandbox = $port + 2;
my $lua     = "$FindBin::Bin/buy.lua";
my $http    = HTTP::Tiny->new(keep_alive => 0);

my $dir = "$FindBin::Bin/../build/bench-renew";
remove_tree($dir);
make_path($dir);

my $n = Agnitel::Nginx->new(name => 'bench_renew', port => $port);
$n->write_file('secret.key', 'n' x 32);
$n->write_file('platform.token', "sandbox-auth-token\n");

my $to_sandbox = Agnitel::Nginx::twilio_location($sandbox);

my $config = <<"END";
    agnitel_store $dir/store map_size=1g;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;
    agnitel_twilio_managed account_sid=AC00000000000000000000000000000000
                           auth_token_file=platform.token;
    agnitel_billing renewal=RENEWAL window=1h cycle=1d;
    JOBS

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

sub configure {
    my ($jobs, $renewal) = @_;
    (my $c = $config) =~ s/JOBS/$jobs/;
    $c =~ s/RENEWAL/$renewal || '5s'/e;
    $n->write_config($c, workers => 2, log_level => 'info');
}

configure('');
$n->start;
my $ws = $n->workspace(1);
my $key = Agnitel::Nginx::api_key(1);

sub post {
    my ($path, $body, %h) = @_;
    my $res = $http->post("http://127.0.0.1:$port$path",
        { headers => { 'Content-Type' => 'application/json', %h },
          content => $body });
    return $res->{status};
}

post('/api/v1/telephony/providers/twilio',
     '{"mode":"managed","friendly_name":"M","accept_terms":true,'
     . '"terms_version":"1"}', 'X-Api-Key' => $key) == 201
    or die "connect failed\n";

post("/admin/v1/workspaces/$ws/credits",
     '{"amount":1000000,"reference":"bench"}') == 201
    or die "top-up failed\n";

sub total {
    my $res = $http->get("http://127.0.0.1:$port/api/v1/phone-numbers"
                         . "?status=active&limit=1",
                         { headers => { 'X-Api-Key' => $key } });
    return $res->{content} =~ /"total":(\d+)/ ? $1 : 0;
}

print "buying $want managed numbers...\n";

my $base = 0;

while (total() < $want) {
    $base += 10_000_000;
    my $out = `wrk -t2 -c64 -d5s -s '$lua' 'http://127.0.0.1:$port' -- $key $base 2>&1`;
    die "wrk failed: $out" if $?;
    my ($statuses) = $out =~ /^statuses: (.*)$/m;
    print "  $statuses\n";
}

my $numbers = total();

# every renews_at past, then jobs on: one run finds them all due

sleep 6;
my $log = length $n->error_log;
configure('agnitel_jobs interval=1s reconcile_after=1h timeout=5s;');
$n->reload;

my ($items, $ms);
$n->wait_for(sub {
    ($items, $ms) = substr($n->error_log, $log)
        =~ /agnitel_jobs: renew: ([1-9]\d*) settled, \d+ failed in (\d+) ms/;
    defined $ms;
}, 'the renew run', 120);

# then renewals a day apart: once a run has caught up with the numbers
# still due, the runs find none due, having looked at every paid number
# in the leader's event loop

$log = length $n->error_log;
configure('agnitel_jobs interval=1s reconcile_after=1h timeout=5s;', '1d');
$n->reload;

my $idle;
$n->wait_for(sub {
    ($idle) = substr($n->error_log, $log)
        =~ /agnitel_jobs: renew: 0 settled, 0 failed in (\d+) ms/;
    defined $idle;
}, 'a renew run with nothing due', 60);

# the ledger's write path: top-ups from 32 clients

my $out = `wrk -t2 -c32 -d5s -s '$FindBin::Bin/topup.lua' 'http://127.0.0.1:$port' -- $ws 0 2>&1`;
die "wrk failed: $out" if $? or $out !~ /Requests\/sec:\s+([\d.]+)/;
my $topups = $1;
my ($statuses) = $out =~ /^statuses: (.*)$/m;
die "top-ups refused: $statuses\n" unless $statuses =~ /^201=\d+$/;

$n->stop;
remove_tree($dir);

printf "renewals:            %d of %d numbers due at once renewed in one run "
       . "of %.2f s (%d ledger entries/s)\n",
       $items, $numbers, $ms / 1000, $items / ($ms / 1000 || 1);
printf "renew run, none due: %d ms over %d paid numbers\n", $idle, $numbers;
printf "ledger write path:   %.0f top-ups/s from 32 clients (target >= 5000)\n",
       $topups;
