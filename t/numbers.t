# Import, list, get, patch and release custom-SIP numbers.

use Test::Nginx::Socket 'no_plan';
use FindBin;
use lib "$FindBin::Bin/lib";
use Agnitel::Fixtures;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a number's life: import, get, list, rename, release
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100'),
    "GET /api/v1/phone-numbers/+14155550100",
    "GET /api/v1/phone-numbers",
    "PATCH /api/v1/phone-numbers/+14155550100\n" . '{"friendly_name":"Sales"}',
    "GET /api/v1/phone-numbers/%2B14155550100/",
    "DELETE /api/v1/phone-numbers/+14155550100/release",
    "GET /api/v1/phone-numbers/+14155550100",
    "GET /api/v1/phone-numbers",
    "GET /api/v1/phone-numbers?status=released",
    "DELETE /api/v1/phone-numbers/+14155550100/release",
]
--- error_code eval
[201, 201, 200, 200, 200, 200, 200, 404, 200, 200, 404]
--- response_body_like eval
[
    '"success":true',
    '^\{"success":true,"message":"Phone number imported","data":\{"id":"pn_[0-9a-f]{16}","phone_number":"\+14155550100","friendly_name":"Support line","provider":"custom","provider_id":null,"telephony_id":null,"iso_country":"US","capabilities":\{"voice":true,"sms":false\},"price":null,"per_minute_price_inbound":null,"per_minute_price_outbound":null,"currency":null,"status":"active","is_active":true,"purchased_at":null,"renews_at":null,"inbound_trunk":\{"termination_uri":"sip:68uajga988j\.sip\.livekit\.cloud","auth_username":"trunk-user"\},"created_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}\}$',
    '"message":"Phone number","data":\{"id":"pn_[0-9a-f]{16}","phone_number":"\+14155550100","friendly_name":"Support line"',
    '"data":\[\{"id":"pn_[0-9a-f]{16}","phone_number":"\+14155550100".*\}\],"meta":\{"total":1,"limit":50,"offset":0\}\}$',
    '"message":"Phone number updated","data":\{.*"friendly_name":"Sales"',
    '"friendly_name":"Sales"',
    '^\{"success":true,"message":"Phone number released","data":\{"phone_number":"\+14155550100","status":"released","released_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}\}$',
    '^\{"success":false,"message":"no such phone number in this workspace","error":\{"code":"not_found","field":"phone_number"\}\}$',
    '"data":\[\],"meta":\{"total":0,',
    '"data":\[\{.*"phone_number":"\+14155550100","friendly_name":"Sales".*"status":"released","is_active":false.*"released_at":"\d{4}-.*"meta":\{"total":1,',
    '"code":"not_found"',
]
--- no_error_log
[error]



=== TEST 2: iso_country comes from the calling code, +1 by area code
--- request eval
[
    ::workspace(1),
    ::import_number('+14165550100'),
    ::import_number('+17875550100'),
    ::import_number('+442071838750'),
    ::import_number('+919876543210'),
    ::import_number('+14155550101', iso_country => 'pr'),
    ::import_number('+88212345678'),
    ::import_number('+88212345678', iso_country => 'XK'),
    ::import_number('+14155550102', iso_country => 'USA'),
]
--- error_code eval
[201, 201, 201, 201, 201, 201, 400, 201, 400]
--- response_body_like eval
[
    '"success":true',
    '"iso_country":"CA"',
    '"iso_country":"PR"',
    '"iso_country":"GB"',
    '"iso_country":"IN"',
    '"iso_country":"PR"',
    '"message":"iso_country cannot be derived from phone_number: pass it","error":\{"code":"invalid_field","field":"iso_country"\}',
    '"phone_number":"\+88212345678".*"iso_country":"XK"',
    '"code":"invalid_field","field":"iso_country"',
]



=== TEST 3: the termination URI defaults to agnitel_sip_termination_uri
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100', termination_uri => 'sips:pbx.example.com:5061'),
    ::import_number('+14155550101', termination_uri => 'http://pbx.example.com'),
    ::import_number('+14155550102'),
]
--- error_code eval
[201, 201, 400, 201]
--- response_body_like eval
[
    '"success":true',
    '"inbound_trunk":\{"termination_uri":"sips:pbx\.example\.com:5061","auth_username":"trunk-user"\}',
    '"code":"invalid_field","field":"termination_uri"',
    '"termination_uri":"sip:68uajga988j\.sip\.livekit\.cloud"',
]



=== TEST 4: without agnitel_sip_termination_uri the URI is required
--- http_config
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
--- request eval
[
    ::workspace(1),
    ::import_number('+14155550100'),
    ::import_number('+14155550100', termination_uri => 'sip:pbx.example.com'),
]
--- error_code eval
[201, 400, 201]
--- response_body_like eval
[
    '"success":true',
    '"message":"termination_uri is required: no agnitel_sip_termination_uri is configured","error":\{"code":"invalid_field","field":"termination_uri"\}',
    '"termination_uri":"sip:pbx\.example\.com"',
]



