# Background jobs, as an operator and a client see them: a purchase whose
# outcome is unknown is settled by itself (active if the carrier bought
# it, gone if not), a carrier that is down only delays that, one worker
# leads at a time and another takes over when it is killed or reloaded,
# and GET /admin/v1/jobs says who leads and how each job went.
#
# One nginx, two workers, jobs every second.  Its servers:
#   API          agnitel_api, carrier calls through /_twilio/ to the sandbox
#   carrier      what agnitel_twilio_url (libcurl) reaches: a front to the
#                sandbox that answers 503 while html/down exists, and logs
#                every call it gets to logs/carrier.log
#   sandbox      agnitel_twilio_sandbox (+15005550008: bought, answered 500)
#   lost API     the same API whose carrier calls fail to connect: a
#                purchase made there has no known outcome

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use HTTP::Tiny;
use MIME::Base64 qw(encode_base64);
use Agnitel::Nginx;

# Under TEST_NGINX_USE_VALGRIND one process runs under memcheck, through
# the settling and the carrier outage, libcurl included; the parts about
# several workers need a master and are left out.
my $vg = $ENV{TEST_NGINX_USE_VALGRIND};

# valgrind makes everything slower: waits are longer, not the intervals
my $patience = $vg ? 60 : 10;

my $ACCOUNT = 'AC00000000000000000000000000000000';
my $TOKEN = 'sandbox-auth-token';

my $port = Agnitel::Nginx::test_port(11);
my $sandbox = $port + 2;
my $lost = $port + 3;

my $n = Agnitel::Nginx->new(name => 'jobs', port => $port);
$n->write_file('secret.key', 'j' x 32);

my $to_sandbox = Agnitel::Nginx::twilio_location($sandbox);
my $to_nowhere = Agnitel::Nginx::twilio_location(1);

