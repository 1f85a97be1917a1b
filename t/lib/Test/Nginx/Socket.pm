package Test::Nginx::Socket;

# Minimal, self-contained stand-in for CPAN's Test::Nginx::Socket
# (openresty/test-nginx).  Only used when the real module is not installed;
# see t/lib/README for the supported subset.  Test files must keep working
# unchanged under upstream, so names, defaults and assertion counts follow
# upstream Test::Nginx::Util / Test::Nginx::Socket.
#
# NOTE: "use Test::Base -Base" applies Spiffy's source filter to the rest of
# this file: every "sub name {" would get "my $self = shift;" injected.  All
# subs therefore carry a prototype (like upstream does).

use v5.10.1;
use Test::Base -Base;

our $VERSION = '0.29_local';

use POSIX qw(SIGQUIT SIGTERM SIGKILL WNOHANG EAGAIN EINTR);
use Time::HiRes qw(sleep time);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use List::Util qw(shuffle);
use IO::Socket::INET ();
use IO::Select ();
use Test::LongString;

our @EXPORT = qw(
    run_tests run_test plan repeat_each master_on master_off
    master_process_enabled workers log_level no_shuffle no_long_string
    no_root_location env_to_nginx worker_connections config_preamble
    timeout server_port server_root html_dir check_accum_error_log
    add_block_preprocessor bail_out is_str
);

# ---------------------------------------------------------------- settings

our $NginxBinary       = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServerPort        = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerAddr        = '127.0.0.1';
our $ServerName        = 'localhost';
our $UseValgrind       = $ENV{TEST_NGINX_USE_VALGRIND};
our $Verbose           = $ENV{TEST_NGINX_VERBOSE};
our $NoClean           = $ENV{TEST_NGINX_NO_CLEAN};
our $LoadModules       = $ENV{TEST_NGINX_LOAD_MODULES} // '';
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep    = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $Workers           = 1;
our $WorkerConnections = 64;
our $RepeatEach        = 1;
our $NoLongString;
our $NoRootLocation    = 0;
our $CheckAccumErrLog  = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $ConfigPreamble    = '';
our @EnvToNginx;
our @BlockPreprocessors;

# Valgrind makes everything ~10x slower.
our $TimeScale    = $UseValgrind ? 10 : 1;
our $StartTimeout = $UseValgrind ? 60 : 5;

our $ServRoot   = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
our $LogDir     = "$ServRoot/logs";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $PidFile    = "$LogDir/nginx.pid";
our $StderrFile = "$LogDir/stderr.log";
our $VgLogFile  = "$LogDir/valgrind.log";

# Always-defined variables for $TEST_NGINX_XXX substitution.
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_SERVROOT}    = $ServRoot;
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;     # upstream's name
$ENV{TEST_NGINX_HTML_DIR}    = $HtmlDir;

# ---------------------------------------------------------------- state

our $ChildPid;          # nginx under valgrind (our direct child)
our $NginxPid;          # nginx master (or single process) pid
our $ErrLogPos = 0;
our $PrevConfig;
our $NginxVersion;      # e.g. 1.022001
our $InChild;
our $VgStatus;        # exit status of the valgrind child

# ---------------------------------------------------------------- setters

sub repeat_each (@) { $RepeatEach = shift if @_; return $RepeatEach }
sub workers (@) { $Workers = shift if @_; return $Workers }
sub worker_connections (@) { $WorkerConnections = shift if @_; return $WorkerConnections }
sub log_level (@) { $LogLevel = shift if @_; return $LogLevel }
sub timeout (@) { $Timeout = shift if @_; return $Timeout }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub server_port (@) { $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort = shift if @_; return $ServerPort }
sub server_root () { return $ServRoot }
sub html_dir () { return $HtmlDir }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }

sub master_process_enabled (@) {
    $MasterProcessEnabled = shift() ? 'on' : 'off' if @_;
    return $MasterProcessEnabled;
}

