#!/usr/bin/env perl
# make bench: the reconcile job settling 1000 pending purchases against a
# fake carrier that answers every call after 200 ms, while wrk reads the
# list endpoint of another workspace: first 40 pending in each of 25
# accounts (one call per number), then 1000 in one account (its list, a
# page of 1000 at a time).  Prints how long each run took, how many carrier
# calls were in flight at most (from the carrier's access log), and the
# list throughput during the run against its idle figure just before.
#
# The purchases are made pending by buying through a carrier location that
# cannot connect; jobs are off meanwhile, and a reload turns them on.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Agnitel::Nginx;
use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use Time::HiRes qw(sleep);

my $pending  = $ENV{BENCH_PENDING}  || 1000;
my $numbers  = $ENV{BENCH_NUMBERS}  || 1000;
my $duration = $ENV{BENCH_DURATION} || 4;
my $latency  = 0.2;
my $port     = 1987;
my $carrier  = $port + 1;
my $sandbox  = $port + 2;
my $lost     = $port + 3;
my $list     = '/api/v1/phone-numbers?limit=50&offset=500';

my $dir = "$FindBin::Bin/../build/bench-reconcile";
remove_tree($dir);
make_path($dir);

my $n = Agnitel::Nginx->new(name => 'bench_reconcile', port => $port);
$n->write_file('secret.key', 'r' x 32);

my $to_sandbox = Agnitel::Nginx::twilio_location($sandbox);
my $to_nowhere = Agnitel::Nginx::twilio_location(1);

my $config = <<"END";
    agnitel_store $dir/store map_size=256m;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;
    agnitel_twilio_url http://127.0.0.1:$carrier;
    JOBS

    log_format calls '\$msec \$request_time';

    server {
        listen 127.0.0.1:$port;
$to_sandbox
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    # the fake carrier: owns none of the numbers, answers in 200 ms
    server {
        listen 127.0.0.1:$carrier;
        access_log logs/calls.log calls;
        default_type application/json;
        location / {
            echo_sleep $latency;
            echo '{"incoming_phone_numbers":[],"next_page_uri":null}';
        }
    }

    server {
        listen 127.0.0.1:$sandbox;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }

    server {
        listen 127.0.0.1:$lost;
$to_nowhere
        location /api/ { agnitel_api; }
    }
END

sub configure {
    my ($jobs) = @_;
    (my $c = $config) =~ s/JOBS/$jobs/;
    $n->write_config($c, workers => 2, log_level => 'info');
}

configure('');
$n->start;

my $http = HTTP::Tiny->new(keep_alive => 0);

sub post {
    my ($p, $ws, $path, $body) = @_;
    my $res = $http->post("http://127.0.0.1:$p$path",
        { headers => { 'X-Api-Key' => Agnitel::Nginx::api_key($ws),
                       'Content-Type' => 'application/json' },
          content => $body });
    return $res->{status};
}

# the list's workspace
my $reader = 100;
$n->workspace($reader);

for my $i (1 .. $numbers) {
    my $s = post($port, $reader, '/api/v1/phone-numbers/import', sprintf(
        '{"phone_number":"+1415%07d","friendly_name":"Line %d",'
        . '"sip_username":"u%d","sip_password":"p%d"}', $i, $i, $i, $i));
    die "import $i: $s\n" unless $s == 201;
}

sub wrk {
    my $key = Agnitel::Nginx::api_key($reader);
    my $out = `wrk -t1 -c50 -d${duration}s -H 'X-Api-Key: $key' 'http://127.0.0.1:$port$list' 2>&1`;
    die "wrk failed: $out" if $? or $out !~ /Requests\/sec:\s+([\d.]+)/;
    return $1;
}

wrk();    # warm-up

my $ws = 0;
my $seq = 0;

# $pending purchases made pending in $accounts workspaces (one Twilio
# account each) with jobs off; then jobs on, and the run measured
sub phase {
    my ($accounts, $target) = @_;

    configure('');
    $n->reload;

    for (1 .. $accounts) {
        $n->workspace(++$ws);

        post($port, $ws, '/api/v1/telephony/providers/twilio',
             '{"mode":"own","friendly_name":"T",'
             . '"account_sid":"AC00000000000000000000000000000000",'
             . '"auth_token":"sandbox-auth-token"}') == 201
            or die "connect failed\n";

        for (1 .. $pending / $accounts) {
            $seq++;
            my $s = post($lost, $ws, '/api/v1/phone-numbers/buy',
                         sprintf('{"phone_number":"+1212%07d","price":1.15}',
                                 $seq));
            die "buy $seq: $s\n" unless $s == 502;
        }
    }

    my $idle = wrk();
    my $log = length $n->error_log;
    my $calls = length $n->read_file('logs/calls.log');

    # the reload's first tick finds every purchase past reconcile_after
    sleep 1;
    configure('agnitel_jobs interval=1s reconcile_after=1s timeout=5s;');
    $n->reload;

    my $busy = wrk();

    # the run's own line: later runs, with nothing to do, follow at once
    my ($items, $ms);
    $n->wait_for(sub {
        ($items, $ms) = substr($n->error_log, $log)
            =~ /agnitel_jobs: reconcile: ([1-9]\d*) settled, \d+ failed in (\d+) ms/;
        defined $ms;
    }, 'a reconcile run', 60);

    # most calls the carrier had under way at once, from when each began
    # and ended
    my @edges;
    for (split /\n/, substr $n->read_file('logs/calls.log'), $calls) {
        my ($end, $took) = split ' ';
        push @edges, [$end - $took, 1], [$end, -1];
    }
    my ($now, $most) = (0, 0);
    for (sort { $a->[0] <=> $b->[0] || $a->[1] <=> $b->[1] } @edges) {
        $now += $_->[1];
        $most = $now if $now > $most;
    }

    printf "%d pending in %d account%s: settled %d in %.2f s (%s), "
           . "%d carrier calls, at most %d in flight (cap 50)\n",
           $pending, $accounts, $accounts > 1 ? 's' : '', $items, $ms / 1000,
           $target, @edges / 2, $most;
    printf "    list while it ran: %.0f/s against %.0f/s idle: %.2f "
           . "(target >= 0.80)\n", $busy, $idle, $busy / $idle;
}

print "carrier latency $latency s; $numbers numbers listed meanwhile\n";

# the usual case, a few pending numbers per account: one call each, so
# 50 at once can do no better than 1000 x 200 ms / 50 = 4 s
phase(25, 'one call per number: 4 s at best');

# an outage during a buying spree: the account's list, a page at a time
phase(1, 'target < 3 s');

$n->stop;
remove_tree($dir);
