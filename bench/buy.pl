#!/usr/bin/env perl
# make bench: buying numbers through a fake Twilio that answers every
# purchase after a fixed latency.
#
#   1. wrk, 200 connections for 10 s, every request a new number, against a
#      carrier taking 200 ms: throughput and p99 latency; the target is a
#      p99 under 1.5 times the carrier's latency.
#   2. 40 buys sent at once to one worker against a carrier taking 1 s: they
#      finish in about 1 s when no worker ever blocks (a blocking worker
#      would need 40).
#
# The fake carrier is a server block of the same nginx (echo module,
# echo_sleep is a timer, not a sleep); the module reaches it through its
# internal proxy location, over kept-alive upstream connections.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Agnitel::Nginx;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

my $latency  = $ENV{BENCH_CARRIER_LATENCY} || 0.2;
my $conns    = $ENV{BENCH_BUY_CONNS}       || 200;
my $threads  = $ENV{BENCH_BUY_THREADS}     || 2;
my $duration = $ENV{BENCH_DURATION}        || 10;
my $slow     = $ENV{BENCH_SLOW_LATENCY}    || 1;
my $parallel = $ENV{BENCH_SLOW_BUYS}       || 40;

my $port  = 1988;
# the fake carrier, away from the ports the suites use (1984-1989)
my $fport = $ENV{BENCH_FAKE_PORT} || 11988;
my $sid   = 'AC' . ('0123456789abcdef' x 2);
my $key   = Agnitel::Nginx::api_key(1);
my $lua   = "$FindBin::Bin/buy.lua";

my @stores;

# nginx with the module and the fake carrier; the store is on tmpfs, where
# the two fsync'd write transactions of every purchase cost nothing
sub server {
    my (%o) = @_;

    my $n = Agnitel::Nginx->new(name => "bench_buy$o{workers}",
                                port => $port);
    $n->write_file('secret.key', 'b' x 32);

    my $store = -d '/dev/shm' ? "/dev/shm/agnitel-bench-buy-$$-$o{workers}"
                              : 'store';
    push @stores, $store;

    my $timeout = int($o{latency} * 10) + 5;

    # per worker at most: the clients, as many subrequest connections to
    # the fake, and the fake's side of them; 3 x 200 fits in 1024
    $n->write_config(<<"END", workers => $o{workers}, log_level => 'warn');
    agnitel_store $store map_size=512m;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;

    upstream fake_twilio {
        server 127.0.0.1:$fport;
        keepalive 512;
        keepalive_requests 100000;
    }

    server {
        listen 127.0.0.1:\$PORT backlog=4096;
        keepalive_requests 1000000;

        agnitel_twilio_api /_twilio/;

        location /_twilio/ {
            internal;
            proxy_pass http://fake_twilio/;
            proxy_http_version 1.1;
            proxy_pass_request_headers off;
            proxy_set_header Connection "";
            proxy_set_header Authorization \$agnitel_upstream_authorization;
            proxy_set_header Content-Type application/x-www-form-urlencoded;
            proxy_read_timeout ${timeout}s;
            subrequest_output_buffer_size 64k;
        }

        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    # the fake Twilio: any account connects; a purchase takes the latency
    server {
        listen 127.0.0.1:$fport backlog=4096;
        keepalive_requests 1000000;
        default_type application/json;

        location ~ ^/2010-04-01/Accounts/(AC[0-9a-f]+)\\.json\$ {
            return 200 '{"sid":"\$1","status":"active"}';
        }

        location ~ /IncomingPhoneNumbers\\.json\$ {
            echo_read_request_body;
            echo_sleep $o{latency};
            echo_status 201;
            echo '{"sid":"PN\$request_id","account_sid":"$sid","capabilities":{"voice":true,"sms":true,"mms":false,"fax":false},"status":"in-use"}';
        }
    }
END
    $n->start;
    $n->workspace(1);

    my ($status, $body) = $n->api(1, POST => '/api/v1/telephony/providers/twilio',
        qq({"mode":"own","friendly_name":"Bench","account_sid":"$sid",)
        . qq("auth_token":"f00dfacef00dfacef00dfacef00dface"}));
    die "connect twilio: $status $body" unless $status == 201;

    # one purchase by hand: the path works before anything is measured
    ($status, $body) = $n->api(1, POST => '/api/v1/phone-numbers/buy',
                               '{"phone_number":"+14159999999","price":1.15}');
    die "buy: $status $body" unless $status == 201
                                 && $body =~ /"status":"active"/;
    return $n;
}

sub seconds {
    my ($v, $unit) = @_;
    return $v / 1e6 if $unit eq 'us';
    return $v / 1e3 if $unit eq 'ms';
    return $v * 60  if $unit eq 'm';
    return $v * 3600 if $unit eq 'h';
    return $v;
}

sub cleanup {
    for my $s (@stores) {
        system('rm', '-rf', $s) if $s =~ m{^/dev/shm/agnitel-bench-buy-};
    }
}

my @servers;
END {
    my $rc = $?;
    $_->stop for grep { $_ && $_->master_pid } @servers;
    cleanup();
    $? = $rc;
}

# 1. throughput and p99 at $conns connections

my $n = server(workers => 2, latency => $latency);
push @servers, $n;

print "wrk: $conns connections, $duration s, carrier latency "
    . $latency * 1000 . " ms...\n";

my $out = `wrk -t$threads -c$conns -d${duration}s --latency -s '$lua' 'http://127.0.0.1:$port' -- '$key' 0 2>&1`;
die "wrk failed: $out" if $? or $out !~ /Requests\/sec:\s+([\d.]+)/;
my $rps = $1;

my ($p99, $unit) = $out =~ /^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$/m
    or die "no 99% line in: $out";
$p99 = seconds($p99, $unit);

my ($p50, $unit50) = $out =~ /^\s*50%\s+([\d.]+)(us|ms|s|m|h)\s*$/m;
$p50 = defined $p50 ? seconds($p50, $unit50) : 0;

my ($statuses) = $out =~ /^statuses: (.*)$/m;
die "wrk saw errors: $out" if $out =~ /Non-2xx|Socket errors/
                           or !defined $statuses
                           or $statuses !~ /^201=\d+$/;

my ($completed) = $statuses =~ /201=(\d+)/;

my $alert = grep { /\[(?:alert|emerg|crit)\]/ } split /\n/, $n->error_log;
die "nginx complained:\n" . $n->error_log if $alert;

$n->stop;

# 2. $parallel buys at once against a carrier taking $slow s, one worker

$n = server(workers => 1, latency => $slow);
push @servers, $n;

print "$parallel buys at once, one worker, carrier latency ${slow} s...\n";

# connected first, so that the clock counts only the purchases
my @socks = map {
    IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                          Proto => 'tcp') or die "connect: $!";
} 1 .. $parallel;

