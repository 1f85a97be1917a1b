# A store the workers cannot reach fails "nginx -t" and the start, and a
# reload to such a store keeps the old workers: the master runs as root,
# the workers as the "user" directive's user (nobody by default), and they
# open the store only after switching.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep);
use Agnitel::Nginx;

plan skip_all => 'needs root: the workers only change user under root'
    if $> != 0;
plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};
plan skip_all => 'needs the users "nobody" and "daemon"'
    unless getpwnam('nobody') && getpwnam('daemon');

my $n = Agnitel::Nginx->new(name => 'startup',
                            port => Agnitel::Nginx::test_port(2));
$n->write_file('secret.key', join '', map { chr(($_ * 7) % 256) } 1 .. 32);

# File::Temp makes it 0700: open it to everyone, as /tmp is
my $tmp = tempdir('agnitel-startup-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp or die "$tmp: $!";

# no "user" directive, unlike write_config's "user root" under root: the
# workers run as nginx's default user, nobody on Debian
sub config {
    my ($store, %main) = @_;

    $n->write_config(<<"END");
    agnitel_store $store;
    agnitel_secret_key_file secret.key;

    server {
        listen 127.0.0.1:\$PORT;
        location /admin/ { agnitel_admin; }
    }
END

    my $conf = $n->read_file('conf/nginx.conf');
    $conf =~ s/^user root;\n/$main{before} || ''/me
        or die 'write_config wrote no "user root"';
    $conf .= $main{after} if $main{after};
    $n->write_file('conf/nginx.conf', $conf, 0644);
}

sub workspace {
    my ($status) = $n->request(POST => '/admin/v1/workspaces',
                               '{"name":"startup"}');
    return $status;
}

# --- a parent directory only root may enter

mkdir "$tmp/locked", 0700 or die $!;
chmod 0700, "$tmp/locked";

my $denied = qr/agnitel_store "\Q$tmp\E\/locked\/store" is unusable for the workers' user "nobody": cannot search "\Q$tmp\E\/locked" \(13: Permission denied\)/;

config("$tmp/locked/store");

my ($rc, $out) = $n->test_config;
isnt($rc, 0, 'nginx -t fails');
like($out, $denied, 'nginx -t names the path and the user');
like($out, qr/test failed/, 'and says the test failed');

eval { $n->start };
like($@, qr/nginx did not start/, 'nginx refuses to start');
like($@, $denied, 'with the same message');
ok(!$n->master_pid, 'and no master is left without workers');
ok(!-e "$tmp/locked/store", 'nothing was created');

# --- parents it creates itself let the workers through

config("$tmp/new/sub/store");

($rc, $out) = $n->test_config;
is($rc, 0, 'nginx -t passes for a store in new directories') or diag $out;

$n->start;

is(workspace(), 201, 'workers running as nobody use the store');
is((stat "$tmp/new/sub")[2] & 07777, 0755, 'created parents are 0755');
is((stat "$tmp/new/sub/store")[2] & 07777, 0700, 'the store itself 0700');
is(getpwuid((stat "$tmp/new/sub/store")[4]), 'nobody',
   'and owned by the workers\' user');

# --- a reload to an unusable store keeps the old workers

my $master = $n->master_pid;
my @workers = $n->worker_pids;

config("$tmp/locked/store");
kill 'HUP', $master;

$n->wait_for(sub { $n->error_log =~ $denied }, 'the reload to fail');
sleep 0.5;

is($n->master_pid, $master, 'the master survives the failed reload');
is_deeply([$n->worker_pids], \@workers, 'the old workers stay');
is(workspace(), 201, 'and keep serving');

$n->stop;

# --- "master_process off": the one process keeps root's credentials

config("$tmp/locked/store", before => "master_process off;\n");

($rc, $out) = $n->test_config;
is($rc, 0, 'without workers nothing changes user: nginx -t passes')
    or diag $out;

# --- "user" after the http block: only known once the configuration is
# read, so init_module checks again and the start still fails

mkdir "$tmp/nobodys", 0700 or die $!;
chown scalar getpwnam('nobody'), -1, "$tmp/nobodys" or die $!;

config("$tmp/nobodys/store", after => "user daemon;\n");

eval { $n->start };
like($@, qr/agnitel_store "\Q$tmp\E\/nobodys\/store" is unusable for the workers' user "daemon": cannot search "\Q$tmp\E\/nobodys"/,
     'a user set after the http block is checked too');
ok(!$n->master_pid, 'and nginx is not running');

done_testing;
