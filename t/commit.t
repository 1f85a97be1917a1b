# Group commit, as a client sees it: imports sent together are answered
# one by one, a taken number among them gets its own 409 while the rest
# are written, a client that hangs up does not undo its write, an idle
# worker stays idle, and every write made is on disk, surviving SIGKILL.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $n = Agnitel::Nginx->new(name => 'commit',
                            port => Agnitel::Nginx::test_port(6));
$n->write_file('secret.key', 'c' x 32);

# one worker: the requests below reach it in one pass of its event loop
$n->write_config(<<'END', workers => 1);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;

    server {
        listen 127.0.0.1:$PORT;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END
$n->start;
$n->workspace(1);

my $key = Agnitel::Nginx::api_key(1);

sub import_body {
    my ($number, $name) = @_;
    return qq({"phone_number":"$number","friendly_name":"$name",)
         . qq("sip_username":"u","sip_password":"p"});
}

my ($status, $body) = $n->api(1, POST => '/api/v1/phone-numbers/import',
                              import_body('+14155550000', 'Taken'));
is($status, 201, 'a number is imported first');

# --- 30 new numbers, the taken one, and a new one twice, sent together

my @requests = map {
    [POST => '/api/v1/phone-numbers/import',
     import_body(sprintf('+1415555%04d', $_), "Line $_")]
} 1 .. 30;

push @requests,
    [POST => '/api/v1/phone-numbers/import', import_body('+14155550000', 'X')],
    [POST => '/api/v1/phone-numbers/import', import_body('+14155559999', 'A')],
    [POST => '/api/v1/phone-numbers/import', import_body('+14155559999', 'B')],
    [PATCH => '/api/v1/phone-numbers/+14155558888', '{"friendly_name":"Y"}'];

my @answers = $n->at_once(1, @requests);

is(scalar(grep { $_->[0] == 201 } @answers[0 .. 29]), 30,
   'the 30 new numbers are imported');
like($answers[$_][1], qr/"friendly_name":"Line @{[$_ + 1]}"/,
     "import @{[$_ + 1]} answers with its own number") for 0, 14, 29;

is($answers[30][0], 409, 'the taken number gets its own 409');
like($answers[30][1], qr/"code":"number_already_exists"/, 'as taken');

is(join(' ', sort map { $_->[0] } @answers[31, 32]), '201 409',
   'a number imported twice at once: one import wins, the other is 409');

is($answers[33][0], 404, 'a rename of a missing number among them is 404');

($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=200');
like($body, qr/"meta":\{"total":32,/, 'the store holds the 32 imported');
like($body, qr/"friendly_name":"Taken"/, 'the taken number is unchanged');

# --- clients that hang up once they have sent: their writes still land

for my $i (1 .. 20) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $n->port, Proto => 'tcp')
        or die "connect: $!";
    my $body = import_body(sprintf('+1313555%04d', $i), "Gone $i");
    print $s "POST /api/v1/phone-numbers/import HTTP/1.1\r\n"
           . "Host: localhost\r\nX-Api-Key: $key\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    close $s;
}

ok(eval {
    $n->wait_for(sub {
        (undef, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=1');
        $body =~ /"total":52,/;
    }, 'the 20 imports of clients gone');
}, 'imports whose clients hung up are written all the same');

unlike($n->error_log, qr/\[(alert|crit|emerg)\]|signal 11/,
       'and no worker complained or crashed');

# --- an idle worker is idle: no commit runs without writes to commit

sub cpu_ticks {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my @f = split ' ', (<$fh> =~ s/^.*\) //r);
    return $f[11] + $f[12];    # utime and stime, every thread of it
}

SKIP: {
    skip 'no /proc', 1 unless -r '/proc/self/stat';

    my ($worker) = $n->worker_pids;
    my $before = cpu_ticks($worker);
    select undef, undef, undef, 1;      # a window to measure, not a wait
    my $used = cpu_ticks($worker) - $before;

    cmp_ok($used, '<', 20, "the worker used $used ticks in an idle second");
}

# --- what was answered is on disk: SIGKILL, no shutdown, and a new start

my @pids = ($n->master_pid, $n->worker_pids);
kill 'KILL', @pids;
$n->wait_for(sub { !grep { kill 0, $_ } @pids }, 'nginx to die');
unlink $n->prefix . '/logs/nginx.pid';

$n->start;

($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=200');
is($status, 200, 'the store opens after SIGKILL');
like($body, qr/"meta":\{"total":52,/, 'with every import written before it');
like($body, qr/"friendly_name":"Line 17"/, 'as it was answered');

$n->stop;

done_testing;
