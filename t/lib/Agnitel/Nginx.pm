package Agnitel::Nginx;

# A real nginx, master and workers, for the tests Test::Nginx::Socket cannot
# express: "nginx -t", reloads, restarts, signals, files on disk.  It is
# also what bench/ uses to start its server.

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::More ();
use Time::HiRes qw(sleep time);

our $BINARY  = $ENV{TEST_NGINX_BINARY} || 'nginx';
our @MODULES = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');

# every instance started, so that a test that dies leaves no nginx behind
my @started;

END {
    local $?;
    for my $n (@started) {
        my $pid = $n->master_pid or next;
        kill 'TERM', $pid;
    }
}

# a fixed key is what lets tests and benchmarks call the API: the admin
# API imports its hash ("api_key_sha256") instead of generating one
sub api_key {
    my ($n) = @_;
    return sprintf 'agn_%032d', $n || 1;
}

sub api_key_sha256 { sha256_hex(api_key(@_)) }

# The suites' ports all derive from one base, Test::Nginx's port
# (TEST_NGINX_SERVER_PORT or TEST_NGINX_PORT, 1984 by default), so that a
# run can be moved elsewhere as a whole: base is Test::Nginx's nginx, base+1
# the fake carrier of its suites, base+2 (the default here) and up the
# suites that start their own nginx.  A suite's fake carrier listens on its
# port + 1 ($CARRIER_PORT in write_config).
sub test_port {
    my ($offset) = @_;
    return ($ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984)
         + ($offset || 0);
}

sub new {
    my ($class, %opt) = @_;

    my $self = bless {
        prefix => abs_path('.') . '/t/servroot_' . ($opt{name} || 'agnitel'),
        port   => $opt{port} || test_port(2),
        %opt,
    }, $class;

    remove_tree($self->{prefix}) unless $opt{keep};
    make_path(map { "$self->{prefix}/$_" } qw(conf logs html));

    return $self;
}

sub prefix { $_[0]{prefix} }
sub port   { $_[0]{port} }

# writes conf/nginx.conf: the http block body is given, the rest standard;
# $PORT is the instance's port, $CARRIER_PORT the one after it
sub write_config {
    my ($self, $http, %opt) = @_;

    my $conf = join '', map { "load_module $_;\n" } @MODULES;
    $conf .= "user root;\n" if $> == 0;
    $conf .= "worker_processes " . ($opt{workers} || 2) . ";\n"
           . "error_log logs/error.log " . ($opt{log_level} || 'info') . ";\n"
           . "pid logs/nginx.pid;\n"
           . "events { worker_connections 1024; }\n"
           . "http {\n    access_log off;\n"
           . "    client_body_temp_path logs;\n"
           . $http . "\n}\n";

    $conf =~ s/\$CARRIER_PORT/$self->{port} + 1/ge;
    $conf =~ s/\$PORT/$self->{port}/g;
    $conf =~ s/\$PREFIX/$self->{prefix}/g;

    open my $fh, '>', "$self->{prefix}/conf/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;
}

sub write_file {
    my ($self, $name, $data, $mode) = @_;

    open my $fh, '>', "$self->{prefix}/$name" or die "$name: $!";
    binmode $fh;
    print $fh $data;
    close $fh;
    chmod $mode || 0600, "$self->{prefix}/$name";
}

sub read_file {
    my ($self, $name) = @_;

    open my $fh, '<', "$self->{prefix}/$name" or return '';
    binmode $fh;
    local $/;
    return scalar <$fh>;
}

sub nginx_args {
    my ($self) = @_;
    return ($BINARY, '-p', "$self->{prefix}/", '-c', 'conf/nginx.conf');
}

# "nginx -t": returns (exit status, what nginx printed)
sub test_config {
    my ($self) = @_;

    my $cmd = join ' ', map { "'$_'" } $self->nginx_args, '-t';
    my $out = `$cmd 2>&1`;

    return ($? >> 8, $out);
}

sub start {
    my ($self) = @_;

    my $cmd = join ' ', map { "'$_'" } $self->nginx_args;
    my $out = `$cmd 2>&1`;
    die "nginx did not start: $out" if $?;

    push @started, $self;

    $self->wait_for(sub { $self->_port_open }, 'the port to open');
    $self->wait_for(sub { my @w = $self->worker_pids; @w > 0 }, 'workers');
}