sub env_to_nginx (@) {
    for my $v (@_) {
        die "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail_out (@) {
    stop_nginx('bail_out');
    Test::More::BAIL_OUT(join '', @_);
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc) if ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc) if $NoLongString;
    return is_string($got, $expected, $desc);
}

# ---------------------------------------------------------------- helpers

sub fmt_str ($) {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g; $s =~ s/\r/\\r/g; $s =~ s/\n/\\n/g;
    return $s;
}

sub trim ($) {
    my $s = shift;
    return undef if !defined $s;
    $s =~ s/^\s+|\s+$//g; $s =~ s/\n/ /gs; $s =~ s/\s{2,}/ /gs;
    return $s;
}

sub parse_time ($) {
    my $t = shift;
    return undef if !defined $t;
    $t =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $t =~ /^([\d.]+)ms$/;
    return $1 if $t =~ /^([\d.]+)s?$/;
    return $t;
}

sub slurp ($) {
    my $f = shift;
    open my $in, '<', $f or return '';
    local $/;
    my $s = <$in>;
    close $in;
    return $s // '';
}

sub tail_of ($$) {
    my ($f, $n) = @_;
    my @l = split /\n/, slurp($f);
    @l = @l[-$n .. -1] if @l > $n;
    return join "\n", @l;
}

