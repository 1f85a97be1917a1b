# KYC for Indian telephony: documents (type by magic bytes, 5 MiB at most,
# sealed on disk), the form and its validators (PAN, GSTIN and its check
# character, Aadhaar and its Verhoeff digit, PIN), the documents each
# entity type needs, and the operator's review (the decrypted file,
# approve, reject with a reason, resubmission).  Workspaces are kept
# apart; no document is readable through /api/v1.  Under
# TEST_NGINX_USE_VALGRIND it runs under memcheck.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use File::Find;
use Digest::SHA qw(sha256_hex);
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};

my $PLATFORM = 'AC00000000000000000000000000000000';
my $SERVICE = 'VA' . ('0' x 31) . '2';

my $port = Agnitel::Nginx::test_port(29);

my $n = Agnitel::Nginx->new(name => 'kyc', port => $port);
$n->write_file('secret.key', 'y' x 32);
$n->write_file('platform.token', "sandbox-auth-token\n");

my $to_verify = Agnitel::Nginx::carrier_location('agnitel_verify_api',
    '/_verify/', $port + 1);

$n->write_config(<<"END", workers => 2);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_verify service_sid=$SERVICE account_sid=$PLATFORM
                   auth_token_file=platform.token;

    server {
        listen 127.0.0.1:\$PORT;
$to_verify
        location /api/ { agnitel_api; }
        location /api/v1/telephony/india/kyc/documents/ {
            agnitel_kyc_documents;
        }
        location /admin/ { agnitel_admin; }
    }

    server {
        listen 127.0.0.1:\$CARRIER_PORT;
        location /v2/ { agnitel_twilio_sandbox; }
    }
END
$vg ? $n->start_valgrind : $n->start;

my $json = JSON::PP->new->canonical;
my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $vg ? 120 : 30);

