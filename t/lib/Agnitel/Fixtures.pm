package Agnitel::Fixtures;

# What the Test::Nginx::Socket suites share: a default configuration, API
# keys known in advance (their hashes are imported through the admin API),
# and request builders.  Works with upstream Test::Nginx::Socket and with
# the subset in t/lib.
#
# The LMDB store is "store_temp" under servroot: Test::Nginx owns servroot
# and, before every nginx start, removes only conf/, html/, logs/, cache/,
# *_cache and *_temp; anything else there makes it bail out ("Can't remove
# t/servroot (not empty?)").  A *_temp directory is wiped with the rest, so
# every block starts on an empty store under both runners.  Blocks with
# their own http_config say "agnitel_store store_temp;" too.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use Exporter qw(import);
use File::Temp qw(tempdir);
use Test::Nginx::Socket ();

our @EXPORT = qw(key workspace import_number chunked twilio_config
                 connect_twilio add_twilio prepare $SIP $SID $TOKEN
                 $TWILIO_NUMBER);

our $SIP = 'sip:68uajga988j.sip.livekit.cloud';

my $dir = tempdir(CLEANUP => 1);

open my $fh, '>', "$dir/secret.key" or die $!;
print $fh join '', map { chr(($_ * 13 + 5) % 256) } 1 .. 32;
close $fh;
chmod 0600, "$dir/secret.key";

$ENV{TEST_NGINX_KEY_FILE} = "$dir/secret.key";

# a Twilio account for the fake carriers of the suites
our $SID   = 'AC' . ('0123456789abcdef' x 2);
our $TOKEN = 'f00dfacef00dfacef00dfacef00dface';

# the fake carrier listens on the port after Test::Nginx's (upstream sets
# TEST_NGINX_SERVER_PORT only once run_tests starts)
$ENV{TEST_NGINX_TWILIO_PORT} ||=
    ($ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984) + 1;

sub key { sprintf 'agn_%032d', $_[0] || 1 }

# a fake Twilio's account $SID, owning +14155550123 (PN111...), for
# connect_twilio() and add_twilio()
our $TWILIO_NUMBER = <<"_EOC_";
        location = /2010-04-01/Accounts/$SID.json {
            return 200 '{"sid":"$SID","status":"active"}';
        }
        location = /2010-04-01/Accounts/$SID/IncomingPhoneNumbers/PN11111111111111111111111111111111.json {
            return 200 '{"sid":"PN11111111111111111111111111111111","phone_number":"+14155550123","capabilities":{"voice":true,"sms":false}}';
        }
_EOC_

sub add_twilio {
    return "POST /api/v1/phone-numbers/add-twilio\n"
        . '{"phone_number":"+14155550123",'
        . '"number_sid":"PN11111111111111111111111111111111"}';
}

# connects workspace 1 to $SID (the fake must answer the account fetch)
sub connect_twilio {
    return "POST /api/v1/telephony/providers/twilio\n"
        . qq({"mode":"own","friendly_name":"Main","account_sid":"$SID",)
        . qq("auth_token":"$TOKEN"});
}

# http_config with a fake Twilio on its own port: its locations are given,
# and it writes every request it gets into error.log, where --- error_log
# sees exactly what the module sent
sub twilio_config {
    my ($fake, %opt) = @_;

    my $voice = $opt{voice_url} ? "agnitel_voice_url $opt{voice_url};" : '';
    my $extra = $opt{extra} || '';

    return <<"_EOC_";
    agnitel_store store_temp;
    agnitel_secret_key_file \$TEST_NGINX_KEY_FILE;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;
    $voice
    $extra

    log_format twilio 'twilio: \$request_method \$uri?\$args '
                      'body=\$request_body auth=\$http_authorization '
                      'key=\$http_x_api_key ct=\$content_type';

    server {
        listen 127.0.0.1:\$TEST_NGINX_TWILIO_PORT;
        access_log logs/error.log twilio;
        default_type application/json;
$fake
    }
_EOC_
}


