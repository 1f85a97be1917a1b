# The voice webhook reads the called number's record and its provider's
# from their JSON text, only the members it needs, without parsing either.
# Any JSON writer may escape what jansson leaves plain ("\/", "\u0061"),
# in names as in values: the suite rewrites both records so (nginx
# stopped; mdb_dump and mdb_load), then checks that the same signed
# webhook still opens the same token and dials the same agent, and that a
# record whose text is cut short answers 403, as a record that cannot be
# read did before.  Under TEST_NGINX_USE_VALGRIND it runs under memcheck.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(hmac_sha1_base64);
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};

my $port = Agnitel::Nginx::test_port(43);
my $carrier = $port + 1;

my $SID = 'AC' . ('0123456789abcdef' x 2);
my $TOKEN = 'f00dfacef00dfacef00dfacef00dface';
my $NUMBER = '+14155550123';
my $PN = 'PN' . ('1' x 32);

my $n = Agnitel::Nginx->new(name => 'webhook_text', port => $port);
$n->write_file('secret.key', 'w' x 32);

my $to_carrier = Agnitel::Nginx::twilio_location($carrier);

$n->write_config(<<"END", workers => 1);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;

    server {
        listen 127.0.0.1:\$PORT;
$to_carrier
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
        location = /twilio/voice { agnitel_twilio_voice; }
    }

    server {
        listen 127.0.0.1:$carrier;
        default_type application/json;

        location = /2010-04-01/Accounts/$SID.json {
            return 200 '{"sid":"$SID","status":"active"}';
        }

        location = /2010-04-01/Accounts/$SID/IncomingPhoneNumbers/$PN.json {
            return 200 '{"sid":"$PN","phone_number":"$NUMBER","capabilities":{"voice":true,"sms":false}}';
        }
    }
END

sub start { $vg ? $n->start_valgrind : $n->start }
sub stop { $vg ? $n->valgrind_clean : $n->stop }

start();
$n->workspace(1);

for my $req (
    ['/api/v1/telephony/providers/twilio',
     qq({"mode":"own","friendly_name":"Main","account_sid":"$SID",)
     . qq("auth_token":"$TOKEN"})],
    ['/api/v1/phone-numbers/add-twilio',
     qq({"phone_number":"$NUMBER","number_sid":"$PN"})],
    ['/api/v1/dispatch-rules',
     qq({"phone_number":"$NUMBER","agent_id":"agent-7"})])
{
    my ($status, $body) = $n->api(1, POST => @$req);
    is($status, 201, "POST $req->[0]") or diag $body;
}

# a call to the number, signed as Twilio signs it: the URL, then the
# parameters sorted by name, each name then value, under HMAC-SHA1

my %call = (CallSid => 'CA' . ('1' x 32), AccountSid => $SID,
            From => '+12125550100', To => $NUMBER,
            CallStatus => 'ringing', Direction => 'inbound');

sub call {
    my $url = "http://127.0.0.1:$port/twilio/voice";
    my $sig = hmac_sha1_base64($url . join('', map { $_ . $call{$_} }
                                                sort keys %call), $TOKEN);
    $sig .= '=' while length($sig) % 4;

    my $body = join '&', map {
        (my $v = $call{$_}) =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
        "$_=$v";
    } sort keys %call;

    return $n->request(POST => '/twilio/voice', $body,
                       'Content-Type' => 'application/x-www-form-urlencoded',
                       'X-Twilio-Signature' => $sig);
}

my $dial = qr{<Dial answerOnBridge="true"><Sip>sip:\+14155550123\@trunk\.example\.com\?X-Agnitel-Agent=agent-7</Sip></Dial>};

my ($status, $body) = call();
is($status, 200, 'a signed call: 200');
like($body, $dial, 'dialled to its agent');

my ($s, $number) = $n->api(1, GET => "/api/v1/phone-numbers/$NUMBER");
is($s, 200, 'the number reads');

stop();

# --- both records rewritten with escapes, meaning the same

# a string's characters as \u escapes
sub u { join '', map { sprintf '\u%04x', ord } split //, $_[0] }

sub rewrite {
    my ($db, $edit) = @_;
    my ($value, $put) = $n->store_record($db);
    my $text = $edit->($value);
    is($text eq $value ? 'unchanged' : 'rewritten', 'rewritten',
       "the $db record is rewritten");
    $put->($text);
    return $value;
}

# the number: its JSON follows its header and view; the view, which lists
# copy as it is, is left as it was

my $numbers = rewrite('numbers', sub {
    my ($v) = @_;
    my $json = rindex $v, '{"';
    my $head = substr $v, 0, $json;
    my $text = substr $v, $json;

    $text =~ s/"agent_id":"agent-7"/"agent_id":"ag\\u0065nt\\u002d7"/;
    $text =~ s/"status":"active"/"st\\u0061tus":"${\ u('active')}"/;
    $text =~ s/"provider_id":"([^"]+)"/'"provider_id":"' . u($1) . '"'/e;

    return $head . $text;
});

rewrite('providers', sub {
    my ($v) = @_;
    $v =~ s/"account_sid":"AC/"account_sid":"\\u0041C/;
    $v =~ s{"auth_token":"([^"]+)"}{
        my $sealed = $1;
        my $first = substr $sealed, 0, 1, '';
        '"auth_token":"' . u($first) . ($sealed =~ s|/|\\/|gr) . '"';
    }e;
    return $v;
});

start();

($status, $body) = call();
is($status, 200, 'escaped records: the same signed call, 200');
like($body, $dial, 'and dialled to the same agent');

($s, my $again) = $n->api(1, GET => "/api/v1/phone-numbers/$NUMBER");
is($again, $number, 'the number reads as before');

stop();

# --- the number's record cut short: no token, no agent

(undef, my $put) = $n->store_record('numbers');
$put->(substr $numbers, 0, length($numbers) - 40);

start();

($status, $body) = call();
is($status, 403, 'a record that does not read: 403');

stop();

unlike($n->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert in the log');

done_testing();