=== TEST 5: list filters, limit and offset
--- request eval
[
    ::workspace(1),
    ::import_number('+442071838750'),
    ::import_number('+14165550100'),
    ::import_number('+14155550100'),
    "GET /api/v1/phone-numbers?iso_country=CA",
    "GET /api/v1/phone-numbers?iso_country=us",
    "GET /api/v1/phone-numbers?provider=custom&is_active=true",
    "GET /api/v1/phone-numbers?provider=twilio",
    "GET /api/v1/phone-numbers?is_active=false",
    "GET /api/v1/phone-numbers?limit=1&offset=1",
    "GET /api/v1/phone-numbers?offset=3",
    "GET /api/v1/phone-numbers?limit=0",
    "GET /api/v1/phone-numbers?limit=201",
    "GET /api/v1/phone-numbers?offset=-1",
    "GET /api/v1/phone-numbers?is_active=yes",
    "GET /api/v1/phone-numbers?provider=vonage",
    "GET /api/v1/phone-numbers?status=gone",
    "GET /api/v1/phone-numbers?iso_country=USA",
]
--- error_code eval
[201, 201, 201, 201, 200, 200, 200, 200, 200, 200, 200,
 400, 400, 400, 400, 400, 400, 400]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '"success":true',
    '"success":true',
    '"data":\[\{[^\]]*"phone_number":"\+14165550100"[^\]]*\}\],"meta":\{"total":1,',
    '"data":\[\{[^\]]*"phone_number":"\+14155550100"[^\]]*\}\],"meta":\{"total":1,',
    '"meta":\{"total":3,"limit":50,"offset":0\}',
    '"data":\[\],"meta":\{"total":0,',
    '"data":\[\],"meta":\{"total":0,',
    '"data":\[\{"id":"pn_[0-9a-f]{16}","phone_number":"\+14165550100"[^\]]*\}\],"meta":\{"total":3,"limit":1,"offset":1\}',
    '"data":\[\],"meta":\{"total":3,"limit":50,"offset":3\}',
    '"error":\{"code":"invalid_field","field":"limit"\}',
    '"error":\{"code":"invalid_field","field":"limit"\}',
    '"error":\{"code":"invalid_field","field":"offset"\}',
    '"error":\{"code":"invalid_field","field":"is_active"\}',
    '"error":\{"code":"invalid_field","field":"provider"\}',
    '"error":\{"code":"invalid_field","field":"status"\}',
    '"error":\{"code":"invalid_field","field":"iso_country"\}',
]



=== TEST 6: a released number is free for any workspace
--- request eval
[
    ::workspace(1),
    ::workspace(2),
    ::import_number('+14155550100'),
    ::import_number('+14155550100', path => '/ws2/api/v1/phone-numbers/import'),
    ::import_number('+14155550100'),
    "DELETE /api/v1/phone-numbers/+14155550100/release",
    ::import_number('+14155550100', path => '/ws2/api/v1/phone-numbers/import'),
    "GET /ws2/api/v1/phone-numbers",
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 201, 201, 409, 409, 200, 201, 200, 200]
--- response_body_like eval
[
    '"success":true',
    '"success":true',
    '"success":true',
    '^\{"success":false,"message":"this phone number is already in use","error":\{"code":"number_already_exists","field":"phone_number"\}\}$',
    '"code":"number_already_exists"',
    '"status":"released"',
    '"phone_number":"\+14155550100"',
    '"meta":\{"total":1,',
    '"meta":\{"total":0,',
]



=== TEST 7: friendly names are UTF-8, 1 to 64 characters, escaped on output
--- request eval
use utf8;
my $name64 = "é" x 64;
my $req = sub {
    my ($n, $name) = @_;
    my $r = ::import_number($n, friendly_name => 'X');
    $r =~ s/"friendly_name":"X"/"friendly_name":$name/;
    utf8::encode($r);
    $r;
};
[
    ::workspace(1),
    $req->('+14155550100', '"Ops \"East\" \\\\ 東京 ☎ </script>"'),
    $req->('+14155550101', qq("$name64")),
    $req->('+14155550102', qq("${name64}é")),
    $req->('+14155550103', '""'),
    $req->('+14155550104', '"tab\there"'),
    # jansson refuses NUL in strings: not JSON we accept
    $req->('+14155550105', '"nul\u0000"'),
    $req->('+14155550106', '42'),
    "GET /api/v1/phone-numbers/+14155550100",
    "PATCH /api/v1/phone-numbers/+14155550100\n" . '{"friendly_name":"line\nbreak"}',
    "PATCH /api/v1/phone-numbers/+14155550100\n" . '{"name":"Sales"}',
    "GET /api/v1/phone-numbers?limit=200",
]
--- error_code eval
[201, 201, 201, 400, 400, 400, 400, 400, 200, 400, 400, 200]
--- response_body_like eval
use utf8;
my @r = (
    '"success":true',
    '"friendly_name":"Ops \\\\"East\\\\" \\\\\\\\ 東京 ☎ </script>"',
    '"friendly_name":"' . ("é" x 64) . '"',
    '"message":"friendly_name must be a string of 1 to 64 characters without control characters","error":\{"code":"invalid_field","field":"friendly_name"\}',
    '"field":"friendly_name"',
    '"field":"friendly_name"',
    '"code":"invalid_json"',
    '"field":"friendly_name"',
    '"friendly_name":"Ops \\\\"East\\\\" \\\\\\\\ 東京 ☎ </script>"',
    '"field":"friendly_name"',
    '"field":"friendly_name"',
    '"meta":\{"total":2,',
);
utf8::encode($_) for @r;
\@r;
--- no_error_log
[error]



