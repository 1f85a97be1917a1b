# "nginx -t" accepts a good configuration and names the directive at fault
# in a bad one.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Agnitel::Nginx;

my $n = Agnitel::Nginx->new(name => 'directives');
$n->write_file('secret.key', 'k' x 32);
$n->write_file('short.key', 'k' x 31);
$n->write_file('hex.key', ('ab' x 32) . "\n");
$n->write_file('badhex.key', ('zz' x 32) . "\n");

my $server = <<'END';
    server {
        listen 127.0.0.1:$PORT;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END

sub check {
    my ($name, $http, $expect) = @_;

    $n->write_config($http);
    my ($rc, $out) = $n->test_config;

    if (defined $expect) {
        isnt($rc, 0, "$name: nginx -t fails");
        like($out, $expect, "$name: the message names the cause");

    } else {
        is($rc, 0, "$name: nginx -t passes") or diag $out;
    }
}

my $good = "agnitel_store store;\nagnitel_secret_key_file secret.key;\n";

check('a complete configuration', $good . $server);

check('a key file of 64 hex characters',
      "agnitel_store store;\nagnitel_secret_key_file hex.key;\n$server");

check('map_size in megabytes',
      "agnitel_store store map_size=64m;\n"
      . "agnitel_secret_key_file secret.key;\n$server");

ok(-f $n->prefix . '/store/data.mdb', 'nginx -t created the store');

check('a missing key file',
      "agnitel_store store;\nagnitel_secret_key_file nokey.key;\n$server",
      qr/agnitel_secret_key_file ".*nokey\.key" cannot be opened/);

check('a key file of 31 bytes',
      "agnitel_store store;\nagnitel_secret_key_file short.key;\n$server",
      qr/agnitel_secret_key_file ".*short\.key" must hold 32 raw bytes/);

check('a key file that is not hex',
      "agnitel_store store;\nagnitel_secret_key_file badhex.key;\n$server",
      qr/agnitel_secret_key_file ".*badhex\.key" has a character/);

check('a store under a regular file',
      "agnitel_store /dev/null/store;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/agnitel_store "\/dev\/null\/store": cannot create the directory/);

check('a map_size that is not a size',
      "agnitel_store store map_size=lots;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/invalid map_size "lots"/);

check('a map_size too small for LMDB',
      "agnitel_store store map_size=4k;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/invalid map_size "4k"/);

check('grow off and a map_size, in either order',
      "agnitel_store store grow=off map_size=64m;\n"
      . "agnitel_secret_key_file secret.key;\n$server");

check('grow in megabytes',
      "agnitel_store store map_size=64m grow=8m;\n"
      . "agnitel_secret_key_file secret.key;\n$server");

check('a grow that is not a size',
      "agnitel_store store grow=lots;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/invalid grow "lots": "off" or a size of at least 64k/);

check('a grow under 64k',
      "agnitel_store store grow=4k;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/invalid grow "4k"/);

check('map_size given twice',
      "agnitel_store store map_size=64m map_size=128m;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/duplicate parameter "map_size=128m"/);

check('grow given twice',
      "agnitel_store store grow=off grow=8m;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/duplicate parameter "grow=8m"/);

check('an unknown agnitel_store parameter',
      "agnitel_store store mapsize=64m;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/invalid parameter "mapsize=64m"/);

check('agnitel_store twice',
      "agnitel_store store;\nagnitel_store store2;\n"
      . "agnitel_secret_key_file secret.key;\n$server",
      qr/"agnitel_store" directive is duplicate/);

check('agnitel_secret_key_file twice',
      $good . "agnitel_secret_key_file secret.key;\n$server",
      qr/"agnitel_secret_key_file" directive is duplicate/);

check('agnitel_api twice in a location',
      $good . "server { listen 127.0.0.1:\$PORT;\n"
      . "location / { agnitel_api; agnitel_api; } }\n",
      qr/"agnitel_api" directive is duplicate/);

check('agnitel_api without a store',
      "agnitel_secret_key_file secret.key;\n$server",
      qr/agnitel_api and agnitel_admin need "agnitel_store"/);

check('agnitel_api without a key file',
      "agnitel_store store;\n$server",
      qr/need "agnitel_secret_key_file"/);

check('a termination URI that is not SIP',
      $good . "agnitel_sip_termination_uri http://example.com;\n$server",
      qr/invalid SIP URI "http:\/\/example.com"/);

check('rate card rows, a voice URL and a sandbox',
      $good . "agnitel_rate CA local 1.15 0.0085 0.0945 CAD;\n"
      . "agnitel_rate US local 2 0.01 0.1 USD;\n"
      . "agnitel_voice_url https://example.com/inbound;\n"
      . "server { listen 127.0.0.1:\$PORT; agnitel_twilio_api /_t/;\n"
      . "location /2010-04-01/ { agnitel_twilio_sandbox "
      . "account_sid=AC11111111111111111111111111111111 auth_token=t; } }\n");

check('a rate for a country that is not ISO',
      $good . "agnitel_rate usa local 1.15 0.0085 0.0945 USD;\n$server",
      qr/invalid country "usa"/);

check('a rate for an unknown type',
      $good . "agnitel_rate US landline 1.15 0.0085 0.0945 USD;\n$server",
      qr/invalid number type "landline"/);

check('a rate with seven decimals',
      $good . "agnitel_rate US local 1.15 0.0000001 0.0945 USD;\n$server",
      qr/invalid price in "1.15 0.0000001 0.0945"/);

check('a rate with a negative price',
      $good . "agnitel_rate US local -1 0.0085 0.0945 USD;\n$server",
      qr/invalid price/);

check('a rate with a bad currency',
      $good . "agnitel_rate US local 1.15 0.0085 0.0945 dollars;\n$server",
      qr/invalid currency "dollars"/);

check('the same rate row twice',
      $good . "agnitel_rate CA local 1 1 1 CAD;\n"
      . "agnitel_rate CA local 2 2 2 CAD;\n$server",
      qr/"agnitel_rate" directive is duplicate/);

check('a sandbox account that is not a Twilio SID',
      $good . "server { listen 127.0.0.1:\$PORT;\n"
      . "location / { agnitel_twilio_sandbox account_sid=AC12; } }\n",
      qr/has an account_sid that is not AC and 32 characters/);

# agnitel_verify: the Verify service and the platform account's token
$n->write_file('verify.token', "verify-token\n");
my $va = 'VA' . ('0' x 32);
my $ac = 'AC' . ('0' x 32);

check('agnitel_verify',
      $good . "agnitel_verify service_sid=$va account_sid=$ac "
      . "auth_token_file=verify.token;\n$server");

check('agnitel_verify with a service that is not VA',
      $good . "agnitel_verify service_sid=$ac account_sid=$ac "
      . "auth_token_file=verify.token;\n$server",
      qr/invalid service_sid "AC0+": VA and 32 hex characters/);

check('agnitel_verify without its token file',
      $good . "agnitel_verify service_sid=$va account_sid=$ac;\n$server",
      qr/"agnitel_verify" directive needs auth_token_file=/);

check('agnitel_verify with an unknown parameter',
      $good . "agnitel_verify service_sid=$va account_sid=$ac "
      . "auth_token_file=verify.token code=1;\n$server",
      qr/invalid parameter "code=1"/);

# agnitel_india_account: the platform's account at the Indian carrier
$n->write_file('india.token', "india-token\n");
my $in = 'agnitel_india_account sid=acme-in api_key=key1';

check('agnitel_india_account',
      $good . "$in api_token_file=india.token renewal=30d;\n"
      . "agnitel_india_url https://api.in.exotel.com/;\n$server");

check('agnitel_india_account with a sid unfit for a path',
      $good . "agnitel_india_account sid=acme/in api_key=key1 "
      . "api_token_file=india.token;\n$server",
      qr{invalid sid "acme/in": 1 to 64 letters});

check('agnitel_india_account without api_key',
      $good . "agnitel_india_account sid=acme-in "
      . "api_token_file=india.token;\n$server",
      qr/"agnitel_india_account" directive needs api_key=/);

check('agnitel_india_account without its token file',
      $good . "$in;\n$server",
      qr/"agnitel_india_account" directive needs api_token_file=/);

check('agnitel_india_account with a renewal that is no time',
      $good . "$in api_token_file=india.token renewal=soon;\n$server",
      qr/"agnitel_india_account" directive has an invalid renewal=/);

check('agnitel_india_url that is no URL',
      $good . "agnitel_india_url api.in.exotel.com;\n$server",
      qr/invalid URL "api\.in\.exotel\.com"/);

check('agnitel_console in a location',
      $good . "server { listen 127.0.0.1:\$PORT;\n"
      . "location /console/ { agnitel_console; } }\n");

check('agnitel_console with an argument',
      $good . "server { listen 127.0.0.1:\$PORT;\n"
      . "location /console/ { agnitel_console /srv; } }\n",
      qr/invalid number of arguments in "agnitel_console"/);

check('agnitel_console beside another handler',
      $good . "server { listen 127.0.0.1:\$PORT;\n"
      . "location /console/ { agnitel_api; agnitel_console; } }\n",
      qr/"agnitel_console" directive is duplicate or conflicts/);

check('agnitel_api outside a location',
      $good . "agnitel_api;\n$server",
      qr/"agnitel_api" directive is not allowed here/);

done_testing;
