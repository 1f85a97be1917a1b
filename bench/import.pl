#!/usr/bin/env perl
# make bench: concurrent imports, agnitel against the Node.js peer
# (../shared/peer-node: node:http, cluster, lmdb-js) in the same run.
#
# wrk -c32, every request a new number; both servers run 2 workers and keep
# their LMDB store on the same disk.  agnitel answers an import once its
# commit is on disk (both syncs); the peer, as lmdb-js has it by default
# (overlappingSync), once committed, syncing afterwards.  BENCH_PEER_DURABLE=1
# makes the peer wait for its sync too (bench/peer-durable.js).  Rounds
# alternate between the two so that drift in the machine's load hits both
# alike.  Prints imports per second for each and the ratio.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Agnitel::Nginx;
use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep);

my $conns    = $ENV{BENCH_IMPORT_CONNS} || 32;
my $duration = $ENV{BENCH_DURATION}     || 10;
my $rounds   = $ENV{BENCH_ROUNDS}       || 2;
my $port     = 1987;
my $pport    = $ENV{BENCH_PEER_PORT}    || 11987;
my $durable  = $ENV{BENCH_PEER_DURABLE};
my $peer     = "$FindBin::Bin/../../shared/peer-node";
my $lua      = "$FindBin::Bin/import.lua";
my $http     = HTTP::Tiny->new(keep_alive => 0);

# on disk, not tmpfs: what is measured is how the commits share an fsync
my $dir = "$FindBin::Bin/../build/bench-import";
remove_tree($dir);
make_path("$dir/peer");

my $n = Agnitel::Nginx->new(name => 'bench_import', port => $port);
$n->write_file('secret.key', 'b' x 32);
$n->write_config(<<"END", workers => 2, log_level => 'warn');
    agnitel_store $dir/agnitel map_size=1g;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;

    server {
        listen 127.0.0.1:\$PORT;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END
$n->start;
$n->workspace(1);

my $key = Agnitel::Nginx::api_key(1);

my ($peer_pid, $peer_key);

if (-f "$peer/server.js") {
    system("npm ci --prefix '$peer' --no-audit --no-fund >/dev/null 2>&1") == 0
        or die "npm ci in $peer failed\n";

    $peer_pid = fork // die "fork: $!";

    if ($peer_pid == 0) {
        exec 'node', ($durable ? ('-r', "$FindBin::Bin/peer-durable.js") : ()),
             "$peer/server.js", $pport, "$dir/peer", 2;
        die "node: $!";
    }

    for (1 .. 100) {
        my $res = $http->post("http://127.0.0.1:$pport/admin/v1/workspaces",
            { content => '{"name":"bench"}' });

        if ($res->{status} == 201) {
            $peer_key = decode_json($res->{content})->{data}{api_key};
            last;
        }

        sleep 0.1;
    }

    die "the peer did not start\n" unless $peer_key;

} else {
    print "no peer at $peer: agnitel alone\n";
}

my $base = 0;

# imports per second, after checking that every one was answered 2xx and
# stored: the numbers listed grew by the answers, and at most by the
# connections' imports still under way when wrk stopped

sub wrk {
    my ($url, $k) = @_;

    $base += 10_000_000;

    my $before = stored($url, $k);

    my $out = `wrk -t2 -c$conns -d${duration}s -s '$lua' '$url' -- $k $base 2>&1`;
    die "wrk failed: $out" if $? or $out !~ /Requests\/sec:\s+([\d.]+)/;
    my $rps = $1;

    die "imports refused or lost:\n$out"
        if $out =~ /Non-2xx or 3xx responses|Socket errors/;

    my ($answered) = $out =~ /(\d+) requests in/;
    my $added = stored($url, $k) - $before;

    die "$answered imports answered, but $added numbers stored at $url\n"
        if $added < $answered or $added > $answered + $conns;

    return $rps;
}

sub stored {
    my ($url, $k) = @_;

    my $res = $http->get("$url/api/v1/phone-numbers?limit=1",
                         { headers => { 'X-Api-Key' => $k } });

    die "listing numbers at $url: $res->{status} $res->{content}\n"
        unless $res->{status} == 200;

    return decode_json($res->{content})->{meta}{total};
}

my (@agnitel, @peer);

for (1 .. $rounds) {
    push @agnitel, wrk("http://127.0.0.1:$port", $key);
    push @peer, wrk("http://127.0.0.1:$pport", $peer_key) if $peer_key;
}

$n->stop;

if ($peer_pid) {
    kill 'TERM', $peer_pid;
    waitpid $peer_pid, 0;
}

remove_tree($dir);

my $avg = sub { my $s = 0; $s += $_ for @_; $s / @_ };

printf "agnitel imports: %8.0f/s (%s)\n", $avg->(@agnitel),
       join ', ', map { int } @agnitel;

if (@peer) {
    printf "peer imports:    %8.0f/s (%s)%s\n", $avg->(@peer),
           join(', ', map { int } @peer),
           $durable ? ', answering after its sync' : '';
    printf "ratio:           %8.2f (target >= 1.5)\n",
           $avg->(@agnitel) / $avg->(@peer);
}