=== TEST 8: what a record keeps comes back as it went in, quotes, backslashes and all
A rename reads the stored record's JSON back and writes it again: the
trunk's user name, escaped on the way in, must survive both.
--- request eval
use utf8;
my $r = [
    ::workspace(1),
    ::import_number('+14155550100',
                    friendly_name => 'Ops \"East\" \\\\ 東京',
                    sip_username => 'trunk \"a\" \\\\ é/ü'),
    "PATCH /api/v1/phone-numbers/+14155550100\n" . '{"friendly_name":"Sales \"2\""}',
    "PATCH /api/v1/phone-numbers/+14155550100\n" . '{"friendly_name":"Sales \\\\ 3"}',
    "GET /api/v1/phone-numbers/+14155550100",
];
utf8::encode($_) for @$r;
$r;
--- error_code eval
[201, 201, 200, 200, 200]
--- response_body_like eval
use utf8;
my @r = (
    '"success":true',
    '"friendly_name":"Ops \\\\"East\\\\" \\\\\\\\ 東京".*"auth_username":"trunk \\\\"a\\\\" \\\\\\\\ é/ü"',
    '"friendly_name":"Sales \\\\"2\\\\"".*"auth_username":"trunk \\\\"a\\\\" \\\\\\\\ é/ü"',
    '"friendly_name":"Sales \\\\\\\\ 3".*"auth_username":"trunk \\\\"a\\\\" \\\\\\\\ é/ü"',
    '"friendly_name":"Sales \\\\\\\\ 3".*"auth_username":"trunk \\\\"a\\\\" \\\\\\\\ é/ü"',
);
utf8::encode($_) for @r;
\@r;
--- no_error_log
[error]



=== TEST 9: a plain body, read without jansson, imports what jansson reads
Bodies that are flat objects of plain ASCII strings, true, false and null
are read by the module; any other body (an escape, a number, a name given
twice, text after the object) goes to jansson. Both make the same number,
and what either refuses is refused the same way.
--- request eval
[
    ::workspace(1),
    "POST /api/v1/phone-numbers/import\n"
    . '{"phone_number":"+14155550101","friendly_name":"Line A",'
    . '"sip_username":"trunk-a","sip_password":"pw","termination_uri":null}',
    "POST /api/v1/phone-numbers/import\n"
    . qq({ "phone_number" : "+14155550102" ,\r\n\t"friendly_name":"Line \\u0041",)
    . ' "sip_username":"trunk-a", "sip_password":"pw", "termination_uri":null }',
    "POST /api/v1/phone-numbers/import\n"
    . '{"phone_number":"+14155550103","friendly_name":true,'
    . '"sip_username":"trunk-a","sip_password":"pw"}',
    "POST /api/v1/phone-numbers/import\n"
    . '{"phone_number":"+14155550104","friendly_name":"Line B",'
    . '"sip_username":"trunk-b","sip_password":"pw"} x',
    "POST /api/v1/phone-numbers/import\n"
    . '{"phone_number":"+14155550105","friendly_name":"Line B",'
    . '"friendly_name":"Line C","sip_username":"trunk-b","sip_password":"pw"}',
    "POST /api/v1/phone-numbers/import\n"
    . '{"phone_number":"+14155550106","friendly_name":"",'
    . '"sip_username":"trunk-b","sip_password":"pw"}',
    "GET /api/v1/phone-numbers/+14155550101",
    "GET /api/v1/phone-numbers/+14155550102",
    "GET /api/v1/phone-numbers",
]
--- error_code eval
[201, 201, 201, 400, 400, 400, 400, 200, 200, 200]
--- response_body_like eval
my $same = '"friendly_name":"Line A","provider":"custom",.*'
         . '"inbound_trunk":\{"termination_uri":"sip:68uajga988j\.sip\.livekit\.cloud",'
         . '"auth_username":"trunk-a"\}';
[
    '"success":true',
    $same,
    $same,
    '"code":"invalid_field".*"field":"friendly_name"',
    '"code":"invalid_json"',
    '"code":"invalid_json"',
    '"code":"invalid_field".*"field":"friendly_name"',
    '"phone_number":"\+14155550101",' . $same,
    '"phone_number":"\+14155550102",' . $same,
    '"meta":\{"total":2,',
]
--- no_error_log
[error]
