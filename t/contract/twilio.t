# Contract: every Twilio call the module makes (connect, search, buy,
# add-twilio, an outbound call, release; and for a managed account the
# subaccount's creation with the platform's credentials, then a buy and a
# release with the subaccount's) is replayed against Prism serving Twilio's official
# OpenAPI description, and any request Prism's validator rejects fails the
# suite.  The fake carriers of t/twilio.t check what we think Twilio wants;
# this checks it against what Twilio publishes.
#
# Needs ../shared/twilio-oai/twilio_api_v2010.json (AGNITEL_TWILIO_OAI
# overrides the path) and Prism from package-lock.json (npm ci, which
# "make test-contract" runs).  Ports: nginx 1997, Prism 4017, both moved
# with TEST_NGINX_PORT like the other suites' (Agnitel::Nginx::test_port),
# or set with AGNITEL_CONTRACT_NGINX_PORT, AGNITEL_CONTRACT_PRISM_PORT.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Agnitel::Nginx;
use Agnitel::Prism;

use JSON::PP ();

my $spec  = $ENV{AGNITEL_TWILIO_OAI}
            // "$FindBin::Bin/../../../shared/twilio-oai/twilio_api_v2010.json";
my $prism = $Agnitel::Prism::BINARY;

my $NGINX_PORT = $ENV{AGNITEL_CONTRACT_NGINX_PORT}
                 || Agnitel::Nginx::test_port(13);
my $PRISM_PORT = $ENV{AGNITEL_CONTRACT_PRISM_PORT}
                 || Agnitel::Nginx::test_port(2033);

plan skip_all => "Twilio's OpenAPI description is not at $spec: "
               . 'the contract suite needs ../shared/twilio-oai'
    unless -f $spec;

plan skip_all => "Prism is not installed ($prism is missing): "
               . 'run "npm ci" in the repository, or "make test-contract"'
    unless -x $prism;

plan skip_all => 'starts its own master and workers and Prism; '
               . 'not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $json = JSON::PP->new->utf8;


# --- what Prism will answer: the examples of Twilio's description

# Prism answers with the operation's example, and the module checks those
# answers against what it sent (the account SID on connect, the number on
# add-twilio): so the test sends what the examples hold.  Read from the
# spec rather than copied, so a newer description does not break the suite.

my $oai = Agnitel::Prism::read_spec($spec);

sub example {
    my ($path, $method, $status) = @_;

    # these operations have a single example, the one Prism serves
    my @ex = values %{ Agnitel::Prism::examples($oai, $path, $method,
                                                 $status) };
    die "$method $path: " . @ex . " examples, expected one\n" unless @ex == 1;

    return $ex[0];
}

my $account = example('/2010-04-01/Accounts/{Sid}.json', get => 200);
my $owned   = example('/2010-04-01/Accounts/{AccountSid}/'
                      . 'IncomingPhoneNumbers/{Sid}.json', get => 200);

my $SID = $account->{sid};
my $SUB = example('/2010-04-01/Accounts.json', post => 201)->{sid};
undef $oai;    # 1.8 MB of it


# --- nginx's prefix first: Prism's log goes into it

my $n = Agnitel::Nginx->new(name => 'contract', port => $NGINX_PORT);


# --- Prism (which stops nginx, then itself, when the test ends)

my $p = Agnitel::Prism->new(spec => $spec, port => $PRISM_PORT,
                            nginx => $n)->start;


# --- nginx, configured as in production but for the upstream

# the internal location is DESIGN's, with Prism for api.twilio.com (plain
# HTTP, so no proxy_ssl_*)
$n->write_file('secret.key', join '', map { chr(($_ * 11 + 3) % 256) } 1 .. 32);
$n->write_file('platform.token', "f00dfacef00dfacef00dfacef00dface\n");