# requests made by a block's --- init, before its own, in the same format
# and with the same default headers (workspace 1's key, JSON); dies, and
# so bails out, unless each answers 2xx.  For a block whose --- error_log
# line comes from a request that needs others first: Test::Nginx checks
# --- error_log after every request, so that request must be the first.
sub prepare {
    require HTTP::Tiny;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 30);
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;

    for my $req (@_) {
        my ($line, $body) = split /\n/, $req, 2;
        my ($method, $path) = split ' ', $line;
        my $res = $http->request($method, "http://127.0.0.1:$port$path", {
            headers => { 'X-Api-Key' => key(1),
                         'Content-Type' => 'application/json' },
            defined $body ? (content => $body) : () });
        die "prepare: $line: $res->{status} $res->{content}\n"
            unless $res->{success};
    }
}

# a request creating workspace $n, whose API key is key($n)
sub workspace {
    my ($n) = @_;
    $n ||= 1;
    return "POST /admin/v1/workspaces\n"
        . qq({"name":"ws$n","api_key_sha256":") . sha256_hex(key($n)) . '"}';
}

# a custom-SIP import; fields can be overridden, or dropped with undef
sub import_number {
    my ($number, %f) = @_;

    my $path = delete $f{path} || '/api/v1/phone-numbers/import';
    my %body = (phone_number => $number, friendly_name => 'Support line',
                sip_username => 'trunk-user', sip_password => 'trunk-pass',
                %f);

    return "POST $path\n{" . join(',', map {
        my $v = $body{$_};
        qq("$_":) . ($v =~ /^(?:\d+|true|false|null|\{.*\}|\[.*\])$/s
                     ? $v : qq("$v"));
    } grep { defined $body{$_} } sort keys %body) . '}';
}

# the same request with its body in chunked transfer encoding (the block
# sends "Transfer-Encoding: chunked" in more_headers)
sub chunked {
    my ($line, $body) = split /\n/, $_[0], 2;

    my $out = "$line\n";
    $out .= sprintf("%x\r\n%s\r\n", length $1, $1)
        while defined $body && $body =~ /\G(.{1,4096})/gs;

    return $out . "0\r\n\r\n";
}

# /api/ answers as workspace 1 (more_headers), /ws2/api/ as workspace 2
# and /anon/api/ without a key: nginx sets the header on the way through
Test::Nginx::Socket::add_block_preprocessor(sub {
    my ($block) = @_;

    my $key2 = key(2);

    $block->set_value('http_config', <<'_EOC_') unless $block->http_config;
    agnitel_store store_temp;
    agnitel_secret_key_file $TEST_NGINX_KEY_FILE;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;
_EOC_

    $block->set_value('config', <<"_EOC_") unless $block->config;
    agnitel_twilio_api /_twilio/;

    location /_twilio/ {
        internal;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_TWILIO_PORT/;
        proxy_pass_request_headers off;
        proxy_set_header Authorization \$agnitel_upstream_authorization;
        proxy_set_header Content-Type application/x-www-form-urlencoded;
        proxy_read_timeout 1s;
        subrequest_output_buffer_size 64k;
    }

    location /api/ { agnitel_api; }
    location /admin/ { agnitel_admin; }
    location = /dispatch/resolve { agnitel_dispatch_resolve; }
    location = /twilio/voice { agnitel_twilio_voice; }
    location = /twilio/status { agnitel_twilio_status; }
    # where Twilio's documented signature example calls (t/voice.t)
    location = /myapp.php { agnitel_twilio_voice; }
    location = /caller-id { agnitel_caller_id; }
    location = /dial {
        auth_request /caller-id;
        echo -n dialled;
    }

    location /ws2/ {
        proxy_set_header X-Api-Key $key2;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/;
    }

    location /anon/ {
        proxy_set_header X-Api-Key "";
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/;
    }
_EOC_

    # nginx's own complaints ("header already sent", ...) fail any block
    $block->set_value('no_error_log', "[alert]\n[emerg]\n")
        unless defined $block->no_error_log;

    $block->set_value('more_headers', "X-Api-Key: " . key(1)
                      . "\nContent-Type: application/json\n")
        unless defined $block->more_headers;
});

1;
