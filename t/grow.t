# agnitel_store's grow: the data file runs ahead of LMDB's pages in use,
# in blocks written with zeros, never past map_size; off, it is LMDB's own
# size; and a disk too full for it leaves the commits to grow the file.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $MiB = 1024 * 1024;

sub instance {
    my ($name, $store) = @_;

    my $n = Agnitel::Nginx->new(name => $name);
    $n->write_file('secret.key', 'g' x 32);
    $n->write_config(<<"END", workers => 2);
    agnitel_store $store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;

    server {
        listen 127.0.0.1:\$PORT;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END
    $n->start;
    $n->workspace(1);

    return $n;
}

sub import_numbers {
    my ($n, $count) = @_;
    my $created = 0;

    for my $i (1 .. $count) {
        my ($status) = $n->api(1, POST => '/api/v1/phone-numbers/import',
            sprintf('{"phone_number":"+1415555%04d","friendly_name":"Line",'
                    . '"sip_username":"u","sip_password":"p"}', $i));
        $created++ if $status == 201;
    }

    return $created;
}

# what LMDB uses of the file: its pages in use, in bytes
sub used {
    my ($dir) = @_;
    my $out = `mdb_stat -e '$dir'`;
    $out =~ /Page size: (\d+).*Number of pages used: (\d+)/s
        or die "mdb_stat -e $dir: $out";
    return $1 * $2;
}

# (size, bytes in allocated blocks) of the data file
sub file {
    my ($dir) = @_;
    my @st = stat "$dir/data.mdb" or die "$dir/data.mdb: $!";
    return ($st[7], $st[12] * 512);
}

# --- the default, 4m: at least half of it ahead, in written blocks

my $n = instance('grow', 'store');
my $dir = $n->prefix . '/store';

is(import_numbers($n, 20), 20, 'twenty numbers imported');
$n->stop;

my ($size, $blocks) = file($dir);
my $ahead = $size - used($dir);

cmp_ok($ahead, '>=', 2 * $MiB,
       "the data file runs $ahead bytes ahead of LMDB's pages in use");
cmp_ok($ahead, '<=', 4 * $MiB, 'and no more than grow (4m)');
cmp_ok($blocks, '>=', $size, 'in blocks written, not a sparse file');

$n->start;
my ($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=50');
like($body, qr/"total":20\b/, 'a restart reads every number back');
is(import_numbers($n, 25), 5, 'and takes new ones');
$n->stop;

# --- never past map_size

(my $conf = $n->read_file('conf/nginx.conf'))
    =~ s/agnitel_store store;/agnitel_store small map_size=1m;/;
$n->write_file('conf/nginx.conf', $conf);
$n->start;
$n->workspace(1);
is(import_numbers($n, 3), 3, 'imports into a map of 1m');
$n->stop;

($size) = file($n->prefix . '/small');
cmp_ok($size, '<=', $MiB, "the file stops at map_size ($size bytes)");

# --- grow=off: LMDB's own size

$conf =~ s/agnitel_store small map_size=1m;/agnitel_store off grow=off;/;
$n->write_file('conf/nginx.conf', $conf);
$n->start;
$n->workspace(1);
is(import_numbers($n, 3), 3, 'imports with grow=off');
$n->stop;

$dir = $n->prefix . '/off';
($size) = file($dir);
cmp_ok($size - used($dir), '<', 64 * 1024,
       "grow=off leaves the file at LMDB's size ($size bytes)");

# --- a disk too full to grow ahead: the commits grow the file

SKIP: {
    my $mnt = $n->prefix . '/tiny';
    mkdir $mnt;

    skip 'mounting a tmpfs needs root', 5 if $> != 0;
    skip "cannot mount a tmpfs at $mnt", 5
        if system("mount -t tmpfs -o size=1m agnitel-grow '$mnt' 2>/dev/null");

    # unmounted however the block ends: a mount left behind would keep the
    # next run from clearing its servroot
    my $unmount = Agnitel::Grow::Unmount->new($n, $mnt);

    $conf =~ s/agnitel_store off grow=off;/agnitel_store tiny map_size=8m;/;
    $n->write_file('conf/nginx.conf', $conf);

    $n->start;
    $n->workspace(1);

    is(import_numbers($n, 10), 10,
       'a disk without room for grow still takes imports');

    $n->wait_for(sub { $n->error_log =~ /failed growing the data file/ },
                 'the warning');
    like($n->error_log,
         qr/\[warn\].*pwrite\(\) failed growing the data file ahead.*No space/,
         'a warning says why the file is not grown ahead');

    ($status, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=50');
    like($body, qr/"total":10\b/, 'every number is there');
    $n->stop;

    ($size) = file($mnt);
    cmp_ok($size - used($mnt), '<', 64 * 1024,
           'the zeros that did not fit are gone again');
    unlike($n->error_log, qr/\[(alert|crit|emerg)\]/,
           'and nothing worse than the warning was logged');
}

done_testing;


package Agnitel::Grow::Unmount;

sub new {
    my ($class, $n, $mnt) = @_;
    return bless { n => $n, mnt => $mnt }, $class;
}

sub DESTROY {
    my ($self) = @_;
    local $?;
    $self->{n}->stop if $self->{n}->master_pid;
    system("umount '$self->{mnt}'");
}
