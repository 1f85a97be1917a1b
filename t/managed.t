# Twilio managed accounts and prepaid credits, as a client and an operator
# see them: the terms, connecting (a subaccount created by the platform's
# account), the permanent choice and its unlock, top-ups, the balance and
# the ledger, purchases paid from credits (402 when short, a reversal when
# refused or never bought), and the balance always the ledger's sum; two
# connects at once (the subaccount of the one not kept closed), and the
# sandbox's subaccount Status.
#
# One nginx, two workers.  Carrier calls go through a logging front to the
# sandbox, whose account is the platform's; "lost" is the same API whose
# carrier calls cannot connect.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use Agnitel::Nginx;

# Under TEST_NGINX_USE_VALGRIND all of it runs in one process under memcheck.
my $vg = $ENV{TEST_NGINX_USE_VALGRIND};

my $PLATFORM = 'AC00000000000000000000000000000000';
my $TOKEN = 'sandbox-auth-token';

my $port = Agnitel::Nginx::test_port(15);
my $sandbox = $port + 2;
my $lost = $port + 3;

my $n = Agnitel::Nginx->new(name => 'managed', port => $port);
$n->write_file('secret.key', 'm' x 32);
$n->write_file('platform.token', "$TOKEN\n");

my $to_front = Agnitel::Nginx::twilio_location($port + 1);
my $to_nowhere = Agnitel::Nginx::twilio_location(1);