$n->write_config(<<"END", workers => 2);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;
    agnitel_voice_url https://agents.example.com/inbound;
    agnitel_twilio_managed account_sid=$SID auth_token_file=platform.token;
    agnitel_status_url https://agents.example.com/status;

    # (no \$request_method: in a subrequest it is the main request's)
    log_format carrier '\$uri \$upstream_status';

    server {
        listen 127.0.0.1:\$PORT;

        agnitel_twilio_api /_twilio/;

        location /_twilio/ {
            internal;
            proxy_pass http://127.0.0.1:$PRISM_PORT/;
            proxy_pass_request_headers off;
            proxy_set_header Authorization \$agnitel_upstream_authorization;
            proxy_set_header Content-Type application/x-www-form-urlencoded;
            proxy_set_header Accept-Encoding "";
            proxy_read_timeout 10s;
            subrequest_output_buffer_size 256k;

            # nginx's own record of every carrier call and Prism's status:
            # a request refused before Prism logs it (a body its parser
            # chokes on) still shows here
            log_subrequest on;
            access_log logs/carrier.log carrier;
        }

        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END

$n->start;
$n->workspace(1);
my $managed_ws = $n->workspace(2);

# workspace 1 by default; "api(2, ...)" is the managed one
sub api {
    my $ws = $_[0] =~ /^\d+$/ ? shift : 1;
    my ($method, $path, $body) = @_;
    my ($status, $answer) = $n->api($ws, $method, $path,
                                    defined $body ? $json->encode($body)
                                                  : undef);
    my $data = eval { $json->decode($answer) } || {};
    return ($status, $data, $answer);
}

sub api_is {
    my ($want, $what, @req) = @_;
    my ($status, $data, $raw) = api(@req);
    is($status, $want, $what) or diag "$req[0] $req[1]: $raw";
    return $data;
}


# --- the five operations

# connect: GET Accounts/{Sid}.json; the module wants the SID it sent back
my $d = api_is(201, 'connect: the account Prism describes is connected',
               POST => '/api/v1/telephony/providers/twilio',
               { mode => 'own', friendly_name => 'Main', account_sid => $SID,
                 auth_token => 'f00dfacef00dfacef00dfacef00dface' });
is($d->{data}{account_sid}, $SID, 'connect: with its SID');

# search: AvailablePhoneNumbers/{Country}/{Local,TollFree,Mobile}.json
$d = api_is(200, 'search: local numbers, with every filter',
            GET => '/api/v1/phone-numbers/available?iso_country=US'
                   . '&area_code=415&contains=55&voice_enabled=true'
                   . '&sms_enabled=false&limit=5');
my $found = $d->{data}[0] || {};
like($found->{phone_number} // '', qr/^\+1\d{10}$/,
     'search: Prism\'s example number comes back');
is($found->{price}, 1.15, 'search: at the US local rate');

api_is(200, 'search: toll-free numbers',
       GET => '/api/v1/phone-numbers/available?iso_country=US&type=toll_free');
api_is(200, 'search: mobile numbers',
       GET => '/api/v1/phone-numbers/available?iso_country=GB&type=mobile'
              . '&contains=7');

# buy: POST IncomingPhoneNumbers.json (PhoneNumber, FriendlyName, VoiceUrl)
$d = api_is(201, 'buy: the number the search found',
            POST => '/api/v1/phone-numbers/buy',
            { phone_number => $found->{phone_number}, price => 1.15,
              friendly_name => 'Sales line' });
like($d->{data}{telephony_id} // '', qr/^PN[0-9a-fA-F]{32}$/,
     'buy: recorded with Twilio\'s SID');
is($d->{data}{status}, 'active', 'buy: active');

# add-twilio: GET IncomingPhoneNumbers/{Sid}.json; the module wants the
# number it was given back
$d = api_is(201, 'add-twilio: the number Prism describes',
            POST => '/api/v1/phone-numbers/add-twilio',
            { phone_number => $owned->{phone_number},
              number_sid => $owned->{sid} });
is($d->{data}{telephony_id}, $owned->{sid}, 'add-twilio: with its SID');

# a call: POST Calls.json (From, To, Twiml, StatusCallback), from the
# number added above
$d = api_is(201, 'call: placed from an owned number',
            POST => '/api/v1/calls',
            { from => $owned->{phone_number}, to => '+12125550100',
              agent_id => 'contract-agent' });
like($d->{data}{call_sid} // '', qr/^CA[0-9a-fA-F]{32}$/,
     'call: with Twilio\'s SID');

# release: DELETE IncomingPhoneNumbers/{Sid}.json, for both
for my $number ($found->{phone_number}, $owned->{phone_number}) {
    (my $path = $number // '') =~ s/^\+/%2B/;
    $d = api_is(200, "release: $number",
                DELETE => "/api/v1/phone-numbers/$path/release");
    is($d->{data}{status}, 'released', "release: $number is released");
}


# managed: POST Accounts.json as the platform, then the subaccount's own
# IncomingPhoneNumbers
$d = api_is(201, 'managed: a subaccount is created',
            2, POST => '/api/v1/telephony/providers/twilio',
            { mode => 'managed', friendly_name => 'Managed',
              accept_terms => JSON::PP::true, terms_version => '1' });
is($d->{data}{account_sid}, $SUB, 'managed: with the subaccount\'s SID');

my ($topup) = $n->request(POST => "/admin/v1/workspaces/$managed_ws/credits",
                          '{"amount":5,"reference":"contract"}');
is($topup, 201, 'managed: credits');

$d = api_is(201, 'managed: buy through the subaccount',
            2, POST => '/api/v1/phone-numbers/buy',
            { phone_number => $found->{phone_number}, price => 1.15 });

(my $bought = $found->{phone_number} // '') =~ s/^\+/%2B/;
api_is(200, 'managed: release through the subaccount',
       2, DELETE => "/api/v1/phone-numbers/$bought/release");


# --- what Prism made of it

my @calls = $p->requests;

my $acc = "/2010-04-01/Accounts/$SID";
my $sub = "/2010-04-01/Accounts/$SUB";
my $pn  = 'PN[0-9a-fA-F]{32}';

# Twilio's examples give the subaccount the account's own SID: then the
# managed buy and release share their paths with the others
my $same = ($SUB eq $SID);

# the suite cannot pass by sending nothing: each operation reached Prism
my %expected = (
    connect      => [1, qr{^GET \Q$acc\E\.json$}],
    search       => [3, qr{^GET[ ]\Q$acc\E/AvailablePhoneNumbers/
                           (?:US/Local|US/TollFree|GB/Mobile)\.json$}x],
    buy          => [$same ? 2 : 1,
                     qr{^POST \Q$acc\E/IncomingPhoneNumbers\.json$}],
    'add-twilio' => [1, qr{^GET \Q$acc\E/IncomingPhoneNumbers/$pn\.json$}],
    release      => [$same ? 3 : 2,
                     qr{^DELETE \Q$acc\E/IncomingPhoneNumbers/$pn\.json$}],
    subaccount   => [1, qr{^POST /2010-04-01/Accounts\.json$}],
    call         => [1, qr{^POST \Q$acc\E/Calls\.json$}],
    $same ? () : (
        'managed buy' => [1, qr{^POST \Q$sub\E/IncomingPhoneNumbers\.json$}],
        'managed release' =>
            [1, qr{^DELETE \Q$sub\E/IncomingPhoneNumbers/$pn\.json$}]),
);

for my $op (sort keys %expected) {
    my ($count, $re) = @{ $expected{$op} };
    my @got = grep { $_->{request} =~ $re } @calls;
    is(scalar @got, $count, "Prism received $op ($count request"
                            . ($count > 1 ? 's' : '') . ')')
        or diag join "\n", 'Prism received:', map { $_->{request} } @calls;
}

is(scalar @calls, 12, 'and nothing else');

# what nginx saw: twelve carrier calls, each answered with a 2xx
my @carrier = split /\n/, $n->read_file('logs/carrier.log');
is(scalar @carrier, 12, 'nginx made twelve carrier calls')
    or diag join "\n", @carrier;
is_deeply([grep { !/ 2\d\d$/ } @carrier], [], 'Prism answered each with a 2xx');

# the point of the suite: every request passed Prism's validator
$p->validator_accepts(@calls);
$p->no_rejection;

# and the markers it looks for do see a rejection: no credentials, a
# letter in AreaCode
$p->canary(GET => "$acc/AvailablePhoneNumbers/US/Local.json?AreaCode=4a5");

unlike($n->error_log, qr/\[(?:alert|emerg|crit)\]/, 'nginx: no alert');

done_testing();
