# Indian numbers, the end of issue 10's road: a workspace goes from
# nothing to an owned +91 number paid in rupees.  OTP (the sandbox's
# Verify), KYC and an operator's approval; then a search at the Indian
# carrier (the sandbox's, in Exotel's v2_beta shape) priced from the IN
# rate card, a purchase debited from INR credits, renewals every 3 s here,
# grace, a renewal by hand, and a release at the carrier for good when the
# rupees run out, a release by the client, a purchase whose answer is lost
# settled by the reconcile job, and the carrier's refusals as API errors.
#
# Every step waits for its condition, not for a time.  Under
# TEST_NGINX_USE_VALGRIND it runs under memcheck.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use Time::Local ();
use MIME::Base64 ();
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};
my $patience = $vg ? 90 : 30;

my $PLATFORM = 'AC00000000000000000000000000000000';
my $SERVICE = 'VA' . ('0' x 31) . '3';

my $port = Agnitel::Nginx::test_port(33);

my $n = Agnitel::Nginx->new(name => 'india_numbers', port => $port);
$n->write_file('secret.key', 'x' x 32);
$n->write_file('platform.token', "sandbox-auth-token\n");
$n->write_file('india.token', "sandbox-india-token\n");

my $to_carriers = join '',
    map { Agnitel::Nginx::carrier_location("agnitel_${_}_api", "/_$_/",
                                           $port + 1) } 'verify', 'india';

# the platform's account at the Indian carrier, renewing every 3 s here
my $ACCOUNT = 'agnitel_india_account sid=agnitel-sandbox '
            . 'api_key=sandbox-india-key api_token_file=india.token '
            . 'renewal=3s;';

sub configure {
    my ($account) = @_;

    $n->write_config(<<"END", workers => 2);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_verify service_sid=$SERVICE account_sid=$PLATFORM
                   auth_token_file=platform.token;
    $account
    agnitel_india_url http://127.0.0.1:\$CARRIER_PORT;
    agnitel_billing window=3s;
    agnitel_jobs interval=1s reconcile_after=2s timeout=5s;

    log_format carrier '\$request_method \$uri';

    server {
        listen 127.0.0.1:\$PORT;
$to_carriers
        location /api/ { agnitel_api; }
        location /api/v1/telephony/india/kyc/documents/ {
            agnitel_kyc_documents;
        }
        location /admin/ { agnitel_admin; }
    }

    # the carrier: down (503) while html/down exists, refusing the
    # platform's credentials (401) while html/denied does
    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        root html;
        access_log logs/carrier.log carrier;
        location /v2/ { agnitel_twilio_sandbox; }
        location /v2_beta/ {
            if (-f \$document_root/down) {
                return 503 '{"RestException":{"Status":503}}';
            }
            if (-f \$document_root/denied) {
                return 401 '{"RestException":{"Status":401}}';
            }
            agnitel_twilio_sandbox;
        }
    }
END
}

configure($ACCOUNT);
$vg ? $n->start_valgrind : $n->start;

my $json = JSON::PP->new->canonical;
my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $vg ? 120 : 30);

*micros = \&Agnitel::Nginx::micros;

my %ws;     # number => id

