# The store across processes: two workers, reload, restart, a worker killed
# with SIGKILL, a full map, and what ends up on disk.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $password = 'pw-Zq8#never-on-disk';

my $n = Agnitel::Nginx->new(name => 'lifecycle');
$n->write_file('secret.key', join '', map { chr(($_ * 7) % 256) } 1 .. 32);

# reuseport spreads connections over both workers; X-Worker says which
my $http = <<'END';
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;

    server {
        listen 127.0.0.1:$PORT reuseport;
        add_header X-Worker $pid always;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
        location = /dispatch/resolve { agnitel_dispatch_resolve; }
    }
END

$n->write_config($http, workers => 2);
$n->start;

$n->workspace(1);

sub import_number {
    my ($number, $ws) = @_;
    return $n->api($ws || 1, POST => '/api/v1/phone-numbers/import',
                   qq({"phone_number":"$number","friendly_name":"Line",)
                   . qq("sip_username":"u","sip_password":"$password"}));
}

# --- two workers see each other's writes

my ($status, $body, $h) = import_number('+14155550100');
is($status, 201, 'imported through one worker');
my $writer = $h->{'x-worker'};

my $reader;
$n->wait_for(sub {
    ($status, $body, $h) = $n->api(1, GET => '/api/v1/phone-numbers/+14155550100');
    $reader = $h->{'x-worker'};
    $reader ne $writer;
}, 'a request served by the other worker');

is($status, 200, "worker $reader reads what worker $writer wrote");
like($body, qr/"phone_number":"\+14155550100"/, 'and returns the number');

# --- a revoked key fails at once in every worker

my (undef, $created) = $n->request(POST => '/admin/v1/workspaces',
                                   '{"name":"revoke-me"}');
my ($ws_id) = $created =~ /"id":"(ws_\w+)"/;
my ($key_id) = $created =~ /"api_key_id":"(key_\w+)"/;
my ($key) = $created =~ /"api_key":"(agn_\w+)"/;

my %seen;
$n->wait_for(sub {
    my ($s, undef, $hh) = $n->request(GET => '/api/v1/phone-numbers', undef,
                                      'X-Api-Key' => $key);
    $seen{$hh->{'x-worker'}} = $s;
    keys %seen == 2;
}, 'the new key used in both workers');
is_deeply([values %seen], [200, 200], 'the new key works in both workers');

