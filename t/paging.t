# Paging through an inventory larger than one page of the index (an index
# page holds about 120 numbers).  Without a filter a list counts the
# numbers from the index and skips the index pages before its offset; with
# one it reads every entry.  Every page must hold the same numbers, in the
# same order, either way, and be the slice of the sorted inventory that
# limit and offset name: at the edges of index pages, past the end, among
# numbers that are prefixes of each other, with a filter that leaves gaps
# (every fifth number imported as Canadian), and after releases.
# Under TEST_NGINX_USE_VALGRIND it runs under memcheck.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Agnitel::Nginx;

my $vg = $ENV{TEST_NGINX_USE_VALGRIND};

my $n = Agnitel::Nginx->new(name => 'paging',
                            port => Agnitel::Nginx::test_port(41));
$n->write_file('secret.key', 'p' x 32);

$n->write_config(<<'END', workers => 1);
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;

    server {
        listen 127.0.0.1:$PORT;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END
$vg ? $n->start_valgrind : $n->start;
$n->workspace(1);
$n->workspace(2);

srand(20261207);

my %seen;
my @numbers = grep { !$seen{$_}++ }
              (map { sprintf('+1415%07d', int rand 1e7) } 1 .. 330),
              '+14155501', '+141555012', '+1415550123',
              map { "+4420794610$_" } 10 .. 29;

my %canadian = map { $numbers[$_ * 5] => 1 } 0 .. int($#numbers / 5);

sub import_all {
    my ($ws, @list) = @_;
    my @answers;

    while (my @batch = splice @list, 0, 40) {
        push @answers, $n->at_once($ws, map {
            [POST => '/api/v1/phone-numbers/import',
             qq({"phone_number":"$_","friendly_name":"Line",)
             . ($canadian{$_} ? '"iso_country":"CA",' : '')
             . qq("sip_username":"u","sip_password":"p"})]
        } @batch);
    }

    return grep { ($_->[0] // 0) != 201 } @answers;
}

is(scalar(import_all(1, @numbers)), 0,
   scalar(@numbers) . ' numbers imported into one workspace');
is(scalar(import_all(2, map { s/^\+1415/+1416/r } @numbers[0 .. 39])), 0,
   'and 40 into another');

sub page {
    my ($query) = @_;
    my ($status, $body) = $n->api(1, GET => "/api/v1/phone-numbers?$query");
    return { total => -1, numbers => "status $status" } if $status != 200;
    my $page = decode_json($body);
    return { total => $page->{meta}{total},
             numbers => join ' ', map { $_->{phone_number} } @{$page->{data}} };
}

sub check_pages {
    my ($what, $filter, $other, @inventory) = @_;
    my @sorted = sort @inventory;
    my @wrong;

    for my $limit (1, 50, 119, 120, 200) {
        for my $offset (0, 1, 118, 119, 120, 121, 239, 240, 241,
                        $#sorted, scalar @sorted, 1000)
        {
            my $q = "limit=$limit&offset=$offset";
            my $last = $offset + $limit - 1;
            $last = $#sorted if $last > $#sorted;
            my $want = join ' ', @sorted[$offset .. $last];

            my $plain = page($q . $filter);
            my $filtered = page("$q$filter&$other");

            push @wrong, "$q: unfiltered"
                if $plain->{numbers} ne $want || $plain->{total} != @sorted;
            push @wrong, "$q: filtered"
                if $filtered->{numbers} ne $want
                   || $filtered->{total} != @sorted;
        }
    }

    splice @wrong, 5 if @wrong > 5;

    is("@wrong", '', "$what: every page is its slice of the "
                     . scalar(@sorted) . ' sorted numbers, either way');
}

check_pages('imported', '', 'is_active=true', @numbers);
check_pages('in the US', '&iso_country=US', 'is_active=true',
            grep { !$canadian{$_} && /^\+1/ } @numbers);

# releases take numbers out of the index and the records alike

my @released = @numbers[map { $_ * 7 } 0 .. 39];
my %gone = map { $_ => 1 } @released;

is(join(' ', grep { $_ != 200 } map {
       ($n->api(1, DELETE => "/api/v1/phone-numbers/$_/release"))[0] }
                              @released),
   '', '40 numbers released');

check_pages('after releases', '', 'is_active=true',
            grep { !$gone{$_} } @numbers);

is(page('status=released&limit=200')->{total}, 40,
   'the released ones are listed as history');

$vg ? $n->valgrind_clean : $n->stop;

unlike($n->error_log, qr/\[(?:alert|crit|emerg)\]/, 'no alert in the log');

done_testing();