sub api {
    my ($ws, @req) = @_;
    my ($status, $body) = $n->api($ws, @req);
    return ($status, eval { $json->decode($body) } // $body);
}

sub search { api($_[0], GET => "/api/v1/phone-numbers/available?iso_country=IN$_[1]") }
sub found { [ map { $_->{phone_number} } @{ (search(@_))[1]{data} } ] }

sub buy {
    my ($ws, $number, $price) = @_;
    return api($ws, POST => '/api/v1/phone-numbers/buy',
               qq({"phone_number":"$number","price":) . ($price // 295) . '}');
}

sub number { api($_[0], GET => "/api/v1/phone-numbers/$_[1]") }
sub iso {
    my @t = $_[0] =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)Z$/;
    return Time::Local::timegm(@t[5, 4, 3, 2], $t[1] - 1, $t[0]);
}
sub ledger { @{ (api($_[0], GET => '/api/v1/billing/ledger?currency=INR&limit=200'))[1]{data} } }
sub types { join ' ', reverse map { $_->{type} } ledger($_[0]) }
sub balance { micros((api($_[0], GET => '/api/v1/billing?currency=INR'))[1]{data}{balance}) }

sub adds_up {
    my ($ws, $what) = @_;
    my $sum = 0;
    $sum += micros($_->{amount}) for ledger($ws);
    is(balance($ws), $sum, "$what: the INR balance is the ledger's sum");
}

sub topup {
    my ($ws, $amount, $ref) = @_;
    my ($status) = $n->request(POST => "/admin/v1/workspaces/$ws{$ws}/credits",
        qq({"amount":$amount,"currency":"INR","reference":"$ref"}));
    is($status, 201, "workspace $ws: a top-up of INR $amount");
}

sub carrier_log {
    open my $fh, '<', $n->prefix . '/logs/carrier.log' or return '';
    local $/;
    return <$fh>;
}

# OTP, KYC as an individual, and the operator's approval
sub approve {
    my ($ws, $mobile) = @_;
    my $pdf = "%PDF-1.7\n" . ('k' x 200);

    api($ws, POST => '/api/v1/telephony/providers/india',
        '{"friendly_name":"India"}');
    api($ws, POST => '/api/v1/telephony/india/otp', qq({"mobile":"$mobile"}));
    my ($status) = api($ws, POST => '/api/v1/telephony/india/otp/check',
                       qq({"mobile":"$mobile","code":"123456"}));
    is($status, 200, "workspace $ws: the mobile is verified");

    for my $type ('pan_card', 'address_proof') {
        my $res = $http->request('PUT', "http://127.0.0.1:$port"
                                 . "/api/v1/telephony/india/kyc/documents/$type",
            { headers => { 'X-Api-Key' => Agnitel::Nginx::api_key($ws),
                           'Content-Type' => 'application/pdf' },
              content => $pdf });
        is($res->{status}, 201, "workspace $ws: $type uploaded");
    }

    ($status) = api($ws, POST => '/api/v1/telephony/india/kyc', $json->encode({
        entity_type => 'individual', legal_name => 'Asha Rao',
        pan => 'AAPFU0939F',
        address => { line1 => '1 MG Road', city => 'Bengaluru',
                     state => 'Karnataka', postal_code => '560001' },
        signatory => { name => 'Asha Rao', id_type => 'aadhaar',
                       id_number => '234123412346' } }));
    is($status, 202, "workspace $ws: KYC submitted");

    return $status if $_[2];

    ($status) = $n->request(POST => "/admin/v1/kyc/$ws{$ws}/approve");
    is($status, 200, "workspace $ws: approved by the operator");
}

%ws = map { $_ => $n->workspace($_) } 1 .. 3;

# --- before the approval: nothing from the carrier

approve(3, '+919800000013', 'not yet');

my ($status, $body) = search(3, '');
is($status, 403, 'a search before the approval: 403');
is($body->{error}{code}, 'kyc_required', 'kyc_required');
($status, $body) = buy(3, '+918047091910');
is($status, 403, 'a purchase too');
unlike(carrier_log(), qr/v2_beta/, 'and the carrier was not asked');

# --- approved: search

approve(1, '+919800000011');

($status, $body) = search(1, '&type=local&region=KA');
is($status, 200, 'approved: a search of Karnataka landlines');
is(scalar @{ $body->{data} }, 10, 'finds the circle\'s ten numbers');
is($body->{meta}{total}, 10, 'and says so');
my $first = $body->{data}[0];
like($first->{phone_number}, qr/^\+9180\d{8}$/, 'Bengaluru numbers (+91 80)');
is($first->{iso_country}, 'IN', 'of India');
is($first->{region}, 'KA', 'in the KA circle');
is(micros($first->{price}), 295_000_000, 'at INR 295 a month');
is(micros($first->{per_minute_price_inbound}), 600_000, '0.60 a minute in');
is(micros($first->{per_minute_price_outbound}), 600_000, 'and out');
is($first->{currency}, 'INR', 'in rupees');
like(carrier_log(), qr{GET /v2_beta/Accounts/agnitel-sandbox/AvailablePhoneNumbers/IN/Landline},
     "the carrier was asked in its own terms");

is_deeply(found(1, '&region=KA&contains=47091912'), ['+918047091912'],
          'contains narrows it to one number');
is(scalar @{ found(1, '&region=KA&limit=3') }, 3, 'limit caps the list');
like(found(1, '&type=mobile&region=DL')->[0], qr/^\+9198\d{8}$/,
     'Delhi mobiles');
($status, $body) = search(1, '&type=toll_free');
like($body->{data}[0]{phone_number}, qr/^\+911800\d{6}$/, 'toll-free 1800 numbers');
is($body->{data}[0]{region}, undef, 'of no circle');
is_deeply(found(1, '&region=KA&contains=99999'), [],
          'nothing found is an empty list');

($status, $body) = search(1, '&area_code=80');
is($status, 400, 'an area code is no Indian filter: 400');
is($body->{error}{field}, 'area_code', 'naming it');
($status, $body) = search(1, '&region=Karnataka');
is($status, 400, 'a region that is no circle code: 400');
is($body->{error}{field}, 'region', 'naming region');
($status, $body) = search(1, '&contains=ABC');
is($status, 400, 'contains with letters: 400');

# --- buy: paid from rupee credits

my $A = '+918047091912';

($status, $body) = buy(1, $A);
is($status, 402, 'no rupees yet: 402');
is($body->{error}{code}, 'insufficient_credits', 'insufficient_credits');
is((number(1, $A))[0], 404, 'and nothing is held');

topup(1, 600, 'upi-1');

($status, $body) = buy(1, $A, 1.15);
is($status, 409, "another price than the card's: 409");
is($body->{error}{code}, 'price_changed', 'price_changed');

($status, $body) = buy(1, $A);
is($status, 201, 'bought');
my $num = $body->{data};
is($num->{provider}, 'india', 'from the Indian provider');
is($num->{status}, 'active', 'active');
is($num->{currency}, 'INR', 'priced in rupees');
is(micros($num->{price}), 295_000_000, 'INR 295');
like($num->{telephony_id}, qr/^[0-9a-f]{32}$/, "with the carrier's sid");
ok($num->{renews_at}, 'renewing');
my ($prv) = grep { $_->{type} eq 'india' }
            @{ (api(1, GET => '/api/v1/telephony/providers'))[1]{data} };
is($num->{provider_id}, $prv->{id}, 'its provider is the Indian one');

is(types(1), 'topup number_purchase', 'the ledger: top-up, purchase');
is(balance(1), 305_000_000, 'INR 600 - 295 = 305 left');
is(micros((api(1, GET => '/api/v1/billing'))[1]{data}{balance}), 0,
   'and the dollar balance is untouched');
adds_up(1, 'after the purchase');

ok(!grep({ $_ eq $A } @{ found(1, '&region=KA') }),
   'the carrier has it no more');

($status, $body) = buy(1, '+918000000000');
is($status, 409, 'a number the carrier has not: 409');
is($body->{error}{code}, 'number_unavailable', 'number_unavailable');
is(types(1), 'topup number_purchase number_purchase reversal',
   'its debit was reversed');
is((number(1, '+918000000000'))[0], 404, 'and it is not held');

# --- renewals: every 3 s here; the rupees last one, then grace, then gone

$n->wait_for(sub { types(1) =~ /number_renewal/ }, 'the first renewal',
             $patience);
is(balance(1), 10_000_000, 'renewed: INR 305 - 295 = 10');

$n->wait_for(sub { (number(1, $A))[1]{data}{status} eq 'grace' },
             'the second renewal to fail', $patience);
pass('short of rupees at the next renewal: grace');

($status, $body) = api(1, POST => "/api/v1/phone-numbers/$A/renew");
is($status, 402, 'renewed by hand, still short: 402');

topup(1, 300, 'upi-3');
my $missed = (number(1, $A))[1]{data}{renews_at};
($status, $body) = api(1, POST => "/api/v1/phone-numbers/$A/renew");
is($status, 200, 'topped up: renewed by hand');
is($body->{data}{status}, 'active', 'active again');
is(iso($body->{data}{renews_at}) - iso($missed), 3,
   'its period goes on from the missed date by the Indian renewal (3 s)');
is(balance(1), 15_000_000, 'INR 10 + 300 - 295 = 15');

$n->wait_for(sub { (number(1, $A))[1]{data}{status} eq 'grace' },
             'the next renewal to fail', $patience);
pass('and short again at the next: grace');

$n->wait_for(sub { (number(1, $A))[0] == 404 }, 'the grace to end',
             $patience);
pass('grace over: the number is released for good');
like(carrier_log(), qr{DELETE /v2_beta/Accounts/agnitel-sandbox/IncomingPhoneNumbers/$num->{telephony_id}},
     'at the carrier too');
ok(grep({ $_ eq $A } @{ found(1, '&region=KA') }),
   'which has it in stock again');
is(types(1), 'topup number_purchase number_purchase reversal number_renewal '
           . 'topup number_renewal', 'no refund, no other debit');
adds_up(1, 'at the end');

# --- released by the client

approve(2, '+919800000012');
topup(2, 1000, 'upi-2');

my $B = found(2, '&type=mobile&region=MH')->[0];
($status) = buy(2, $B);
is($status, 201, "workspace 2 buys $B");
($status, $body) = api(2, DELETE => "/api/v1/phone-numbers/$B/release");
is($status, 200, 'and releases it');
is($body->{data}{status}, 'released', 'released');
ok(grep({ $_ eq $B } @{ found(2, '&type=mobile&region=MH') }),
   'the carrier has it back');
ok(!grep({ micros($_->{amount}) > 0 && $_->{type} ne 'topup' } ledger(2)),
   'and nothing was refunded');

# --- an answer lost: the purchase is settled by asking the carrier

my $L = '+918047091919';    # the sandbox sells it, then answers 500
($status, $body) = buy(2, $L);
is($status, 502, 'a purchase whose answer is lost: 502');
is($body->{error}{code}, 'upstream_error', 'upstream_error');
is((number(2, $L))[1]{data}{status}, 'pending', 'the number is pending');
is(scalar(grep { $_->{type} eq 'number_purchase' } ledger(2)), 2,
   'and paid for, as it may have been bought');

$n->wait_for(sub { (number(2, $L))[1]{data}{status} eq 'active' },
             'the reconcile job', $patience);
like((number(2, $L))[1]{data}{telephony_id}, qr/^[0-9a-f]{32}$/,
     "the carrier owns it: active, with the carrier's sid");
like(carrier_log(), qr{GET /v2_beta/Accounts/agnitel-sandbox/IncomingPhoneNumbers},
     'as the carrier said when asked');
ok(!grep({ $_->{type} eq 'reversal' } ledger(2)), 'and nothing reversed');
adds_up(2, 'after the reconciliation');

# --- the carrier down, or refusing the platform's credentials

sub flag {
    my ($name, $on) = @_;
    my $file = $n->prefix . "/html/$name";
    if ($on) { open my $fh, '>', $file or die "$file: $!"; close $fh }
    else { unlink $file }
}

my $C = found(2, '&type=mobile&region=TN')->[0];
flag(down => 1);

($status, $body) = search(2, '&region=KA');
is($status, 502, 'the carrier down: a search is 502');
is($body->{error}{code}, 'upstream_error', 'upstream_error');

my $paid = scalar grep { $_->{type} eq 'number_purchase' } ledger(2);
($status, $body) = buy(2, $C);
is($status, 502, 'a purchase too');
is((number(2, $C))[1]{data}{status}, 'pending',
   'and, its outcome unknown, the number is pending');

flag(down => 0);
flag(denied => 1);

($status, $body) = search(2, '&region=KA');
is($status, 502, "the platform's credentials refused: 502, not the client's fault");
like($body->{message}, qr/platform's account at the Indian carrier/,
     'saying whose credentials');

flag(denied => 0);

$n->wait_for(sub { (number(2, $C))[0] == 404 }, 'the reconcile job',
             $patience);
pass('back up, the carrier has not sold it: the pending number goes');
is(scalar(grep { $_->{type} eq 'reversal' } ledger(2)), 1,
   'and its debit is reversed');
is(scalar(grep { $_->{type} eq 'number_purchase' } ledger(2)), $paid + 1,
   'once');
adds_up(2, 'after the outage');

# --- the sandbox's Indian carrier itself, past the module

sub carrier {
    my ($method, $path, $user) = @_;
    my $res = $http->request($method, "http://127.0.0.1:" . ($port + 1)
                             . "/v2_beta/Accounts/$path",
        { headers => { Authorization => 'Basic ' . MIME::Base64::encode_base64(
                         $user // 'sandbox-india-key:sandbox-india-token', '') } });
    return ($res->{status}, eval { $json->decode($res->{content}) });
}

($status, $body) = carrier(GET => 'agnitel-sandbox/AvailablePhoneNumbers/IN/Landline',
                           'sandbox-india-key:wrong');
is($status, 401, 'the sandbox carrier refuses a wrong token');
is($body->{RestException}{Status}, 401, "in the carrier's error shape");
($status) = carrier(GET => 'someone-else/AvailablePhoneNumbers/IN/Landline');
is($status, 404, "another account's resources do not exist");
($status) = carrier(GET => 'agnitel-sandbox/AvailablePhoneNumbers/IN/Fax');
is($status, 404, 'nor does a number type it does not sell');
($status) = carrier(PUT => 'agnitel-sandbox/IncomingPhoneNumbers');
is($status, 405, 'a method it does not take: 405');
($status, $body) = carrier(GET => "agnitel-sandbox/IncomingPhoneNumbers?PhoneNumber=%2B918047091919");
is($body->{incoming_phone_numbers}[0]{phone_number}, '+918047091919',
   'it lists what it sold, by number');

# --- nobody else's

is((number(2, $A))[0], 404, "workspace 2 cannot see workspace 1's numbers");

# --- the Indian account gone from the configuration: the numbers bought
# before renew monthly, the default, not at every run of the job

topup(2, 3000, 'upi-4');
my $D = found(2, '&type=mobile&region=DL')->[0];
($status) = buy(2, $D);
is($status, 201, "workspace 2 buys $D, renewing every 3 s");

$vg ? $n->valgrind_clean : $n->stop;
configure('');
$vg ? $n->start_valgrind : $n->start;

$n->wait_for(sub {
    iso((number(2, $D))[1]{data}{renews_at}) > time + 29 * 86400
}, 'a renewal a month ahead', $patience);
pass('without agnitel_india_account, the next renewal is a month ahead');
adds_up(2, 'after it');

$vg ? $n->valgrind_clean : $n->stop;

done_testing;
