# Bad input of every shape gets a JSON error and never takes a worker
# down: 5,000 malformed requests, generated from a fixed seed and sent raw
# (broken chunked bodies, HEAD, doubled keys, oversized bodies and URIs).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

srand(20261124);

my $n = Agnitel::Nginx->new(name => 'robustness',
                           port => Agnitel::Nginx::test_port(9));
$n->write_file('secret.key', 'r' x 32);
$n->write_config(<<'END', workers => 1);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;

    server {
        listen 127.0.0.1:$PORT;
        error_page 400 414 494 /api/v1/;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END
$n->start;
$n->workspace(1);

my @workers = $n->worker_pids;

my @paths = qw(
    /api/v1/phone-numbers /api/v1/phone-numbers/import
    /api/v1/phone-numbers/+14155550100 /api/v1/phone-numbers/%2B1/release
    /api/v1/phone-numbers/available /api/v1/phone-numbers/buy
    /api/v1/phone-numbers/add-twilio /api/v1/telephony/providers
    /api/v1/telephony/providers/twilio /api/v1/telephony/providers/prv_x
    /admin/v1/workspaces /admin/v1/workspaces/ws_0/api-keys
    /admin/v1/workspaces/ws_0123456789abcdef/api-keys/key_0123456789abcdef
    /api/v1/phone-numbers?limit=99999999999999999999&offset=-0
    /api/v1/phone-numbers?iso_country=%00%ff&is_active=%
);

my @fields = qw(phone_number friendly_name sip_username sip_password
                termination_uri iso_country price number_sid mode
                account_sid auth_token name api_key_sha256);

my @values = ('"+14155550100"', '"+1"', '""', 'null', 'true', '1e309',
              '-1', '1.1234567', '"\u0000"', '"\ud800"', '[]', '{}',
              '"' . ('x' x 300) . '"', '"sip:a"', '"é☎"', '12345678901234567890',
              '1.15000000000000000001', '1.1500000001', '1.15e0', '-0',
              '999999999999.999999', '1e-7', '{"price":1.15}', '"\"price\":1"');

push @fields, qw(per_minute_price_inbound per_minute_price_outbound pr\u0069ce);

sub random_body {
    my $kind = int rand 4;

    return join '', map { chr int rand 256 } 1 .. int rand 64 if $kind == 0;
    return '{"phone_number":' if $kind == 1;

    my %b = map { $fields[rand @fields] => $values[rand @values] } 1 .. 1 + rand 6;
    return '{' . join(',', map { qq("$_":$b{$_}) } keys %b) . '}';
}

# the key headers of a request: valid, unknown, malformed, none, doubled
sub random_key {
    my $key = Agnitel::Nginx::api_key(1);

    return ("X-Api-Key: $key", "X-Api-Key: agn_1", '', "X-Api-Key: $key",
            "X-Api-Key: $key\r\nX-Api-Key: $key",
            "X-Api-Key: $key\r\nAuthorization: Bearer $key",
            "Authorization: Bearer $key")[rand 7];
}

# body headers and body: none, Content-Length, chunked, broken chunked,
# over 64 KiB, announced but over 1 MiB, look-alike types
sub random_framing {
    my ($body) = @_;
    my $kind = int rand 8;

    return ('', '') if $kind == 0 || !defined $body;

    my $ct = ('Content-Type: application/json', 'Content-Type: text/plain',
              '', 'Content-Type: application/json; charset=utf-8')[rand 4];
    $ct .= "\r\n" if $ct;

    return ("${ct}Transfer-Encoding: chunked\r\n",
            sprintf("%x\r\n%s\r\n0\r\n\r\n", length $body, $body))
        if $kind == 1;

    return ("${ct}Transfer-Encoding: chunked\r\n",
            (qw(zz -1 fffffffffffffffffff), "3\r\nabcdefgh")[rand 4] . "\r\n")
        if $kind == 2;

    $body = '{"x":"' . ('n' x 70000) . '"}' if $kind == 3;

    return ("${ct}Content-Length: 2000000\r\n", $body) if $kind == 4;

    return ("${ct}Content-Length: " . length($body) . "\r\n", $body);
}

# now and then a request line nginx refuses before choosing a location
sub random_path {
    my $r = rand;

    return '/api/v1/' . ('a' x 9000) if $r < 0.01;
    return '/api/v1/phone numbers' if $r < 0.02;
    return $paths[rand @paths];
}

# one raw request on its own connection: (status, content type, body);
# the answer is read up to its Content-Length, not to the close: nginx
# lingers a while for a body announced over the limit
sub raw {
    my ($request, $head_only) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $n->port, Proto => 'tcp',
                                  Timeout => 10)
        or return (0, '', '');

    local $SIG{PIPE} = 'IGNORE';
    print $s $request;

    my ($answer, $head, $body) = ('');

    while (sysread $s, $answer, 65536, length $answer) {
        ($head, $body) = split /\r\n\r\n/, $answer, 2;
        next unless defined $body;

        my ($len) = $head =~ /^Content-Length: (\d+)/mi;
        last if $head_only || (defined $len && length $body >= $len);
    }

    my ($status) = ($head // '') =~ m{^HTTP/1\.1 (\d{3})};
    my ($type) = ($head // '') =~ /^Content-Type: ([^\r]*)/mi;

    return ($status // 0, $type // '', $body // '');
}

my ($json, $server_errors, $bad) = (0, 0, '');
my $requests = 5000;

for (1 .. $requests) {
    my $method = (qw(GET POST PATCH DELETE PUT HEAD))[rand 6];
    my $path = random_path();
    my ($headers, $body) = random_framing(random_body());
    my $key = random_key();

    $key .= "\r\n" if $key;

    my ($status, $type, $answer) = raw("$method $path HTTP/1.1\r\n"
        . "Host: localhost\r\nConnection: close\r\n$key$headers\r\n$body",
        $method eq 'HEAD');

    my $ok = $type eq 'application/json'
             && ($method eq 'HEAD'
                 ? $answer eq ''
                 : $answer =~ /^\{"success":(true|false),"message":"/);

    $json++ if $ok;
    $bad ||= "$method $path: $status $type $answer" unless $ok;
    $server_errors++ if $status >= 500 || $status == 0;
}

is($json, $requests, 'every answer is a JSON envelope') or diag $bad;
is($server_errors, 0, 'no answer is a 5xx');
is_deeply([$n->worker_pids], \@workers, 'the worker never died');
unlike($n->error_log, qr/\[(alert|crit|emerg)\]|signal \d+|exited on/,
       'nothing alarming in the error log');

my ($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=200');
is($status, 200, 'the store still answers');

$n->stop;

done_testing;