# one process (master_process off) under valgrind's memcheck, as the
# Test::Nginx suites run it under TEST_NGINX_USE_VALGRIND; its report goes
# to logs/valgrind.log.  --fair-sched: at exit nginx destroys its thread
# pool spinning on sched_yield() until each thread has left, and valgrind's
# default, unfair lock can starve those threads for good (seen once: a
# QUIT unanswered for 12 minutes)
sub start_valgrind {
    my ($self) = @_;

    my $supp = abs_path(dirname(__FILE__) . '/../../valgrind.suppress');
    my @cmd = (qw(valgrind -q --tool=memcheck --leak-check=full
                  --show-possibly-lost=no --errors-for-leak-kinds=definite
                  --num-callers=50 --error-exitcode=97 --fair-sched=try),
               "--suppressions=$supp",
               "--log-file=$self->{prefix}/logs/valgrind.log",
               $self->nginx_args, '-g', 'master_process off; daemon off;');

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec(@cmd) or POSIX::_exit(127);
    }

    $self->{valgrind} = $pid;
    push @started, $self;

    $self->wait_for(sub { $self->_port_open }, 'nginx under valgrind', 60);

    return $pid;
}

# ends start_valgrind()'s nginx gracefully: (exit status, valgrind's
# report); one that has not exited within two minutes is killed, and its
# status is then 137
sub stop_valgrind {
    my ($self) = @_;

    my $pid = delete $self->{valgrind} or return;
    kill 'QUIT', $pid;

    my $deadline = time + 120;
    my $status;

    while (time < $deadline) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            $status = $? >> 8;
            last;
        }
        sleep 0.1;
    }

    if (!defined $status) {
        Test::More::diag("nginx under valgrind did not exit on QUIT: killed");
        kill 'KILL', $pid;
        waitpid $pid, 0;
        $status = 137;
    }

    return ($status, $self->read_file('logs/valgrind.log'));
}

sub stop {
    my ($self) = @_;

    my $pid = $self->master_pid or return;
    kill 'QUIT', $pid;
    $self->wait_for(sub { !kill 0, $pid }, 'nginx to exit');
}

sub reload {
    my ($self) = @_;

    my %old = map { $_ => 1 } $self->worker_pids;
    kill 'HUP', $self->master_pid;

    # reloaded when every worker is a new one
    $self->wait_for(sub {
        my @now = $self->worker_pids;
        @now && !grep { $old{$_} } @now;
    }, 'new workers after reload');
}

sub master_pid {
    my ($self) = @_;
    my $pid = $self->read_file('logs/nginx.pid');
    chomp $pid;
    return $pid && kill(0, $pid) ? $pid : undef;
}

sub worker_pids {
    my ($self) = @_;
    my $master = $self->master_pid or return ();
    my @pids = grep { /\d/ } split /\s+/, `pgrep -P $master`;
    return sort @pids;
}

sub error_log { $_[0]->read_file('logs/error.log') }

# the one record of LMDB database $db in the store ("agnitel_store store";
# nginx stopped): its value, and a function that writes another value in
# its place, as mdb_dump and mdb_load do
sub store_record {
    my ($self, $db) = @_;
    my $store = "$self->{prefix}/store";

    my @lines = `mdb_dump -s $db '$store'`;
    die "mdb_dump -s $db failed\n" if $?;
    my @data = grep { $lines[$_] =~ /^ / } 0 .. $#lines;
    die "not one record in $db\n" unless @data == 2;
    (my $hex = $lines[$data[1]]) =~ s/\s+//g;

    my $put = sub {
        $lines[$data[1]] = ' ' . unpack('H*', $_[0]) . "\n";
        open my $load, '|-', "mdb_load -s $db '$store'" or die "mdb_load: $!";
        print $load grep { !/^db_pagesize=/ } @lines;  # mdb_load knows it not
        close $load or die "mdb_load -s $db failed\n";
    };

    return (pack('H*', $hex), $put);
}

sub wait_for {
    my ($self, $cond, $what, $timeout) = @_;

    my $deadline = time + ($timeout || 10);

    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.02;
    }

    die "timed out waiting for $what\n";
}