# Zombie-aware "is this pid alive?" (a daemonised nginx is reparented and
# may linger as a zombie if nobody reaps it).
sub is_running ($) {
    my $pid = shift;
    return 0 if !$pid || !kill(0, $pid);
    if (open my $st, '<', "/proc/$pid/stat") {
        my $l = <$st> // '';
        return 0 if $l =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

# Upstream semantics: only sections fed to nginx are expanded and an
# undefined $TEST_NGINX_XXX is fatal there.  In request/expected sections
# (our extension) undefined variables are left untouched.
sub expand_env ($$) {
    my ($text, $strict) = @_;
    return $text if !defined $text || ref $text;
    my @missing;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        defined $ENV{$1} ? $ENV{$1} : do { push @missing, $1; "\$$1" }
    }ge;
    die "No environment $missing[0] defined.\n" if $strict && @missing;
    return $text;
}

sub expand_expected ($);

sub expand_expected ($) {
    my $v = shift;
    return $v if !defined $v;
    return [map { expand_expected($_) } @$v] if ref $v eq 'ARRAY';
    return $v if ref $v;
    $v = expand_env($v, 0);
    $v =~ s/\$ServerPort(?:ForClient)?\b/$ServerPort/g;
    return $v;
}

sub nginx_version () {
    my $out = `$NginxBinary -V 2>&1`;
    if ($? != 0 || $out !~ m{/(\d+)\.(\d+)\.(\d+)}) {
        bail_out("Failed to run \"$NginxBinary -V\": $out");
    }
    return sprintf "%d.%03d%03d", $1, $2, $3;
}

# ---------------------------------------------------------------- nginx

# Stop whatever nginx we (or a previous run) left behind.
sub stop_nginx ($) {
    my $name = shift;
    my $pid = $ChildPid // $NginxPid;
    if (!$pid && -f $PidFile) {
        # stale pid file (earlier run): only touch it if it is still nginx
        ($pid) = slurp($PidFile) =~ /(\d+)/;
        undef $pid if $pid && slurp("/proc/$pid/cmdline") !~ /nginx/;
    }
    undef $NginxPid;
    return if !$pid;

    my $reap = sub {
        return is_running($pid) if !defined $ChildPid;
        my $r = waitpid($ChildPid, WNOHANG);
        if ($r == $ChildPid || $r == -1) {
            $VgStatus = $? if $r == $ChildPid;
            undef $ChildPid;
            return 0;
        }
        return 1;
    };

    my $alive = $reap->();
    for my $sig (SIGQUIT, SIGTERM) {
        last if !$alive;
        kill $sig, $pid;
        my $deadline = time + ($sig == SIGQUIT ? 5 : 3) * $TimeScale;
        while (($alive = $reap->()) && time < $deadline) {
            sleep 0.02;
        }
    }
    if ($alive) {
        warn "$name - WARNING: killing nginx $pid with SIGKILL\n";
        kill SIGKILL, -$pid;    # process group (valgrind child)
        kill SIGKILL, $pid;
        if (defined $ChildPid) { waitpid($ChildPid, 0); undef $ChildPid }
    }
    unlink $PidFile if -f $PidFile && !is_running($pid);
}

# As upstream: only what Test::Nginx itself makes or nginx keeps per run
# (conf/, html/, logs/, cache/, *_cache, *_temp) is removed; anything else
# left in servroot is somebody's data, and the run bails out.
sub setup_server_root () {
    if (-d $ServRoot) {
        remove_tree($ConfDir, glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"),
                    "$ServRoot/cache", $HtmlDir, $LogDir);
        rmdir $ServRoot
            or bail_out("Can't remove $ServRoot (not empty?): $!");
    }
    for my $d ($ServRoot, $ConfDir, $LogDir, $HtmlDir) {
        next if -d $d;
        make_path($d) or bail_out("Failed to mkdir $d: $!");
    }
    if (open my $out, '>', "$HtmlDir/index.html") {
        print $out '<html><head><title>It works!</title></head>'
                 . '<body>It works!</body></html>';
        close $out;
    }
}

sub write_config_file ($$) {
    my ($block, $config) = @_;
    my ($main, $http, $post_main);
    eval {
        $config    = expand_env($config // '', 1);
        $main      = expand_env($block->main_config // '', 1);
        $http      = expand_env($block->http_config // '', 1);
        $post_main = expand_env($block->post_main_config // '', 1);
    };
    if ($@) {
        chomp(my $e = $@);
        return $e;
    }

    my $daemon = $UseValgrind ? 'off' : 'on';
    my $master = $UseValgrind ? 'off' : $MasterProcessEnabled;
    my $level  = $block->log_level || $LogLevel;
    my $mods   = join '', map { "load_module $_;\n" } grep { length } split /\s+/, $LoadModules;
    my $env    = join '', map { /\s/ ? "env '$_';\n" : "env $_;\n" }
                 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'ASAN_OPTIONS', @EnvToNginx;
    my $user   = $> == 0 ? "user root;\n" : '';
    my $root_loc = $NoRootLocation ? '' : <<_EOC_;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    open my $out, '>', $ConfFile or return "Can't open $ConfFile: $!";
    print $out <<_EOC_;
${mods}worker_processes  $Workers;
daemon $daemon;
master_process $master;
error_log $ErrLogFile $level;
pid       $PidFile;
$user$env
$main

http {
    access_log $AccLogFile;

    default_type text/plain;
    keepalive_timeout  68;

$http

    server {
        listen          $ServerPort;
        server_name     '$ServerName';

        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_loc    }
}

$post_main

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
}
_EOC_
    close $out;
    warn "==== $ConfFile\n", slurp($ConfFile), "====\n" if $Verbose;
    return undef;
}

# Is something listening on our port?  Looks at /proc/net/tcp{,6} rather
# than connecting, so no stray "client closed connection" lines end up in
# error.log.  Falls back to a connect() probe without /proc.
sub port_listening () {
    my $hex = sprintf ':%04X', $ServerPort;
    my $have_proc = 0;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $have_proc = 1;
        while (<$in>) {
            my @c = split ' ';
            return 1 if defined $c[3] && $c[3] eq '0A' && $c[1] =~ /\Q$hex\E$/;
        }
    }
    return 0 if $have_proc;
    my $s = IO::Socket::INET->new(PeerAddr => $ServerAddr, PeerPort => $ServerPort,
                                  Proto => 'tcp', Timeout => 0.5) or return 0;
    close $s;
    return 1;
}

# Start nginx; returns undef on success or an error message.
sub start_nginx ($) {
    my $name = shift;
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    # keep start-up errors out of the compiled-in (system) error log
    push @cmd, '-e', $ErrLogFile if $NginxVersion >= 1.019005;

    if ($UseValgrind) {
        my @vg = ('valgrind', '-q');
        if ($UseValgrind =~ /^\d+$/) {
            # --errors-for-leak-kinds keeps the exit code in line with what
            # --show-possibly-lost=no actually prints
            # --fair-sched: see start_valgrind in Agnitel/Nginx.pm
            push @vg, qw(--tool=memcheck --leak-check=full --show-possibly-lost=no
                         --errors-for-leak-kinds=definite --num-callers=50
                         --gen-suppressions=all --error-exitcode=97
                         --fair-sched=try);
        } else {
            push @vg, split ' ', $UseValgrind;
        }
        for my $supp ($ENV{TEST_NGINX_VALGRIND_SUPP}, 't/valgrind.suppress',
                      'valgrind.suppress')
        {
            push @vg, '--suppressions=' . File::Spec->rel2abs($supp)
                if defined $supp && -f $supp;
        }
        unshift @cmd, @vg;
        my $pid = fork() // return "fork() failed: $!";
        if ($pid == 0) {
            $InChild = 1;
            setpgrp(0, 0);
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>>', $VgLogFile;
            exec @cmd or POSIX::_exit(127);
        }
        $ChildPid = $NginxPid = $pid;
        my $deadline = time + $StartTimeout;
        while (time < $deadline) {
            return undef if port_listening();
            if (waitpid($pid, WNOHANG) == $pid) {
                undef $ChildPid;
                undef $NginxPid;
                return "nginx (under valgrind) exited with status $? during start-up";
            }
            sleep 0.05;
        }
        return "nginx did not listen on port $ServerPort within ${StartTimeout}s";
    }

    my $deadline = time + $StartTimeout;
    while (1) {
        my $pid = fork() // return "fork() failed: $!";
        if ($pid == 0) {
            $InChild = 1;
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>>', $StderrFile;
            exec @cmd or POSIX::_exit(127);
        }
        waitpid($pid, 0);
        my $status = $?;
        if ($status != 0) {
            # the port may still be held by a just-stopped nginx: retry
            if (slurp($StderrFile) =~ /Address already in use/ && time < $deadline) {
                sleep 0.1;
                next;
            }
            return "\"@cmd\" failed with status " . ($status >> 8);
        }
        last;
    }
    # the daemonised nginx writes its pid file right after forking
    while (time < $deadline) {
        ($NginxPid) = slurp($PidFile) =~ /(\d+)/;
        return undef if $NginxPid && port_listening();
        sleep 0.01;
    }
    return "nginx did not listen on port $ServerPort within ${StartTimeout}s";
}

# Lines appended to error.log since the last call (upstream semantics).
sub error_log_data () {
    open my $in, '<', $ErrLogFile or return [];
    seek $in, $ErrLogPos, 0 if !$CheckAccumErrLog && $ErrLogPos > 0;
    my @lines = <$in>;
    $ErrLogPos = tell($in) if !$CheckAccumErrLog;
    close $in;
    return \@lines;
}

# ---------------------------------------------------------------- requests

sub parse_more_headers ($) {
    my $in = shift // '';
    my ($out, $chunked) = ('', 0);
    for my $h (split /\n+/, $in) {
        next if $h =~ /^\s*#/;
        my ($k, $v) = split /:\s*/, $h, 2;
        $v //= '';
        $chunked = 1 if lc($k) eq 'transfer-encoding' && $v eq 'chunked';
        $out .= "$k: $v\r\n";
    }
    return ($out, $chunked);
}

# Build the raw HTTP request like upstream's build_request_from_packets():
# first line "METH [URI [HTTP/x.y]]", the rest is the body (trimmed, with a
# Content-Length, unless chunked or Content-Length is given explicitly).
sub build_request ($$$) {
    my ($name, $req, $more) = @_;
    1 while $req =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
    my ($first, $body) = split /\n/, $req, 2;
    $body //= '';
    if (!defined $first || $first !~ /^\s*(\S+)(?: +(\S+))?(?: +(\S+))?\s*$/) {
        die "$name - Request line is not valid: \"" . ($first // '') . "\"\n";
    }
    my ($meth, $uri, $ver) = ($1, $2 // '/', $3 // 'HTTP/1.1');
    my ($hdrs, $chunked) = parse_more_headers($more);
    my $len = '';
    if (!$chunked && $body ne '' && $hdrs !~ /(?:^|\n)Content-Length:/) {
        $body =~ s/^\s+|\s+$//gs;
        $len = 'Content-Length: ' . length($body) . "\r\n";
    }
    my $h = '';
    $h .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/msi;
    $h .= "Connection: close\r\n" if $hdrs !~ /(?:^|\n)Connection/msi;
    return "$meth $uri $ver\r\n$h$hdrs$len\r\n$body";
}

# Send one raw request, read until the server closes the connection
# (Connection: close).  Returns ($raw_response, $timed_out, $error).
sub send_request ($$) {
    my ($raw, $timeout) = @_;
    my $sock;
    my $deadline = time + 1;
    while (!($sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                PeerPort => $ServerPort, Proto => 'tcp', Timeout => $timeout)))
    {
        return ('', 0, "Can't connect to $ServerAddr:$ServerPort: $!")
            if time > $deadline;
        sleep 0.05;
    }
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my ($resp, $off, $timed_out) = ('', 0, 0);
    while (1) {
        my $want_w = $off < length $raw;
        my ($r, $w) = IO::Select->select($sel, $want_w ? $sel : undef, undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            $timed_out = 1;
            last;
        }
        if ($w && @$w) {
            my $n = syswrite($sock, $raw, length($raw) - $off, $off);
            if (defined $n) { $off += $n }
            elsif ($! != EAGAIN) { $off = length $raw }    # peer closed early
        }
        if ($r && @$r) {
            my $n = sysread($sock, my $buf, 65536);
            if (!defined $n) {
                next if $! == EAGAIN || $! == EINTR;
                last;
            }
            last if $n == 0;
            $resp .= $buf;
        }
    }
    close $sock;
    return ($resp, $timed_out, undef);
}

# Returns a response hash {code, headers => [[k, v]...], raw_headers, body}.
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;
    my $res = { code => undef, headers => [], raw_headers => '', body => '' };
    my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
    return $res if !defined $head || $head eq '';
    $res->{raw_headers} = "$head\r\n";
    my ($status, @lines) = split /\r?\n/, $head;
    $res->{code} = $1 if $status =~ m{^HTTP/\d+(?:\.\d+)?\s+(\d{3})\b};
    for (@lines) {
        push @{ $res->{headers} }, [$1, $2] if /^([^:\s]+)\s*:\s*(.*?)\s*$/;
    }
    $body //= '';
    my $code = $res->{code} // 0;
    if ($code == 304 || $code == 101 || $head_req) {
        $res->{body} = $body;
        return $res;
    }
    my $te  = header_value($res, 'Transfer-Encoding');
    my $len = header_value($res, 'Content-Length');
    if (defined $te && $te eq 'chunked') {
        my $decoded = '';
        while (1) {
            if ($body =~ /\G[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n/gc) {
                my $size = hex $1;
                if ($size == 0) { last }
                if (length($body) - pos($body) < $size + 2) {
                    $res->{error} = "$name - invalid chunked data received "
                                  . "(not enough octets for the data section)";
                    last;
                }
                $decoded .= substr($body, pos($body), $size);
                pos($body) += $size;
                if ($body !~ /\G\r\n/gc) {
                    $res->{error} = "$name - invalid chunked data received (expected CRLF).";
                    last;
                }
            } else {
                $res->{error} = "$name - no last chunk found - " . substr($body, pos($body) // 0);
                last;
            }
        }
        $res->{body} = $decoded;
    } elsif (defined $len && $len =~ /^\d+$/) {
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
               . "but got " . length($body) . "\n";
        }
        $res->{body} = substr $body, 0, $len;
    } else {
        $res->{body} = $body;
    }
    return $res;
}

# Like HTTP::Headers->header: repeated headers are joined with ", ".
sub header_value ($$) {
    my ($res, $key) = @_;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $key } @{ $res->{headers} };
    return @v ? join(', ', @v) : undef;
}

# ---------------------------------------------------------------- checks

# Per-request value of an expectation section.  Upstream bails out when a
# multi-request block has a non-ARRAY expectation; we fail loudly instead.
sub get_indexed ($$$$) {
    my ($name, $v, $idx, $need_array) = @_;
    if (ref $v eq 'ARRAY') {
        return $v->[$need_array ? $idx : 0];
    }
    if ($need_array) {
        fail("$name - You asked for many requests, the expected results "
           . "should be arrays as well (upstream Test::Nginx bails out here)");
    }
    return $v;
}

sub parse_headers ($) {
    my @h;
    for my $l (split /\n/, shift // '') {
        $l =~ s/^\s+|\s+$//g;
        next if $l eq '';
        if ($l =~ s/^!\s*//) { push @h, [$l, undef]; next }
        my ($k, $v) = split /\s*:\s*/, $l, 2;
        push @h, [$k, $v // ''];
    }
    return @h;
}

sub check_response ($$$$$) {
    my ($block, $res, $idx, $rep, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->error_code_like) {
        my $v = get_indexed($name, $block->error_code_like, $idx, $need_array);
        like($res->{code} // '', qr/$v/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        my $v = get_indexed($name, $block->error_code, $idx, $need_array);
        $v =~ s/^\s+|\s+$//g if defined $v && !ref $v;
        is($res->{code} // '', $v, "$name - status code ok");
    } else {
        is($res->{code} // '', 200, "$name - status code ok");
    }

    if (defined $block->raw_response_headers_like) {
        my $v = expand_expected(get_indexed($name, $block->raw_response_headers_like,
                                            $idx, $need_array));
        like($res->{raw_headers}, qr/$v/s, "$name - raw resp headers like");
    }

    if (defined $block->response_headers) {
        my $spec = expand_expected(get_indexed($name, $block->response_headers,
                                               $idx, $need_array));
        for my $h (parse_headers($spec)) {
            my ($k, $v) = @$h;
            if (!defined $v) {
                unlike($res->{raw_headers}, qr/^\s*\Q$k\E\s*:/ms,
                       "$name - header $k not present in the raw headers");
                next;
            }
            is(header_value($res, $k) // '', $v, "$name - header $k ok");
        }
    } elsif (defined $block->response_headers_like) {
        my $spec = expand_expected(get_indexed($name, $block->response_headers_like,
                                               $idx, $need_array));
        for my $h (parse_headers($spec)) {
            my ($k, $v) = @$h;
            like(header_value($res, $k) // '', qr/^$v$/, "$name - header $k like ok");
        }
    }

    my $content = $res->{body};
    if (defined $block->response_body) {
        my $exp = expand_expected(get_indexed($name, $block->response_body,
                                              $idx, $need_array));
        my $desc = "$name - response_body - response is expected "
                 . "(repeated req $rep, req $idx)";
        if (ref $exp) {
            like($content, $exp, "$name - response_body - like (repeated req $rep, req $idx)");
        } elsif ($NoLongString) {
            is($content, $exp, $desc);
        } else {
            is_string($content, $exp, $desc);
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $pats = $type eq 'like' ? $block->response_body_like : $block->response_body_unlike;
        my $pat = expand_expected(get_indexed($name, $pats, $idx, $need_array));
        my $summary = trim($content) // '';
        my $desc = "$name - response_body_$type - response is expected ($summary)";
        if ($type eq 'like') { like($content, qr/$pat/s, $desc) }
        else                 { unlike($content, qr/$pat/s, $desc) }
    }
}

sub to_patterns ($) {
    my $p = shift;
    return [] if !defined $p;
    if (!ref $p) {
        $p = expand_env($p, 0);
        chomp $p;
        return [split /\n+/, $p];
    }
    return [$p] if ref $p eq 'Regexp';
    return [map { ref $_ ? $_ : expand_env($_, 0) } @$p];
}

sub line_matches ($$) {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ /$pat/ : index($line, $pat) >= 0;
}

# As upstream, --- error_log and --- no_error_log are checked after every
# request of a block: a line --- error_log names must be there once the
# first request is answered (a block whose line comes from a later request
# makes the earlier ones with --- init).
sub check_error_log ($$) {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $want = to_patterns($block->error_log);
    my $deny = to_patterns($block->no_error_log);

    # Give nginx a moment (log phase etc.); for --- error_log keep polling
    # until every pattern has shown up (or ~1 s passes).
    sleep $TestNginxSleep * 3;
    my $lines = error_log_data();
    my $deadline = time + 1 * $TimeScale;
    while (@$want && time < $deadline) {
        my $all = 1;
        for my $pat (@$want) {
            next if grep { line_matches($_, $pat) } @$lines;
            $all = 0;
            last;
        }
        last if $all;
        sleep 0.05;
        push @$lines, @{ error_log_data() };
    }

    if (defined $block->error_log) {
        for my $pat (@$want) {
            if (grep { line_matches($_, $pat) } @$lines) {
                pass("$name - pattern \"$pat\" matches a line in error.log (req $rep)");
            } else {
                fail("$name - pattern \"$pat\" should match a line in error.log (req $rep)");
            }
        }
    }

    if (defined $block->no_error_log) {
        for my $pat (@$deny) {
            my $found = 0;
            for my $line (@$lines) {
                next if !line_matches($line, $pat);
                $found++;
                fail("$name - pattern \"" . fmt_str($pat) . "\" should not match any "
                   . "line in error.log but matches line \"" . fmt_str($line)
                   . "\" (req $rep)");
            }
            pass("$name - pattern \"" . fmt_str($pat) . "\" does not match a line "
               . "in error.log (req $rep)") if !$found;
        }
    }

    # upstream warns about unexpected [alert]/[crit]/[emerg] lines
    my $mentioned = join "\n", grep { !ref } @$want, @$deny;
    for my $lvl (qw(alert crit emerg)) {
        next if index($mentioned, "[$lvl") >= 0;
        warn "WARNING: $name - " . fmt_str($_) . "\n" for grep { /\[$lvl\]/ } @$lines;
    }
    for my $line (@$lines) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            chomp(my $l = $line);
            fail("$name - $l");
        }
    }
}

sub check_valgrind ($$) {
    my ($name, $report) = @_;
    my $status = $VgStatus // 0;
    undef $VgStatus;
    my $bad = $report =~ /Invalid (?:read|write|free)|definitely lost|Conditional jump|
                          uninitialised|Mismatched free|Syscall param|destination\ overlap|
                          Process terminating/x;
    if ($bad || ($status >> 8) == 97) {
        fail("$name - valgrind reported memory errors (see $VgLogFile)");
        my @l = split /\n/, $report;
        splice @l, 300 if @l > 300;
        diag(join "\n", @l);
    }
}

# ---------------------------------------------------------------- runner

sub requests_of ($) {
    my $block = shift;
    my $name = $block->name;
    return [$block->raw_request] if defined $block->raw_request && !ref $block->raw_request;
    my $req = $block->request;
    die "$name - request empty\n" if !defined $req;
    my $more = $block->more_headers;
    my @reqs = ref $req eq 'ARRAY' ? @$req : ($req);
    my @out;
    for my $i (0 .. $#reqs) {
        my $r = $reqs[$i];
        $r = join '', map { ref $_ eq 'HASH' ? $_->{value} : $_ } @$r if ref $r eq 'ARRAY';
        my $h = ref $more eq 'ARRAY' ? $more->[$i] : $more;
        die "$name - --- more_headers lacks data for the ${i}th request\n"
            if ref $more eq 'ARRAY' && !defined $h;
        push @out, build_request($name, expand_env($r, 0), expand_env($h, 0));
    }
    return \@out;
}

sub run_block ($$) {
    my ($block, $rep) = @_;
    my $name = $block->name;

    my $config = $block->config;
    if (!defined $config) {
        $config = $PrevConfig;
        bail_out("$name - No '--- config' section specified and could not get previous one")
            if !defined $config;
    }
    $PrevConfig = $config;

    stop_nginx($name);
    setup_server_root();
    if (my $err = write_config_file($block, $config)) {
        fail("$name - failed to write nginx.conf: $err");
        return;
    }
    $ErrLogPos = (-s $ErrLogFile) || 0;
    my $vg_pos = (-s $VgLogFile) || 0;

    if (my $err = start_nginx($name)) {
        fail("$name - nginx failed to start: $err");
        diag("--- tail of $ErrLogFile:\n" . tail_of($ErrLogFile, 30));
        diag("--- stderr:\n" . tail_of($UseValgrind ? $VgLogFile : $StderrFile, 30));
        stop_nginx($name);
        return;
    }

    # as upstream: Perl code run once nginx is up, before the requests
    if (defined $block->init) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    my $reqs = eval { requests_of($block) };
    if ($@) {
        chomp(my $e = $@);
        fail($e);
        return;
    }
    my $timeout = parse_time($block->timeout) // $Timeout;
    $timeout *= $TimeScale;
    my $need_array = @$reqs > 1;

    for my $idx (0 .. $#$reqs) {
        my $raw = $reqs->[$idx];
        my $head_req = $raw =~ /^\s*HEAD\s+/;
        my ($resp, $timed_out, $err) = send_request($raw, $timeout);
        if ($err) {
            fail("$name - $err (aborted)");
            diag("--- tail of $ErrLogFile:\n" . tail_of($ErrLogFile, 20));
        }
        if ($timed_out && !defined $block->abort) {
            fail("ERROR: client socket timed out - $name");
        }
        warn "!!! resp: [$resp]\n" if $Verbose;
        if (!defined $block->ignore_response) {
            my $res = parse_response($name, $resp, $head_req);
            fail($res->{error}) if $res->{error};
            check_response($block, $res, $idx, $rep, $need_array);
        }
        if ($idx < $#$reqs) {
            sleep parse_time($block->wait) if $block->wait;
            check_error_log($block, $rep);
        }
    }
    sleep parse_time($block->wait) if $block->wait;
    check_error_log($block, $rep);

    if ($UseValgrind) {
        stop_nginx($name);
        # only this block's part (the file is fresh unless NO_CLEAN)
        my $report = slurp($VgLogFile);
        check_valgrind($name, length $report > $vg_pos ? substr($report, $vg_pos) : '');
    }
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;
    for my $rep (0 .. $RepeatEach - 1) {
        run_block($block, $rep);
    }
}

sub run_tests () {
    $NginxVersion = nginx_version();
    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks if !$NoShuffle;
    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value('name', "$0 " . $block->name);
        run_test($block);
    }
    # as upstream, the last block's nginx runs on until the script ends
    # (END stops it): code after run_tests() must not need its port
}

# Make Ctrl-C / kill still stop nginx via END.
$SIG{INT} = $SIG{TERM} = sub { exit 1 };

END {
    if (!$InChild && (!$NoClean || $UseValgrind)) {
        local $?;
        stop_nginx('END');
    }
}

1;
__END__

=head1 NAME

Test::Nginx::Socket - local fallback implementation (subset) of test-nginx's
Test::Nginx::Socket.  See t/lib/README.

=cut