sub api {
    my ($ws, @req) = @_;
    my ($status, $body) = $n->api($ws, @req);
    return ($status, eval { $json->decode($body) } // $body);
}

sub upload {
    my ($ws, $type, $content_type, $data) = @_;
    my $res = $http->request('PUT', "http://127.0.0.1:$port"
                             . "/api/v1/telephony/india/kyc/documents/$type",
                             { headers => { 'X-Api-Key' => Agnitel::Nginx::api_key($ws),
                                            'Content-Type' => $content_type },
                               content => $data });
    return ($res->{status}, eval { $json->decode($res->{content}) }
                            // $res->{content});
}

sub submit {
    my ($ws, %f) = @_;
    my %form = (entity_type => 'business', legal_name => 'Acme India Pvt Ltd',
                pan => 'AAPFU0939F', gstin => '27AAPFU0939F1ZV',
                address => { line1 => '1 MG Road', city => 'Bengaluru',
                             state => 'Karnataka', postal_code => '560001' },
                signatory => { name => 'A. Kumar', id_type => 'aadhaar',
                               id_number => '234123412346' },
                %f);
    delete $form{$_} for grep { !defined $form{$_} } keys %form;
    return api($ws, POST => '/api/v1/telephony/india/kyc',
               $json->encode(\%form));
}

sub provider { (api($_[0], GET => '/api/v1/telephony/providers'))[1]{data}[0] }

sub verified {
    my ($ws, $mobile) = @_;
    api($ws, POST => '/api/v1/telephony/providers/india',
        '{"friendly_name":"India"}');
    api($ws, POST => '/api/v1/telephony/india/otp', qq({"mobile":"$mobile"}));
    my ($status) = api($ws, POST => '/api/v1/telephony/india/otp/check',
                       qq({"mobile":"$mobile","code":"123456"}));
    die "OTP for workspace $ws: $status\n" unless $status == 200;
}

# the files under the KYC directory: name => content
sub kyc_files {
    my %files;
    my $dir = $n->prefix . '/store/kyc';
    find(sub {
        return unless -f $_;
        open my $fh, '<', $_ or die "$_: $!";
        binmode $fh;
        local $/;
        $files{$File::Find::name} = <$fh>;
    }, $dir) if -d $dir;
    return \%files;
}

my $MARK = 'PLAINTEXT-MARKER-7f3a';
my $pdf = "%PDF-1.7\n$MARK\n" . ('p' x 1000);
my $png = "\x89PNG\r\n\x1a\n$MARK" . ('n' x 500);
my $jpeg = "\xff\xd8\xff\xe0$MARK" . ('j' x 500);

my $ws1 = $n->workspace(1);
my $ws2 = $n->workspace(2);

# before the mobile is verified

api(2, POST => '/api/v1/telephony/providers/india', '{"friendly_name":"I"}');
my ($status, $body) = upload(2, 'pan_card', 'application/pdf', $pdf);
is($status, 409, 'a document before the OTP: 409');
like($body->{message}, qr/otp_required: next, verify the mobile/,
     'naming the OTP as the next step');
($status, $body) = submit(2);
is($status, 409, 'the form before the OTP: 409');

verified(1, '+919898989898');
is(provider(1)->{state}, 'kyc_required', 'workspace 1 is at KYC');

# Indian numbers wait for the KYC's approval

sub search_in { api($_[0], GET => '/api/v1/phone-numbers/available?iso_country=IN') }
sub buy_in { api($_[0], POST => '/api/v1/phone-numbers/buy',
                 '{"phone_number":"+918040001234","price":295}') }

$n->workspace(3);
($status, $body) = search_in(3);
is($status, 403, 'a search for Indian numbers without the provider: 403');
is($body->{error}{code}, 'kyc_required', 'kyc_required');
like($body->{message}, qr{POST /api/v1/telephony/providers/india},
     'naming the first step');

($status, $body) = search_in(1);
is($status, 403, 'with the mobile verified but no KYC: 403');
like($body->{message}, qr{submit KYC}, 'naming KYC as the next step');
($status, $body) = buy_in(1);
is($status, 403, 'a +91 purchase too');
is($body->{error}{code}, 'kyc_required', 'kyc_required');

# documents

($status, $body) = upload(1, 'gst_certificate', 'application/pdf', $pdf);
is($status, 201, 'a PDF is stored');
is($body->{data}{content_type}, 'application/pdf', 'as a PDF');
is($body->{data}{size}, length $pdf, 'its size');
like($body->{data}{sha256}, qr/^[0-9a-f]{64}$/, 'its SHA-256');

my $five = '%PDF-' . ('x' x (5 * 1024 * 1024 - 5));
($status) = upload(1, 'incorporation_certificate', 'application/pdf', $five);
is($status, 201, 'a document of exactly 5 MiB is stored');

my $before = kyc_files();
($status, $body) = upload(1, 'signatory_id', 'application/pdf', $five . 'x');
is($status, 413, '5 MiB and one byte: 413');
is($body->{error}{code}, 'payload_too_large', 'payload_too_large');
is_deeply([sort keys %{ kyc_files() }], [sort keys %$before],
          'and no file is written');
ok(!exists provider(1)->{documents}, 'the provider shows no document list');

($status, $body) = upload(1, 'signatory_id', 'application/pdf', $png);
is($status, 415, 'PNG bytes sent as a PDF: 415');
like($body->{message}, qr/not what its Content-Type says/, 'which says so');

($status, $body) = upload(1, 'signatory_id', 'text/plain', "hello $MARK");
is($status, 415, 'text: 415');

($status, $body) = upload(1, 'selfie', 'image/png', $png);
is($status, 400, 'an unknown document type: 400');
is($body->{error}{field}, 'type', 'naming type');

($status) = upload(1, 'signatory_id', 'image/png', $png);
is($status, 201, 'a PNG is stored');
($status) = upload(1, 'pan_card', 'image/jpeg', $jpeg);
is($status, 201, 'a JPEG is stored');

my $files = kyc_files();
is(scalar keys %$files, 4, 'four sealed files');
is(scalar(grep { /\Q$MARK\E|%PDF-|x{100}/ } values %$files), 0,
   'none holds any plaintext');
ok(!grep({ /\.tmp\./ } keys %$files), 'and no temporary file is left');

# a document the disk refuses: a directory where its file would go, so
# that the rename at the end of the save fails (the tests run as root,
# whom no file mode stops)

my $refused = "%PDF-1.7\nrefused\n";
my ($ws_dir) = (sort keys %$files)[0] =~ m{^(.*)/[^/]+$};
my $in_the_way = "$ws_dir/address_proof-" . sha256_hex($refused);
mkdir $in_the_way or die "$in_the_way: $!";
($status, $body) = upload(1, 'address_proof', 'application/pdf', $refused);
is($status, 500, 'a document that cannot be written: 500');
is($body->{error}{code}, 'internal_error', 'internal_error');
like($body->{message}, qr/nothing was saved/, 'saying nothing was saved');
ok(!exists provider(1)->{documents}{address_proof}, 'no document is listed');
is_deeply([sort keys %{ kyc_files() }], [sort keys %$files],
          'and no file is left, temporary or not');
like($n->error_log, qr/storing "\Q$in_the_way\E" failed: rename\(\)/,
     'the log names the file and the call that failed');
rmdir $in_the_way or die "$in_the_way: $!";

# the form and its validators

my @bad = (
    [pan => 'AAPFU0939', 'pan'],
    [pan => 'aapfu0939f', 'pan'],
    [gstin => '27AAPFU0939F1ZW', 'gstin'],
    [gstin => '27AAPFU0939F1XV', 'gstin'],
    [gstin => undef, 'gstin'],
    [entity_type => 'trust', 'entity_type'],
    [legal_name => '', 'legal_name'],
    [address => { line1 => 'x', city => 'y', state => 'z',
                  postal_code => '056001' }, 'address.postal_code'],
    [address => { line1 => 'x', city => 'y', state => 'z',
                  postal_code => '56001' }, 'address.postal_code'],
    [address => { city => 'y', state => 'z', postal_code => '560001' },
     'address.line1'],
    [signatory => { name => 'A', id_type => 'aadhaar',
                    id_number => '234123412347' }, 'signatory.id_number'],
    [signatory => { name => 'A', id_type => 'aadhaar',
                    id_number => '134123412346' }, 'signatory.id_number'],
    [signatory => { name => 'A', id_type => 'ration_card',
                    id_number => 'X1234567' }, 'signatory.id_type'],
);

for my $b (@bad) {
    my ($name, $value, $field) = @$b;
    ($status, $body) = submit(1, $name => $value);
    is($status, 400, "$name " . $json->encode([$value]) . ': 400');
    is($body->{error}{field}, $field, "naming $field");
}

($status, $body) = submit(1, entity_type => 'individual', gstin => undef);
is($status, 400, 'an individual without pan_card and address_proof: 400');
is($body->{error}{field}, 'documents', 'naming documents');
like($body->{message}, qr{upload the address_proof document first},
     'and the one missing');

($status, $body) = submit(2);
is($status, 409, "workspace 2 (at its OTP) cannot use workspace 1's files");

verified(2, '+919797979797');
($status, $body) = submit(2);
is($status, 400, "workspace 2's business KYC lacks its own documents");
like($body->{message}, qr/gst_certificate/, 'the GST certificate first');

($status, $body) = submit(1);
is($status, 202, 'a valid business KYC is submitted');
is($body->{data}{state}, 'kyc_submitted', 'kyc_submitted');

($status) = submit(1);
is($status, 409, 'submitting again while under review: 409');
($status) = upload(1, 'pan_card', 'image/jpeg', $jpeg);
is($status, 409, 'and documents cannot change under review');

my $store = $n->read_file('store/data.mdb');
unlike($store, qr/234123412346/, 'the Aadhaar number is not stored');
like($store, qr/"id_last4":"2346"/, 'only its last 4 digits');
unlike($n->error_log, qr/234123412346/, 'nor logged');

# no document through /api/v1

($status) = api(1, GET => '/api/v1/telephony/india/kyc/documents/gst_certificate');
is($status, 405, 'the API has no way to read a document back');

# the operator's review

($status, $body) = $n->request(GET => '/admin/v1/kyc');
is($status, 200, 'the submissions');
my $data = $json->decode($body)->{data};
is(scalar @$data, 1, 'one');
is($data->[0]{workspace}, $ws1, "workspace 1's");
is($data->[0]{kyc}{signatory}{id_last4}, '2346', 'the Aadhaar masked');
is($data->[0]{documents}{gst_certificate}{size}, length $pdf,
   'the documents described');
ok(!exists $data->[0]{documents}{gst_certificate}{file},
   'without their file names');

my $res = $http->get("http://127.0.0.1:$port/admin/v1/kyc/$ws1/documents/gst_certificate");
is($res->{status}, 200, 'the operator reads a document');
is($res->{headers}{'content-type'}, 'application/pdf', 'as a PDF');
ok($res->{content} eq $pdf, 'exactly as uploaded, decrypted');

$res = $http->get("http://127.0.0.1:$port/admin/v1/kyc/$ws1/documents/address_proof");
is($res->{status}, 404, 'a document never uploaded: 404');
$res = $http->get("http://127.0.0.1:$port/admin/v1/kyc/$ws2/documents/gst_certificate");
is($res->{status}, 404, "workspace 2 has none: workspace 1's is not served for it");

($status, $body) = $n->request(POST => "/admin/v1/kyc/$ws1/reject", '{}');
is($status, 400, 'a rejection needs a reason');

($status, $body) = $n->request(POST => "/admin/v1/kyc/$ws1/reject",
                               '{"reason":"the GST certificate is unreadable"}');
is($status, 200, 'rejected');
is($json->decode($body)->{data}{state}, 'rejected', 'rejected');

is(provider(1)->{rejection_reason}, 'the GST certificate is unreadable',
   'the workspace sees why');

($status) = $n->request(POST => "/admin/v1/kyc/$ws1/approve");
is($status, 409, 'a rejected KYC cannot be approved before resubmission');

($status) = upload(1, 'gst_certificate', 'application/pdf', "$pdf more");
is($status, 201, 'a new document after the rejection');
($status) = submit(1);
is($status, 202, 'and resubmitted');
ok(!exists provider(1)->{rejection_reason}, 'the reason is cleared');

($status, $body) = $n->request(POST => "/admin/v1/kyc/$ws1/approve");
is($status, 200, 'approved');
is(provider(1)->{state}, 'approved', 'the workspace is approved');

($status, $body) = search_in(1);
is($status, 503, 'approved, on a server with no Indian carrier: 503');
is($body->{error}{code}, 'india_unavailable', 'india_unavailable');
like($body->{message}, qr/agnitel_india_account/,
     'naming what the operator must configure');
($status, $body) = buy_in(1);
is($status, 503, 'for a purchase too, and nothing goes to Twilio');

($status, $body) = $n->request(GET => '/admin/v1/kyc?state=approved');
$data = $json->decode($body)->{data};
is($data->[0]{review}{decision}, 'approved', 'the decision is recorded');
is($data->[0]{review}{by}, '127.0.0.1', 'with who made it');
like($data->[0]{review}{at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
     'and when');

($status) = $n->request(POST => "/admin/v1/kyc/ws_0000000000000000/approve");
is($status, 404, 'an unknown workspace: 404');

($status) = $n->request(GET => '/admin/v1/kyc?state=done');
is($status, 400, 'an unknown state: 400');

$vg ? $n->valgrind_clean : $n->stop;

done_testing;
