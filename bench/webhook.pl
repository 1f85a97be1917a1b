#!/usr/bin/env perl
# make bench: signed voice webhooks against the list endpoint, in one run
# on one nginx.  The webhook's number was bought from the sandbox and has
# a dispatch rule, so every request checks the signature (HMAC-SHA1 with
# the account's token, opened from the store) and answers the <Dial>; the
# list is 50 of another workspace's 1000 numbers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Agnitel::Nginx;
use Digest::SHA qw(hmac_sha1_base64);
use HTTP::Tiny;

my $duration = $ENV{BENCH_DURATION} || 10;
my $numbers  = $ENV{BENCH_NUMBERS}  || 1000;
my $port     = 1987;
my $sandbox  = $port + 2;
my $token    = 'sandbox-auth-token';

my $n = Agnitel::Nginx->new(name => 'bench_webhook', port => $port);
$n->write_file('secret.key', 'w' x 32);

my $to_sandbox = Agnitel::Nginx::twilio_location($sandbox);

# on tmpfs: seeding is a thousand fsync'd writes, reads come from memory
my $store = -d '/dev/shm' ? "/dev/shm/agnitel-webhook-$$" : 'store';

$n->write_config(<<"END", workers => 2, log_level => 'warn');
    agnitel_store $store map_size=64m;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:68uajga988j.sip.livekit.cloud;

    server {
        listen 127.0.0.1:\$PORT;
$to_sandbox
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
        location = /twilio/voice { agnitel_twilio_voice; }
    }

    server {
        listen 127.0.0.1:$sandbox;
        location /2010-04-01/ { agnitel_twilio_sandbox; }
    }
END
$n->start;
$n->workspace(1);
$n->workspace(2);

for ([POST => '/api/v1/telephony/providers/twilio',
      '{"mode":"own","friendly_name":"T","account_sid":'
      . '"AC00000000000000000000000000000000","auth_token":"' . $token . '"}'],
     [POST => '/api/v1/phone-numbers/buy',
      '{"phone_number":"+15005550006","price":1.15}'],
     [POST => '/api/v1/dispatch-rules',
      '{"phone_number":"+15005550006","agent_id":"bench-agent"}'])
{
    my ($status, $body) = $n->api(1, @$_);
    die "$_->[1]: $status $body\n" unless $status == 201;
}

print "seeding $numbers numbers...\n";

for my $i (1 .. $numbers) {
    my ($status) = $n->api(2, POST => '/api/v1/phone-numbers/import',
        sprintf('{"phone_number":"+1415%07d","friendly_name":"Line %d",'
                . '"sip_username":"u","sip_password":"p"}', $i, $i));
    die "import $i: $status\n" unless $status == 201;
}

# the webhook, signed here as Twilio signs it
my %p = (CallSid => 'CA' . ('1' x 32),
         AccountSid => 'AC00000000000000000000000000000000',
         From => '+12125550100', To => '+15005550006',
         CallStatus => 'ringing', Direction => 'inbound');
my $data = "http://127.0.0.1:$port/twilio/voice"
         . join '', map { $_ . $p{$_} } sort keys %p;
my $sig = hmac_sha1_base64($data, $token);
$sig .= '=' while length($sig) % 4;
my $body = join '&', map { my $v = $p{$_}; $v =~ s/\+/%2B/g; "$_=$v" }
                     sort keys %p;

my $http = HTTP::Tiny->new(keep_alive => 0);
my $res = $http->post("http://127.0.0.1:$port/twilio/voice",
    { headers => { 'X-Twilio-Signature' => $sig,
                   'Content-Type' => 'application/x-www-form-urlencoded' },
      content => $body });
die "the webhook: $res->{status} $res->{content}\n"
    unless $res->{status} == 200 && $res->{content} =~ /<Dial/;

sub wrk {
    my (@args) = @_;
    my $out = `wrk -t2 -c50 -d${duration}s @args 2>&1`;
    die "wrk failed: $out" if $? or $out !~ /Requests\/sec:\s+([\d.]+)/;
    my $rps = $1;
    die "errors: $out" if $out =~ /Non-2xx/;
    return $rps;
}

my $key = Agnitel::Nginx::api_key(2);
my @list = ('-H', "'X-Api-Key: $key'",
            "'http://127.0.0.1:$port/api/v1/phone-numbers?limit=50&offset=500'");
my @hook = ('-s', "'$FindBin::Bin/webhook.lua'", "'http://127.0.0.1:$port'",
            '--', "'$body'", "'$sig'");

wrk(@list);     # warm-up
my ($l1, $w1, $l2, $w2) = (wrk(@list), wrk(@hook), wrk(@list), wrk(@hook));

$n->stop;
system('rm', '-rf', $store) if $store =~ m{^/dev/shm/};

my $list = ($l1 + $l2) / 2;
my $hook = ($w1 + $w2) / 2;

printf "list endpoint:       %8.0f req/s (%.0f, %.0f)\n", $list, $l1, $l2;
printf "signed webhooks:     %8.0f req/s (%.0f, %.0f)\n", $hook, $w1, $w2;
printf "ratio:               %8.2f (target >= 0.80)\n", $hook / $list;