sub _port_open {
    my ($self) = @_;
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                 PeerPort => $self->{port},
                                 Proto => 'tcp');
}

# one request on a new connection: (status, body, headers)
sub request {
    my ($self, $method, $path, $body, %headers) = @_;

    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10);

    $headers{'Content-Type'} ||= 'application/json' if defined $body;

    my $res = $http->request($method, "http://127.0.0.1:$self->{port}$path",
                             { headers => \%headers,
                               defined $body ? (content => $body) : () });

    return ($res->{status}, $res->{content}, $res->{headers});
}

# the usual set-up: a workspace whose key is api_key($n)
sub workspace {
    my ($self, $n, $name) = @_;

    my ($status, $body) = $self->request(POST => '/admin/v1/workspaces',
        sprintf('{"name":"%s","api_key_sha256":"%s"}',
                $name || "ws$n", api_key_sha256($n)));

    die "workspace: $status $body" unless $status == 201;
    my ($id) = $body =~ /"id":"(ws_[0-9a-f]+)"/;
    return $id;
}

sub api {
    my ($self, $n, $method, $path, $body) = @_;
    return $self->request($method, $path, $body, 'X-Api-Key' => api_key($n));
}

# requests ([method, path, body]) written each on a connection of its own
# before any answer is read, with the key of workspace $n: their answers,
# [status, body] each, in the order of the requests
sub at_once {
    my ($self, $n, @requests) = @_;

    my @socks;

    for my $req (@requests) {
        my ($method, $path, $body) = @$req;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $self->{port},
                                      Proto => 'tcp')
            or die "connect: $!";
        my $len = length($body // '');
        print $s "$method $path HTTP/1.1\r\nHost: localhost\r\n"
               . "X-Api-Key: " . api_key($n) . "\r\n"
               . "Content-Type: application/json\r\n"
               . "Content-Length: $len\r\nConnection: close\r\n\r\n"
               . ($body // '');
        push @socks, $s;
    }

    my @answers;

    for my $s (@socks) {
        local $/;
        die "no answer within 10 s\n"
            unless IO::Select->new($s)->can_read(10);
        my $raw = <$s> // '';    # none: the worker died
        my ($status) = $raw =~ m{^HTTP/1\.1 (\d+)};
        my ($body) = $raw =~ /\r\n\r\n(.*)\z/s;
        push @answers, [$status, $body];
    }

    return @answers;
}

# the internal location carrier calls go through, to 127.0.0.1:$port, as
# DESIGN has it, with "agnitel_twilio_api" naming it: for a server block
sub twilio_location {
    my ($port) = @_;
    return carrier_location('agnitel_twilio_api', '/_twilio/', $port,
                            'proxy_connect_timeout 1s;');
}

# an internal carrier location (Verify, the Indian carrier, Twilio) that
# proxies to the sandbox or a fake on $port, and its directive
sub carrier_location {
    my ($directive, $prefix, $port, @more) = @_;
    my $extra = join '', map { "            $_\n" } @more;

    return <<"END";
        $directive $prefix;

        location $prefix {
            internal;
            proxy_pass http://127.0.0.1:$port/;
            proxy_pass_request_headers off;
            proxy_set_header Authorization \$agnitel_upstream_authorization;
            proxy_set_header Content-Type application/x-www-form-urlencoded;
            proxy_set_header Accept-Encoding "";
$extra        }
END
}

# an exact decimal ("-1.15") in integer micro-units, as the module counts
sub micros {
    my ($s) = @_;

    my ($sign, $int, $frac) = $s =~ /^(-?)(\d+)(?:\.(\d{1,6}))?$/
        or die "not money: $s\n";
    $frac = substr(($frac // '') . '000000', 0, 6);

    my $m = $int * 1_000_000 + $frac;
    return $sign ? -$m : $m;
}

# ends start_valgrind()'s nginx and tests what memcheck reported
sub valgrind_clean {
    my ($self) = @_;

    my ($status, $report) = $self->stop_valgrind;

    Test::More::is($status, 0, 'valgrind: nginx exits cleanly');
    Test::More::unlike($report,
        qr/Invalid (?:read|write|free)|definitely lost|uninitialised
          |Conditional jump|Process terminating/x,
        'valgrind reports no memory error and no leak')
        or Test::More::diag($report);
}

1;
