#!/usr/bin/env perl
# make bench: GET /api/v1/phone-numbers?limit=50&offset=500 over 1000 numbers
# against nginx serving the identical bytes as a static file, with wrk on
# loopback, in one run.  Prints both throughputs and their ratio.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Agnitel::Nginx;
use HTTP::Tiny;

my $numbers  = $ENV{BENCH_NUMBERS}  || 1000;
my $duration = $ENV{BENCH_DURATION} || 10;
my $conns    = $ENV{BENCH_CONNS}    || 50;
my $rounds   = $ENV{BENCH_ROUNDS}   || 2;
my $path     = '/api/v1/phone-numbers?limit=50&offset=500';

my $n = Agnitel::Nginx->new(name => 'bench', port => 1987);
$n->write_file('secret.key', 'b' x 32);

# seeding is 1000 fsync'd write transactions: on tmpfs they cost nothing,
# and reads come from the page cache wherever the file lives
my $store = -d '/dev/shm' ? "/dev/shm/agnitel-bench-$$" : 'store';

$n->write_config(<<"END", workers => 2, log_level => 'warn');
    agnitel_store $store map_size=64m;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;

    server {
        listen 127.0.0.1:\$PORT;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
        location = /static/list.json {
            root html;
            rewrite ^ /list.json break;
            default_type application/json;
        }
    }
END
$n->start;
$n->workspace(1);

print "seeding $numbers numbers...\n";

# no keep-alive: HTTP::Tiny writes headers and body apart, and Nagle with
# delayed ACKs would add 40 ms to every request of a kept connection
my $http = HTTP::Tiny->new(keep_alive => 0);
my %h = ('X-Api-Key' => Agnitel::Nginx::api_key(1),
         'Content-Type' => 'application/json');

for my $i (1 .. $numbers) {
    my $res = $http->post("http://127.0.0.1:" . $n->port
                          . '/api/v1/phone-numbers/import',
        { headers => \%h, content => sprintf(
            '{"phone_number":"+1415%07d","friendly_name":"Line %d",'
            . '"sip_username":"u%d","sip_password":"p%d"}', $i, $i, $i, $i) });
    die "import $i: $res->{status} $res->{content}" unless $res->{status} == 201;
}

my $res = $http->get("http://127.0.0.1:" . $n->port . $path,
                     { headers => \%h });
die "list: $res->{status}" unless $res->{status} == 200;
die "list: unexpected meta" unless $res->{content} =~
    /"meta":\{"total":$numbers,"limit":50,"offset":500\}/;

$n->write_file('html/list.json', $res->{content}, 0644);

my $static = $http->get("http://127.0.0.1:" . $n->port . '/static/list.json');
die "static copy differs" unless $static->{content} eq $res->{content};

printf "response: %d bytes, identical from both locations\n",
       length $res->{content};

sub wrk {
    my ($url, $seconds) = @_;
    $seconds ||= $duration;
    my $out = `wrk -t2 -c$conns -d${seconds}s -H 'X-Api-Key: $h{'X-Api-Key'}' '$url' 2>&1`;
    die "wrk failed: $out" if $? or $out !~ /Requests\/sec:\s+([\d.]+)/;
    my $rps = $1;
    die "wrk saw errors: $out" if $out =~ /Non-2xx|Socket errors/;
    return $rps;
}

my $base = "http://127.0.0.1:" . $n->port;
my (@api, @file);

# a warm-up of both, not counted: the first seconds after the seeding's
# commits are slower for reasons that are not the list's
wrk("$base$path", 2);
wrk("$base/static/list.json", 2);

# alternate, so that drift in the machine's load hits both alike
for (1 .. $rounds) {
    push @api,  wrk("$base$path");
    push @file, wrk("$base/static/list.json");
}

$n->stop;
system('rm', '-rf', $store) if $store =~ m{^/dev/shm/};

my $sum = sub { my $s = 0; $s += $_ for @_; $s / @_ };
my ($a, $f) = ($sum->(@api), $sum->(@file));

printf "agnitel list:  %10.0f req/s (%s)\n", $a, join ', ', map { int } @api;
printf "static file:   %10.0f req/s (%s)\n", $f, join ', ', map { int } @file;
printf "ratio:         %10.2f (target >= 0.90)\n", $a / $f;
