# A provider's life against the built-in sandbox: connected, in use while
# it holds numbers, removed once they are released.  (Ids are random, so
# this runs its own nginx rather than Test::Nginx blocks.)

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $n = Agnitel::Nginx->new(name => 'providers',
                           port => Agnitel::Nginx::test_port(7));
$n->write_file('secret.key', 'p' x 32);
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
            proxy_set_header Content-Type application/x-www-form-urlencoded;
        }

        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    server {
        listen 127.0.0.1:$CARRIER_PORT;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }
END
$n->start;
$n->workspace(1);

my ($status, $body) = $n->api(1, POST => '/api/v1/telephony/providers/twilio',
    '{"mode":"own","friendly_name":"Sandbox",'
    . '"account_sid":"AC00000000000000000000000000000000",'
    . '"auth_token":"sandbox-auth-token"}');
is($status, 201, 'the sandbox account is connected');
my ($id) = $body =~ /"id":"(prv_[0-9a-f]{16})"/;

($status) = $n->api(1, POST => '/api/v1/phone-numbers/buy',
                    '{"phone_number":"+15005550006","price":1.15}');
is($status, 201, '+15005550006 is bought');

($status, $body) = $n->api(1, DELETE => "/api/v1/telephony/providers/$id");
is($status, 409, 'the provider cannot go while it has a number');
like($body, qr/"code":"provider_in_use"/, 'provider_in_use');

($status) = $n->api(1, DELETE => '/api/v1/phone-numbers/+15005550006/release');
is($status, 200, 'the number is released (at the sandbox too)');

($status) = $n->api(1, POST => '/api/v1/phone-numbers/buy',
                    '{"phone_number":"+15005550006","price":1.15}');
is($status, 201, 'the sandbox sells it again: it was released there');

($status) = $n->api(1, DELETE => '/api/v1/phone-numbers/+15005550006/release');
is($status, 200, 'released again');

($status, $body) = $n->api(1, DELETE => "/api/v1/telephony/providers/$id");
is($status, 200, 'the provider is removed');
like($body, qr/"data":\{"id":"$id","status":"removed"\}/, 'and says which');

($status, $body) = $n->api(1, GET => '/api/v1/telephony/providers');
like($body, qr/"data":\[\]/, 'no provider is left');

($status) = $n->api(1, DELETE => "/api/v1/telephony/providers/$id");
is($status, 404, 'removing it again is 404');

$n->stop;

done_testing;