my $config = <<"END";
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;
    agnitel_jobs interval=1s reconcile_after=1s timeout=2s;
    agnitel_twilio_url http://127.0.0.1:\$CARRIER_PORT/;

    log_format carrier '\$request_method \$request_uri \$http_authorization';

    server {
        listen 127.0.0.1:\$PORT;
$to_sandbox
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        root html;
        access_log logs/carrier.log carrier;

        location / {
            if (-f \$document_root/down) {
                return 503 '{"code":20503,"message":"down","status":503}';
            }
            proxy_pass http://127.0.0.1:$sandbox;
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

# --- nginx -t names what is wrong with the directives

for my $bad (['agnitel_jobs interval=0s;', qr/invalid interval "0s"/],
             ['agnitel_jobs interval=1500ms;', qr/invalid interval "1500ms"/],
             ['agnitel_jobs reconcile_after=soon;',
              qr/invalid reconcile_after "soon"/],
             ['agnitel_jobs every=1s;', qr/invalid parameter "every=1s"/],
             ['agnitel_twilio_url ftp://api.twilio.com;',
              qr/invalid URL "ftp:/],
             ['agnitel_ca_file missing.pem;',
              qr/agnitel_ca_file ".*missing\.pem" cannot be read/])
{
    my ($directive) = $bad->[0] =~ /^(\w+)/;
    my $c = $config;

    # in place of the good one, or beside the others
    $c =~ s/^    $directive [^\n]*\n/    $bad->[0]\n/m
        or $c = "    $bad->[0]\n$c";

    $n->write_config($c);
    my ($rc, $out) = $n->test_config;
    isnt($rc, 0, "nginx -t fails: $bad->[0]");
    like($out, $bad->[1], 'and names the value');
}

$n->write_config($config);
my $single = $vg ? $n->start_valgrind : undef;
$n->start unless $vg;
$n->workspace(1);

sub on {
    my ($p, $method, $path, $body, %h) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10);
    my $res = $http->request($method, "http://127.0.0.1:$p$path",
        { headers => { 'X-Api-Key' => Agnitel::Nginx::api_key(1),
                       'Content-Type' => 'application/json', %h },
          defined $body ? (content => $body) : () });
    return ($res->{status}, $res->{content});
}

sub number {
    my ($e164) = @_;
    my ($status, $body) = $n->api(1, GET => "/api/v1/phone-numbers/$e164");
    return $status == 404 ? 'gone'
         : $body =~ /"status":"(\w+)"/ ? $1 : "HTTP $status";
}

sub jobs { ($n->request(GET => '/admin/v1/jobs'))[1] }

sub leader { jobs() =~ /"leader":\{"pid":(\d+)/ ? $1 : 0 }

sub buy {
    my ($p, $e164, $idem) = @_;
    return on($p, POST => '/api/v1/phone-numbers/buy',
              qq({"phone_number":"$e164","price":1.15}),
              $idem ? ('Idempotency-Key' => $idem) : ());
}

my ($status, $body) = $n->api(1, POST => '/api/v1/telephony/providers/twilio',
    qq({"mode":"own","friendly_name":"T","account_sid":"$ACCOUNT",)
  . qq("auth_token":"$TOKEN"}));
is($status, 201, 'a Twilio account is connected');

# --- who leads, and the jobs' last runs

$n->wait_for(sub { leader() }, 'a leader', $patience);
my %workers = map { $_ => 1 } $vg ? ($single) : $n->worker_pids;
ok($workers{leader()}, 'one of the workers leads');

$n->wait_for(sub { jobs() =~ /"name":"reconcile","last_run_at":"2\d{3}-/ },
             'a reconcile run', $patience);
$body = jobs();
like($body, qr/"enabled":true,"interval":1,"reconcile_after":1,/,
     'the jobs endpoint shows the settings');
like($body, qr/"name":"reconcile","last_run_at":"[^"]+","last_result":"ok",
              "duration_ms":\d+,"items":0,"failures":0,"last_error":null,"next_run_at":"/x,
     'and the last reconcile run');
like($body, qr/"name":"purge","last_run_at":"[^"]+","last_result":"ok"/,
     'and the last purge');

# --- bought, but the answer was lost: active by itself

($status, $body) = buy($port, '+15005550008', 'lost-answer');
is($status, 502, 'the carrier bought the number but answered 500: 502');
is(number('+15005550008'), 'pending', 'the number is pending');

$n->wait_for(sub { number('+15005550008') eq 'active' },
             'reconciliation to make the number active', $patience);

($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers/+15005550008');
like($body, qr/"telephony_id":"PN[0-9a-f]{32}"/, 'with the carrier\'s SID');

my $basic = 'Basic ' . encode_base64("$ACCOUNT:$TOKEN", '');
like($n->read_file('logs/carrier.log'),
     qr{^GET /2010-04-01/Accounts/$ACCOUNT/IncomingPhoneNumbers\.json\?PhoneNumber=%2B15005550008 \Q$basic\E$}m,
     'the carrier was asked for exactly that number, as the account');

($status, $body) = buy($port, '+15005550008', 'lost-answer');
is($status, 201, 'the Idempotency-Key now replays the purchase: 201');
like($body, qr/"message":"Phone number bought".*"status":"active"/,
     'with the active number');

# the job logs after its commit is synced, which another worker may have
# read already
$n->wait_for(sub { $n->error_log =~ /reconcile: the carrier has \+15005550008 of workspace ws_\w+ as PN\w+: it is active/ },
             'the info line', $patience);
pass('an info line says why the number is active');

# --- never bought: gone by itself, and the key buys anew

($status, $body) = buy($lost, '+15005550006', 'never-bought');
is($status, 502, 'the carrier cannot be reached: 502');
is(number('+15005550006'), 'pending', 'the number is pending');

$n->wait_for(sub { number('+15005550006') eq 'gone' },
             'reconciliation to remove the number', $patience);

$n->wait_for(sub { $n->error_log =~ /reconcile: the carrier does not have \+15005550006 of workspace ws_\w+: its pending purchase is removed/ },
             'the info line', $patience);
pass('an info line says it was removed');

($status, $body) = buy($port, '+15005550006', 'never-bought');
is($status, 201, 'the same Idempotency-Key then buys the number for real');

# --- the carrier down, then up

$n->write_file('html/down', '', 0644);

($status) = buy($lost, '+15005550010');
is($status, 502, 'another purchase without a known outcome');

$n->wait_for(sub { jobs() =~ /"name":"reconcile"[^}]*"last_result":"failed"/ },
             'a reconcile run that fails', $patience);
like(jobs(), qr/"name":"reconcile"[^}]*"failures":1,"last_error":"the carrier failed"/,
     'the jobs endpoint says why');
is(number('+15005550010'), 'pending', 'while the carrier is down it waits');

unlink $n->prefix . '/html/down';

$n->wait_for(sub { number('+15005550010') eq 'gone' },
             'reconciliation once the carrier is back', $patience);
pass('once the carrier is back the number is settled');

# --- an account with many pending numbers is read a page at a time

# made while the carrier is down, so that one run finds them all
$n->write_file('html/down', '', 0644);

my @many = ('+15005550009', map { sprintf '+1212555%04d', $_ } 1 .. 54);

for my $e164 (@many) {
    ($status) = buy($lost, $e164);
    $status == 502 or die "buy $e164: $status\n";
}

$n->wait_for(sub { jobs() =~ /"name":"reconcile"[^}]*"failures":(\d+)/
                   && $1 == @many }, 'a run that finds them all', $patience);