my $config = <<"END";
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;
    agnitel_twilio_managed account_sid=$PLATFORM
                           auth_token_file=platform.token
                           terms_version=2026-11;
    agnitel_billing cycle=60s renewal=60s window=20s;
    agnitel_jobs interval=1s reconcile_after=1s timeout=2s;
    agnitel_twilio_url http://127.0.0.1:\$CARRIER_PORT;

    log_format carrier '\$request_method \$request_uri \$http_authorization';

    server {
        listen 127.0.0.1:\$PORT;
$to_front
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }

    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        access_log logs/carrier.log carrier;
        root html;
        location / { proxy_pass http://127.0.0.1:$sandbox; }

        # while html/slow exists a new subaccount takes about two seconds
        # to come back, so that two connects at once both reach the carrier
        location = /2010-04-01/Accounts.json {
            if (-f \$document_root/slow) {
                set \$limit_rate 200;
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

# --- nginx -t names what is wrong with the managed directives

$n->write_file('loose.token', "$TOKEN\n", 0644);
$n->write_file('empty.token', "\n");

for my $bad (["agnitel_twilio_managed account_sid=AC12 auth_token_file=platform.token;",
              qr/invalid account_sid "AC12"/],
             ["agnitel_twilio_managed account_sid=$PLATFORM;",
              qr/needs auth_token_file=/],
             ["agnitel_twilio_managed account_sid=$PLATFORM auth_token_file=none.token;",
              qr/auth_token_file ".*none\.token" cannot be opened/],
             ["agnitel_twilio_managed account_sid=$PLATFORM auth_token_file=empty.token;",
              qr/auth_token_file ".*empty\.token" must hold the auth token/],
             ["agnitel_twilio_managed account_sid=$PLATFORM auth_token_file=platform.token color=red;",
              qr/invalid parameter "color=red"/],
             ['agnitel_billing cycle=0s;', qr/invalid period "cycle=0s"/],
             ['agnitel_billing renewal=soon;', qr/invalid period "renewal=soon"/],
             ['agnitel_billing grace=1h;', qr/invalid parameter "grace=1h"/])
{
    my ($directive) = $bad->[0] =~ /^(\w+)/;
    (my $c = $config) =~ s/^    $directive [^;]*;\n/    $bad->[0]\n/m
        or die "no $directive in the configuration\n";
    $n->write_config($c);
    my ($rc, $out) = $n->test_config;
    isnt($rc, 0, "nginx -t fails: $bad->[0]");
    like($out, $bad->[1], 'and names what is wrong');
}

(my $loose = $config) =~ s/platform\.token/loose.token/;
$n->write_config($loose);
my ($rc, $out) = $n->test_config;
is($rc, 0, 'a token file others can read passes nginx -t');
like($out, qr/auth_token_file ".*loose\.token" is readable by group or others/,
     'with a warning');

$n->write_config($config);
$vg ? $n->start_valgrind : $n->start;

my $ws = $n->workspace(1);
my $other = $n->workspace(2);

my $json = JSON::PP->new;

sub call {
    my ($p, $method, $path, $body) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10);
    my $res = $http->request($method, "http://127.0.0.1:$p$path",
        { headers => { 'X-Api-Key' => Agnitel::Nginx::api_key(1),
                       'Content-Type' => 'application/json' },
          defined $body ? (content => $body) : () });
    return ($res->{status}, eval { $json->decode($res->{content}) }
                            // $res->{content});
}

sub api { call($port, @_) }

sub admin {
    my ($status, $body) = $n->request(@_);
    return ($status, eval { $json->decode($body) } // $body);
}

*micros = \&Agnitel::Nginx::micros;

sub balance { micros((api(GET => '/api/v1/billing'))[1]{data}{balance}) }

sub ledger {
    my ($status, $body) = api(GET => '/api/v1/billing/ledger?limit=200');
    return @{$body->{data}};
}

sub carrier_log { $n->read_file('logs/carrier.log') }

# after every scenario: the balance is the sum of the ledger
sub adds_up {
    my ($what) = @_;
    my $sum = 0;
    $sum += micros($_->{amount}) for ledger();
    is(balance(), $sum, "$what: the balance is the ledger's sum");
}

my ($status, $body);

# --- the terms

($status, $body) = api(GET => '/api/v1/telephony/terms');
is($status, 200, 'the terms are published');
is($body->{data}{version}, '2026-11', 'in the configured version');
is(scalar @{$body->{data}{clauses}}, 4, 'with four clauses');
like($body->{data}{clauses}[$_->[0]], $_->[1], "clause: $_->[1]")
    for [0, qr/^Service Selection: .*permanent/],
        [1, qr/^Credit-Based Subscription: .*expire at the end of each billing cycle/],
        [2, qr/^Phone Number Renewal: .*28 days.*48-hour window/],
        [3, qr/^Strict No Refund Policy:/];

# --- connecting needs the terms, accepted in their version

for my $case (['{"mode":"managed","friendly_name":"M"}', 'not accepted'],
              ['{"mode":"managed","friendly_name":"M","accept_terms":false,"terms_version":"2026-11"}', 'refused'],
              ['{"mode":"managed","friendly_name":"M","accept_terms":true,"terms_version":"2026-10"}', 'an old version'],
              ['{"mode":"managed","friendly_name":"M","accept_terms":"yes","terms_version":"2026-11"}', 'not a boolean'])
{
    ($status, $body) = api(POST => '/api/v1/telephony/providers/twilio',
                           $case->[0]);
    is($status, 422, "terms $case->[1]: 422");
    is($body->{error}{code}, 'terms_not_accepted', 'terms_not_accepted');
}

unlike(carrier_log(), qr/Accounts\.json/, 'and nothing was created at Twilio');

($status, $body) = api(POST => '/api/v1/telephony/providers/twilio',
    '{"mode":"managed","friendly_name":"Managed","accept_terms":true,'
  . '"terms_version":"2026-11"}');
is($status, 201, 'terms accepted: the managed account is connected');

my $prv = $body->{data};
is($prv->{type}, 'twilio_managed', 'as twilio_managed');
like($prv->{account_sid}, qr/^AC[0-9a-f]{32}$/, 'with an account of its own');
isnt($prv->{account_sid}, $PLATFORM, 'not the platform\'s');
is($prv->{locked}, JSON::PP::true, 'locked');
is($prv->{terms}{version}, '2026-11', 'the acceptance keeps the version');
like($prv->{terms}{accepted_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
     'the time');
is($prv->{terms}{client_address}, '127.0.0.1', 'the client\'s address');

like($prv->{terms}{api_key_id}, qr/^key_[0-9a-f]{16}$/, 'and the API key id');
unlike(encode_json($prv), qr/auth_token|sandbox-auth/, 'no secret shown');

my $platform_basic = 'Basic ' . encode_base64("$PLATFORM:$TOKEN", '');
like(carrier_log(),
     qr{^POST /2010-04-01/Accounts\.json \Q$platform_basic\E$}m,
     'the subaccount was created with the platform\'s credentials');

for my $mode ('"mode":"own","account_sid":"' . $PLATFORM . '","auth_token":"' . $TOKEN . '"',
              '"mode":"managed","accept_terms":true,"terms_version":"2026-11"')
{
    ($status, $body) = api(POST => '/api/v1/telephony/providers/twilio',
                           qq({"friendly_name":"Again",$mode}));
    is($status, 409, 'a second Twilio provider: 409');
    is($body->{error}{code}, 'provider_exists', 'provider_exists');
}

($status, $body) = api(DELETE => "/api/v1/telephony/providers/$prv->{id}");
is($status, 409, 'the managed choice cannot be removed');
is($body->{error}{code}, 'provider_locked', 'provider_locked');

# --- two connects at once: one provider, and the loser's subaccount closed

$n->workspace(3);
my $before = length carrier_log();
$n->write_file('html/slow', '', 0644);

my @connects = $n->at_once(3, map {
    [POST => '/api/v1/telephony/providers/twilio',
     '{"mode":"managed","friendly_name":"Race","accept_terms":true,'
     . '"terms_version":"2026-11"}']
} 1 .. 2);

unlink $n->prefix . '/html/slow';

is_deeply([sort map { $_->[0] } @connects], [201, 409],
          'two managed connects at once: one connected, one 409');
my ($won) = map { $json->decode($_->[1])->{data} }
            grep { $_->[0] == 201 } @connects;
my ($lost_connect) = map { $json->decode($_->[1]) }
                     grep { $_->[0] == 409 } @connects;
is($lost_connect->{error}{code}, 'provider_exists', 'provider_exists');

# the carrier's access log line comes once its request is over, which
# may be after the module has answered
$n->wait_for(sub { substr(carrier_log(), $before) =~ m{^POST /2010-04-01/Accounts/AC}m },
             'the close in the carrier log', $vg ? 60 : 10);
my $race = substr(carrier_log(), $before);
is(scalar(() = $race =~ m{^POST /2010-04-01/Accounts\.json }mg), 2,
   'each created a subaccount');
my ($closed) = $race
    =~ m{^POST /2010-04-01/Accounts/(AC[0-9a-f]{32})\.json \Q$platform_basic\E$}m;
ok($closed, "the loser's subaccount was closed, as the platform");
isnt($closed, $won->{account_sid}, 'not the one connected');
like($n->error_log, qr/closed subaccount \Q$closed\E, created for a connect/,
     'and the log says so');
like($n->error_log, qr/agnitel sandbox: subaccount \Q$closed\E closed/,
     'the carrier has it closed');

# the sandbox as Twilio: a closed subaccount's credentials are refused

sub twilio {
    my ($method, $path, $user, $pass, $form) = @_;
    my $res = HTTP::Tiny->new(keep_alive => 0)->request($method,
        "http://127.0.0.1:$sandbox/2010-04-01/Accounts$path",
        { headers => { Authorization => 'Basic '
                                        . encode_base64("$user:$pass", ''),
                       'Content-Type' => 'application/x-www-form-urlencoded' },
          defined $form ? (content => $form) : () });
    return ($res->{status}, eval { $json->decode($res->{content}) });
}

my ($st, $acct) = twilio(POST => '.json', $PLATFORM, $TOKEN, 'FriendlyName=t');
is($st, 201, 'sandbox: a subaccount');
my ($sub_sid, $sub_token) = @$acct{qw(sid auth_token)};
($st) = twilio(GET => "/$sub_sid.json", $sub_sid, $sub_token);
is($st, 200, 'sandbox: its credentials work');
($st) = twilio(POST => "/$sub_sid.json", $sub_sid, $sub_token,
               'Status=closed');
is($st, 405, 'sandbox: a subaccount cannot close itself (405)');
($st, $acct) = twilio(POST => "/$sub_sid.json", $PLATFORM, $TOKEN,
                      'Status=gone');
is($st, 400, 'sandbox: an unknown Status: 400');
is($acct->{code}, 21218, 'with a Twilio code');
($st, $acct) = twilio(POST => "/$sub_sid.json", $PLATFORM, $TOKEN,
                      'Status=closed');
is($st, 200, 'sandbox: the platform closes it');
is($acct->{status}, 'closed', 'closed');
ok(!exists $acct->{auth_token}, 'the answer shows no token');
($st) = twilio(GET => "/$sub_sid.json", $sub_sid, $sub_token);
is($st, 401, 'sandbox: its credentials are refused from then on');
($st) = twilio(POST => '/AC55555555555555555555555555555555.json',
               $PLATFORM, $TOKEN, 'Status=closed');
is($st, 404, 'sandbox: no such subaccount: 404');

# --- the billing cycle and an empty balance

($status, $body) = api(GET => '/api/v1/billing');
is($status, 200, 'billing');
is($body->{data}{balance}, 0, 'no credits yet');
is($body->{data}{currency}, 'USD', 'in USD');
ok(defined $body->{data}{cycle_start} && defined $body->{data}{cycle_end},
   'the cycle of the managed account');

# --- top-ups

for my $bad (['{"amount":1.1234567,"reference":"r"}', 'amount'],
             ['{"amount":0,"reference":"r"}', 'amount'],
             ['{"amount":-5,"reference":"r"}', 'amount'],
             ['{"amount":"5","reference":"r"}', 'amount'],
             ['{"amount":5}', 'reference'],
             ['{"amount":5,"reference":"r","currency":"usd"}', 'currency'])
{
    ($status, $body) = admin(POST => "/admin/v1/workspaces/$ws/credits",
                             $bad->[0]);
    is($status, 400, "top-up $bad->[0]: 400");
    is($body->{error}{field}, $bad->[1], "naming $bad->[1]");
}

($status) = admin(POST => '/admin/v1/workspaces/ws_0000000000000000/credits',
                  '{"amount":5,"reference":"r"}');
is($status, 404, 'a top-up for no workspace: 404');

is(scalar(ledger()), 0, 'no bad top-up reached the ledger');

# --- short of credits: 402 and nothing written

($status, $body) = api(POST => '/api/v1/phone-numbers/buy',
                       '{"phone_number":"+15005550006","price":1.15}');
is($status, 402, 'a purchase without credits: 402');
is($body->{error}{code}, 'insufficient_credits', 'insufficient_credits');
is((api(GET => '/api/v1/phone-numbers/+15005550006'))[0], 404,
   'the number was not written');
unlike(carrier_log(), qr{IncomingPhoneNumbers\.json}, 'nor asked for');

($status, $body) = admin(POST => "/admin/v1/workspaces/$ws/credits",
                         '{"amount":5,"reference":"payment-1"}');
is($status, 201, 'a top-up of 5 USD');
my $topup = $body->{data};
is($topup->{type}, 'topup', 'recorded as a topup');
is($topup->{amount}, 5, 'of 5');
is($topup->{reference}, 'payment-1', 'with its reference');

($status, $body) = admin(POST => "/admin/v1/workspaces/$ws/credits",
                         '{"amount":5,"reference":"payment-1"}');
is($status, 200, 'the same reference again: 200');
is($body->{data}{id}, $topup->{id}, 'the same top-up');
is(balance(), micros('5'), 'the balance counts it once');

($status) = admin(POST => "/admin/v1/workspaces/$other/credits",
                  '{"amount":7,"reference":"payment-1"}');
is($status, 201, 'another workspace may use the same reference');
is(balance(), micros('5'), 'without touching this one');
adds_up('top-ups');

# --- a purchase paid from credits

($status, $body) = api(POST => '/api/v1/phone-numbers/buy',
                       '{"phone_number":"+15005550006","price":1.15}');
is($status, 201, 'a managed purchase');
my $number = $body->{data};
is($number->{status}, 'active', 'active');
is($number->{auto_renew}, JSON::PP::true, 'renewing by itself');
ok($number->{renews_at} gt $number->{purchased_at},
   'renews_at after purchased_at');

my ($basic) = carrier_log()
    =~ m{^POST /2010-04-01/Accounts/$prv->{account_sid}/IncomingPhoneNumbers\.json Basic (\S+)$}m;
like(decode_base64($basic // ''), qr/^\Q$prv->{account_sid}\E:[0-9a-f]{32}$/,
     'bought through the subaccount, with its own credentials');

my @ledger = ledger();
is($ledger[0]{type}, 'number_purchase', 'the ledger has the purchase');
is($ledger[0]{amount}, -1.15, 'debited at the monthly price');
is($ledger[0]{phone_number}, '+15005550006', 'for the number');
is(balance(), micros('3.85'), 'the balance is 3.85');
adds_up('a purchase');

($status, $body) = api(PATCH => '/api/v1/phone-numbers/+15005550006',
                       '{"auto_renew":false}');
is($status, 200, 'auto_renew can be turned off');
is($body->{data}{auto_renew}, JSON::PP::false, 'and is off');
is($body->{data}{friendly_name}, $number->{friendly_name},
   'the name unchanged');

($status, $body) = api(PATCH => '/api/v1/phone-numbers/+15005550006',
                       '{"auto_renew":"no"}');
is($status, 400, 'auto_renew must be a boolean');

($status, $body) = api(POST => '/api/v1/phone-numbers/import',
    '{"phone_number":"+14155550199","friendly_name":"SIP",'
  . '"sip_username":"u","sip_password":"p"}');
($status, $body) = api(PATCH => '/api/v1/phone-numbers/+14155550199',
                       '{"auto_renew":false}');
is($status, 409, 'a custom SIP number does not renew: 409');
is($body->{error}{code}, 'invalid_state', 'invalid_state');

# --- refused by the carrier: the debit comes back

($status, $body) = api(POST => '/api/v1/phone-numbers/buy',
                       '{"phone_number":"+15005550000","price":1.15}');
is($status, 409, 'a number the carrier will not sell: 409');
@ledger = ledger();
is($ledger[0]{type}, 'reversal', 'a reversal');
is($ledger[0]{amount}, 1.15, 'of the price');
is($ledger[1]{type}, 'number_purchase', 'after the debit');
is(balance(), micros('3.85'), 'the balance is as before');
adds_up('a refused purchase');

# --- two purchases at once that together exceed the balance

($status) = admin(POST => "/admin/v1/workspaces/$ws/credits",
                  '{"amount":0.15,"reference":"payment-2"}');
is(balance(), micros('4'), 'a balance of 4: three numbers and a bit');

my @statuses = map { $_->[0] } $n->at_once(1, map {
    [POST => '/api/v1/phone-numbers/buy',
     sprintf('{"phone_number":"+1500555002%d","price":1.15}', $_)]
} 1 .. 4);

is(join(' ', sort @statuses), '201 201 201 402',
   'four purchases at once with credits for three: exactly one is 402');
is(balance(), micros('0.55'), 'the balance never went below zero');
adds_up('purchases at once');

# --- never bought (the carrier unreachable): reconciled, and reversed

admin(POST => "/admin/v1/workspaces/$ws/credits",
      '{"amount":2,"reference":"payment-3"}');

($status) = call($lost, POST => '/api/v1/phone-numbers/buy',
                 '{"phone_number":"+15005550030","price":1.15}');
is($status, 502, 'a purchase whose outcome is unknown: 502');
is(balance(), micros('1.4'), 'paid for while pending');

$n->wait_for(sub { (api(GET => '/api/v1/phone-numbers/+15005550030'))[0]
                   == 404 }, 'reconciliation', $vg ? 60 : 10);

@ledger = ledger();
is($ledger[0]{type}, 'reversal', 'the carrier never bought it: a reversal');
is($ledger[0]{phone_number}, '+15005550030', 'for that number');
is(balance(), micros('2.55'), 'the balance is back');
adds_up('a reconciled purchase');

# --- the operator unlocks the choice

($status, $body) = admin(POST => "/admin/v1/workspaces/$ws/provider-unlock");
is($status, 200, 'an operator unlocks the managed provider');
is($body->{data}{locked}, JSON::PP::false, 'no longer locked');

($status, $body) = api(DELETE => "/api/v1/telephony/providers/$prv->{id}");
is($status, 409, 'it still holds numbers');
is($body->{error}{code}, 'provider_in_use', 'provider_in_use');

($status) = admin(POST => "/admin/v1/workspaces/$other/provider-unlock");
is($status, 404, 'a workspace without a managed provider: 404');

like($n->error_log, qr/managed Twilio provider of workspace \Q$ws\E was unlocked/,
     'the unlock is logged');
unlike($n->read_file('store/data.mdb'), qr/\Q$TOKEN\E/,
       'the platform\'s token is not in the store');
unlike($n->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert in the log');

$n->valgrind_clean if $vg;

$n->stop;

done_testing;
