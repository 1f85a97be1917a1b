# The Phone Numbers console (agnitel_console) in a real browser: Debian's
# chromium, headless, driven by playwright-core (t/console/flows.js).  This
# file starts nginx with every carrier in its sandbox, makes three
# workspaces, and reports each of the browser's checks as a test: every
# flow clicked through and asserted on the page and on the API, axe-core's
# serious violations, 360 px and 1920 px, the API going away and a
# refused key.  Screenshots go to t/console/artifacts/.
#
# Under TEST_NGINX_USE_VALGRIND nginx runs under memcheck, with the
# browser's waits stretched to match.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};
my $chromium = $ENV{AGNITEL_CHROMIUM} || '/usr/bin/chromium';
my $root = "$FindBin::Bin/..";

BAIL_OUT("$chromium is missing: \"make deps\" installs Debian's chromium")
    unless -x $chromium;
BAIL_OUT("node_modules/playwright-core is missing: \"npm ci\" installs it")
    unless -d "$root/node_modules/playwright-core";

my $PLATFORM = 'AC00000000000000000000000000000000';
my $SERVICE = 'VA' . ('0' x 31) . '4';

my $port = Agnitel::Nginx::test_port(35);
my $to_carriers = join '', Agnitel::Nginx::twilio_location($port + 1),
    map { Agnitel::Nginx::carrier_location("agnitel_${_}_api", "/_$_/",
                                           $port + 1) } 'verify', 'india';

my $n = Agnitel::Nginx->new(name => 'console', port => $port);
$n->write_file('secret.key', 'c' x 32);
$n->write_file('platform.token', "sandbox-auth-token\n");
$n->write_file('india.token', "sandbox-india-token\n");

$n->write_config(<<"END", workers => 2);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:console.example.com;
    agnitel_twilio_managed account_sid=$PLATFORM
                           auth_token_file=platform.token;
    agnitel_verify service_sid=$SERVICE account_sid=$PLATFORM
                   auth_token_file=platform.token;
    agnitel_india_account sid=agnitel-sandbox api_key=sandbox-india-key
                          api_token_file=india.token;
    agnitel_billing renewal=2s window=1h;
    agnitel_jobs interval=1s timeout=5s;
    agnitel_twilio_url http://127.0.0.1:\$CARRIER_PORT;
    agnitel_india_url http://127.0.0.1:\$CARRIER_PORT;

    server {
        listen 127.0.0.1:\$PORT;
        subrequest_output_buffer_size 256k;
$to_carriers
        location /api/ { agnitel_api; }
        location /api/v1/telephony/india/kyc/documents/ {
            agnitel_kyc_documents;
        }
        location /admin/ { agnitel_admin; }
        location /console/ { agnitel_console; }
    }

    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        location / { agnitel_twilio_sandbox; }
    }
END
$vg ? $n->start_valgrind : $n->start;

my %ws = map { $_ => $n->workspace($_) } 1 .. 3;

my $artifacts = "$FindBin::Bin/console/artifacts";
mkdir $artifacts;

$ENV{CONSOLE_BASE} = "http://127.0.0.1:$port";
$ENV{CONSOLE_KEYS} = join ',', map { Agnitel::Nginx::api_key($_) } 1 .. 3;
$ENV{CONSOLE_WORKSPACES} = join ',', map { $ws{$_} } 1 .. 3;
$ENV{CONSOLE_ARTIFACTS} = $artifacts;
$ENV{CONSOLE_CHROMIUM} = $chromium;
$ENV{CONSOLE_PATIENCE} = $vg ? 60000 : 15000;

# the browser's checks, one JSON line each
open my $flows, '-|', 'node', "$FindBin::Bin/console/flows.js"
    or die "node: $!";

my $json = JSON::PP->new;
my $checks = 0;

while (my $line = <$flows>) {
    my $c = eval { $json->decode($line) };

    if (!$c) {
        diag "flows.js: $line";
        next;
    }

    ok($c->{ok}, $c->{name}) or diag $c->{diag} // '';
    $checks++;
}

close $flows;
is($?, 0, 'the browser run ended cleanly');
cmp_ok($checks, '>', 50, "and made its checks ($checks)");

$vg ? $n->valgrind_clean : $n->stop;

done_testing;