# a second key for the same workspace outlives the first
(undef, $body) = $n->request(POST => "/admin/v1/workspaces/$ws_id/api-keys");
my ($key2) = $body =~ /"api_key":"(agn_\w+)"/;
like($body, qr/^\{"success":true,"message":"API key created","data":\{"id":"key_[0-9a-f]{16}","workspace_id":"$ws_id","api_key":"agn_[0-9A-Za-z]{32}","created_at":"[^"]+"\}\}$/,
     'a second key is created');

($status, $body) = $n->request(DELETE => "/admin/v1/workspaces/$ws_id/api-keys/$key_id");
is($status, 200, 'the first key is revoked');
like($body, qr/"data":\{"id":"$key_id","revoked_at":"[^"]+"\}/, 'and says which');

($status) = $n->request(DELETE => "/admin/v1/workspaces/$ws_id/api-keys/$key_id");
is($status, 404, 'revoking it again is 404');

($status) = $n->request(GET => '/api/v1/phone-numbers', undef,
                        'Authorization' => "Bearer $key2");
is($status, 200, 'the second key still works');

%seen = ();
$n->wait_for(sub {
    my ($s, undef, $hh) = $n->request(GET => '/api/v1/phone-numbers', undef,
                                      'X-Api-Key' => $key);
    $seen{$hh->{'x-worker'}} = $s;
    keys %seen == 2;
}, 'the revoked key tried in both workers');
is_deeply([values %seen], [401, 401], 'the revoked key fails in both workers');

# --- reload keeps the data and the new workers write

$n->reload;

($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers/%2B14155550100');
is($status, 200, 'the number survives nginx -s reload');

($status) = import_number('+14155550101');
is($status, 201, 'new workers write after the reload');

# --- a dispatch rule removed takes its agent off the number

($status, $body) = $n->api(1, POST => '/api/v1/dispatch-rules',
    '{"phone_number":"+14155550101","agent_id":"night-shift"}');
is($status, 201, 'a dispatch rule');
my ($rule) = $body =~ /"id":"(dr_[0-9a-f]{16})"/;

like(($n->api(1, GET => '/api/v1/phone-numbers/+14155550101'))[1],
     qr/"agent_id":"night-shift"/, 'the number shows its agent');

($status, $body) = $n->api(1, DELETE => "/api/v1/dispatch-rules/$rule");
is($status, 200, 'the rule is removed');
like($body, qr/"status":"removed"/, 'and says so');
unlike(($n->api(1, GET => '/api/v1/phone-numbers/+14155550101'))[1],
       qr/agent_id/, 'the number no longer shows an agent');
is(($n->request(GET => '/dispatch/resolve?to=%2B14155550101'))[0], 404,
   'resolve no longer finds it');
is(($n->api(1, DELETE => "/api/v1/dispatch-rules/$rule"))[0], 404,
   'removing it again: 404');

# --- a worker killed with SIGKILL leaves the store readable and writable

my ($victim) = $n->worker_pids;

# the victim holds a reader slot: its reset read transaction keeps it
$n->wait_for(sub {
    my (undef, undef, $hh) = $n->api(1, GET => '/api/v1/phone-numbers');
    $hh->{'x-worker'} == $victim;
}, 'a read in the worker about to be killed');

kill 'KILL', $victim;
$n->wait_for(sub {
    my @w = $n->worker_pids;
    @w == 2 && !grep { $_ == $victim } @w;
}, 'the master to replace the killed worker');

# the new worker may still be starting: its reader check is awaited
ok(eval { $n->wait_for(sub { $n->error_log =~ /cleared 1 stale reader/ },
                       'the reader check of the new worker') },
   "the new worker freed the dead worker's reader slot");

($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers');
is($status, 200, 'the store is readable after SIGKILL');
like($body, qr/"total":2/, 'with both numbers');

($status) = import_number('+14155550102');
is($status, 201, 'and writable');

# --- a full restart

$n->stop;
$n->start;

($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers');
is($status, 200, 'the API answers after a restart');
like($body, qr/"total":3/, 'all three numbers survived the restart');

# --- secrets are not on disk in plaintext

$n->stop;

my $disk = $n->read_file('store/data.mdb');
ok(length $disk > 0, 'the store file is there');
unlike($disk, qr/\Q$password\E/, 'the SIP password is not in data.mdb');
like($disk, qr/"sip_password":"v1\./, 'it is stored sealed');
unlike($disk, qr/\Q${\ Agnitel::Nginx::api_key(1)}\E/,
       'the API key is not in data.mdb');
unlike($n->error_log, qr/\Q$password\E/, 'nor in the error log');

# --- a full map answers 507 and loses nothing

my $full = Agnitel::Nginx->new(name => 'lifecycle_full');
$full->write_file('secret.key', 'k' x 32);
(my $small = $http) =~ s/agnitel_store store;/agnitel_store store map_size=128k;/;
$full->write_config($small, workers => 1);
$full->start;
$n = $full;
$full->workspace(1);

my ($imported, $last) = (0, 0);
for my $i (1 .. 1000) {
    ($last, $body) = import_number(sprintf('+1415555%04d', $i));
    last unless $last == 201;
    $imported++;
}

is($last, 507, "the import after $imported numbers answers 507");
like($body, qr/"code":"storage_full"/, 'with storage_full');
like($full->error_log, qr/agnitel_store is full: raise map_size/,
     'the operator is told what to do');

($status, $body) = $full->api(1, GET => '/api/v1/phone-numbers?limit=200');
is($status, 200, 'the full store still reads');
like($body, qr/"total":$imported\b/, 'every number written before is there');

# a release needs new pages too (LMDB copies on write): whatever it
# answers, the store must agree with the answer
($status) = $full->api(1, DELETE => '/api/v1/phone-numbers/+14155550001/release');
my ($after) = $full->api(1, GET => '/api/v1/phone-numbers/+14155550001');
is($after, $status == 200 ? 404 : 200,
   "a release on a full map ($status) leaves the store consistent");

$full->stop;

done_testing;
