# A slow carrier never blocks a worker: with one worker and a carrier that
# takes 3 s a purchase, 40 purchases are under way at once, and the worker
# answers other requests meanwhile.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Select;
use IO::Socket::INET;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $buys = 40;
my $sid = 'AC' . ('0123456789abcdef' x 2);

my $n = Agnitel::Nginx->new(name => 'nonblocking',
                           port => Agnitel::Nginx::test_port(5));
$n->write_file('secret.key', 'n' x 32);
$n->write_config(<<'END', workers => 1);
    agnitel_store store;
    agnitel_secret_key_file secret.key;

    server {
        listen 127.0.0.1:$PORT;
        agnitel_twilio_api /_twilio/;

        location /_twilio/ {
            internal;
            proxy_pass http://127.0.0.1:$CARRIER_PORT/;
            proxy_pass_request_headers off;
            proxy_set_header Authorization $agnitel_upstream_authorization;
            proxy_read_timeout 30s;
            proxy_ignore_client_abort on;
        }

        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    # the carrier: any account, and purchases that take 3 s; it logs the
    # purchases it gets
    log_format carrier '$request_method $uri $request_body';

    server {
        listen 127.0.0.1:$CARRIER_PORT;
        default_type application/json;
        access_log logs/carrier.log carrier;

        location ~ ^/2010-04-01/Accounts/(AC[0-9a-f]+)\.json$ {
            return 200 '{"sid":"$1"}';
        }

        location ~ /IncomingPhoneNumbers\.json$ {
            echo_read_request_body;
            echo_sleep 3;
            echo_status 201;
            echo '{"sid":"PN$request_id"}';
        }
    }
END
$n->start;
$n->workspace(1);

my ($status) = $n->api(1, POST => '/api/v1/telephony/providers/twilio',
    qq({"mode":"own","friendly_name":"T","account_sid":"$sid",)
    . '"auth_token":"t"}');
is($status, 201, 'a Twilio account is connected');

# 40 purchases sent at once, each on its own connection; the first one
# with an Idempotency-Key
my $key = Agnitel::Nginx::api_key(1);
my %pending;

for my $i (1 .. $buys) {
    my $body = sprintf '{"phone_number":"+1415555%04d","price":1.15}', $i;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $n->port) or die $!;
    print $s "POST /api/v1/phone-numbers/buy HTTP/1.1\r\nHost: localhost\r\n"
           . "X-Api-Key: $key\r\nContent-Type: application/json\r\n"
           . ($i == 1 ? "Idempotency-Key: first\r\n" : '')
           . "Content-Length: " . length($body) . "\r\n"
           . "Connection: close\r\n\r\n$body";
    $pending{$s} = { sock => $s, data => '' };
}

# while they wait for the carrier, the one worker keeps answering
my $seen = 0;
$n->wait_for(sub {
    my (undef, $list) = $n->api(1, GET => '/api/v1/phone-numbers?status=pending');
    ($seen) = $list =~ /"total":(\d+)/;
    $seen == $buys;
}, "$buys purchases pending at once", 10);

is($seen, $buys, "all $buys purchases are pending at the same time, and the "
                 . 'worker answers a list meanwhile');

# the same key again while the first purchase is under way
my ($again, $busy) = $n->request(POST => '/api/v1/phone-numbers/buy',
    '{"phone_number":"+14155550001","price":1.15}',
    'X-Api-Key' => $key, 'Idempotency-Key' => 'first');
is($again, 409, 'a retry while the first purchase is under way is 409');
like($busy, qr/"code":"idempotency_in_progress"/, 'idempotency_in_progress');

# every purchase completes
my $sel = IO::Select->new(map { $_->{sock} } values %pending);
my %done;

while ($sel->count) {
    for my $s ($sel->can_read(30)) {
        my $r = sysread $s, my $buf, 65536;
        if ($r) {
            $pending{$s}{data} .= $buf;
            next;
        }
        $sel->remove($s);
        my ($code) = $pending{$s}{data} =~ m{^HTTP/1\.1 (\d+)};
        $done{$code // 'none'}++;
    }
}

is_deeply(\%done, { 201 => $buys }, "all $buys purchases answered 201");

my (undef, $list) = $n->api(1, GET => '/api/v1/phone-numbers?is_active=true');
like($list, qr/"total":$buys\b/, "$buys numbers are active");

# once it is over, the key replays its answer
($again, $busy) = $n->request(POST => '/api/v1/phone-numbers/buy',
    '{"phone_number":"+14155550001","price":1.15}',
    'X-Api-Key' => $key, 'Idempotency-Key' => 'first');
is($again, 201, 'the same key and body afterwards replay the purchase');
like($busy, qr/"phone_number":"\+14155550001".*"status":"active"/,
     'with the first answer');

my @bought = grep { /PhoneNumber=%2B14155550001\b/ }
             split /\n/, $n->read_file('logs/carrier.log');
is(scalar @bought, 1, 'and the carrier was asked to buy it once');

# a client that leaves mid-purchase: the purchase still completes and is
# recorded (proxy_ignore_client_abort on)
{
    my $body = '{"phone_number":"+14155550999","price":1.15}';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $n->port) or die $!;
    print $s "POST /api/v1/phone-numbers/buy HTTP/1.1\r\nHost: localhost\r\n"
           . "X-Api-Key: $key\r\nContent-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";

    $n->wait_for(sub {
        my (undef, $l) = $n->api(1, GET => '/api/v1/phone-numbers?status=pending');
        $l =~ /\+14155550999/;
    }, 'the purchase to be pending');

    close $s;

    my $active = 0;
    $n->wait_for(sub {
        my (undef, $l) = $n->api(1, GET => '/api/v1/phone-numbers/+14155550999');
        $active = $l =~ /"status":"active"/;
    }, 'the purchase to complete', 10);

    ok($active, 'a purchase whose client left is completed and recorded');
}

$n->stop;

done_testing;