my %buf;
my $sel = IO::Select->new(@socks);
my $t0 = time;

for my $i (0 .. $#socks) {
    my $body = sprintf '{"phone_number":"+1415%07d","price":1.15}',
                       5000000 + $i;
    my $req = "POST /api/v1/phone-numbers/buy HTTP/1.1\r\n"
            . "Host: 127.0.0.1\r\nConnection: close\r\n"
            . "X-Api-Key: $key\r\nContent-Type: application/json\r\n"
            . "Content-Length: " . length($body) . "\r\n\r\n$body";
    syswrite($socks[$i], $req) == length $req or die "write: $!";
    $buf{$socks[$i]} = '';
}

my $last = $t0;
my $deadline = $t0 + $parallel * $slow + 30;

while ($sel->count && time < $deadline) {
    for my $s ($sel->can_read(1)) {
        my $got = sysread($s, $buf{$s}, 65536, length $buf{$s});
        next if $got;
        $last = time;
        $sel->remove($s);
        close $s;
    }
}

die "answers missing after " . ($deadline - $t0) . " s" if $sel->count;

my %codes;
$codes{ $buf{$_} =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : 'none' }++ for keys %buf;
die "not every buy was 201: " . join(' ', map { "$_=$codes{$_}" } sort keys %codes)
    if keys %codes != 1 or !$codes{201};

my $wall = $last - $t0;

$n->stop;

printf "carrier latency:       %8.0f ms\n", $latency * 1000;
printf "concurrency:           %8d connections, %d threads, %d s\n",
       $conns, $threads, $duration;
printf "throughput:            %8.0f buys/s (%d bought, all 201)\n",
       $rps, $completed;
printf "p50 latency:           %8.1f ms\n", $p50 * 1000;
printf "p99 latency:           %8.1f ms\n", $p99 * 1000;
printf "p99 / carrier latency: %8.2f (target < 1.5)%s\n", $p99 / $latency,
       $p99 / $latency < 1.5 ? '' : '  MISSED';
printf "%d buys x %g s carrier, 1 worker: %.2f s wall (blocking would be %g s)\n",
       $parallel, $slow, $wall, $parallel * $slow;