my $before = length $n->read_file('logs/carrier.log');
unlink $n->prefix . '/html/down';

$n->wait_for(sub { number('+12125550054') eq 'gone' },
             'the many pending numbers to be settled', $patience);

my $calls = substr $n->read_file('logs/carrier.log'), $before;
like($calls, qr{^GET /2010-04-01/Accounts/$ACCOUNT/IncomingPhoneNumbers\.json\?PageSize=1000 \Q$basic\E$}m,
     '55 pending numbers of one account: its list is read');
unlike($calls, qr/PhoneNumber=/, 'instead of one call per number');
is(number('+15005550009'), 'active', 'the number the account has is active');
like(($n->api(1, GET => '/api/v1/phone-numbers/+15005550009'))[1],
     qr/"telephony_id":"PN00000000000000000000000000000009"/,
     'with its SID from the list');
is(scalar(grep { number($_) eq 'gone' } @many[1 .. $#many]), 54,
   'the 54 the account does not have are gone');

if ($vg) {
    $n->valgrind_clean;     # libcurl's handles freed at exit included
    done_testing;
    exit;
}

# --- the leader killed outright: another takes over within 3 intervals

my $killed = leader();
kill 'KILL', $killed;

$n->wait_for(sub { my $l = leader(); $l && $l != $killed },
             'another leader', 4);
pass('another worker leads within 3 intervals of the kill');

($status) = buy($lost, '+15005550011');
$n->wait_for(sub { number('+15005550011') eq 'gone' },
             'the new leader to finish the work');
pass('and finishes the work');

# --- a reload hands the lease over

my %old = map { $_ => 1 } $n->worker_pids;
$n->reload;

$n->wait_for(sub { my $l = leader(); $l && !$old{$l} }, 'a new leader', 4);
like($n->error_log, qr/agnitel_jobs: the leader lease is given back/,
     'the old leader gave the lease back on its way out');

($status) = buy($lost, '+15005550012');
$n->wait_for(sub { number('+15005550012') eq 'gone' },
             'the new workers to reconcile');
pass('after a reload jobs go on');

# --- nothing was done twice

my $log = $n->error_log;
for my $e164 (qw(+15005550008 +15005550006 +15005550010 +15005550011
                 +15005550012))
{
    my @settled = $log =~ /reconcile: the carrier (?:has|does not have) \Q$e164\E /g;
    is(scalar @settled, 1, "$e164 was settled once");
}

# at any time one worker leads: leads lines alternate with hand-overs
my @leads = $log =~ /\[notice\] (\d+)#\d+: agnitel_jobs: this worker leads/g;
my %seen;
ok(!grep({ $seen{$_}++ } @leads), 'no worker took the lead twice')
    or diag join ' ', @leads;
unlike($log =~ s/^.*\[alert\].*exited on signal 9\n//mr,
       qr/\[(?:alert|crit|emerg)\]/, 'no alert but the kill in the error log');

$n->stop;

done_testing;
