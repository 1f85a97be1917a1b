# Bad input of every shape gets a JSON error and never takes a worker
# down: a few hundred malformed requests, generated from a fixed seed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
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
              '"' . ('x' x 300) . '"', '"sip:a"', '"é☎"', '12345678901234567890');

sub random_body {
    my $kind = int rand 4;

    return join '', map { chr int rand 256 } 1 .. int rand 64 if $kind == 0;
    return '{"phone_number":' if $kind == 1;

    my %b = map { $fields[rand @fields] => $values[rand @values] } 1 .. 1 + rand 6;
    return '{' . join(',', map { qq("$_":$b{$_}) } keys %b) . '}';
}

my ($json, $server_errors) = (0, 0);
my $requests = 400;

for (1 .. $requests) {
    my $method = (qw(GET POST PATCH DELETE PUT))[rand 5];
    my $path = $paths[rand @paths];
    my $body = $method =~ /^(POST|PATCH|PUT)$/ ? random_body() : undef;

    my ($status, $answer) = $n->api(1, $method => $path, $body);

    $json++ if $answer =~ /^\{"success":(true|false),"message":"/;
    $server_errors++ if $status >= 500 && $status != 599;
}

is($json, $requests, 'every answer is a JSON envelope');
is($server_errors, 0, 'no answer is a 5xx');
is_deeply([$n->worker_pids], \@workers, 'the worker never died');
unlike($n->error_log, qr/\[(alert|crit|emerg)\]|signal \d+|exited on/,
       'nothing alarming in the error log');

my ($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=200');
is($status, 200, 'the store still answers');

$n->stop;

done_testing;
