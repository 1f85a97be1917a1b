package Agnitel::Prism;

# Prism ("prism mock", from package-lock.json) serving one of Twilio's
# OpenAPI descriptions, for the contract suites of t/contract/: the
# examples it will answer with, Prism started and never left behind, its
# log cut into one block per request, and the markers of a request its
# validator rejected, with the tests the suites share over them.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Test::More ();
use Time::HiRes qw(sleep time);

# the one "npm ci" installs in the repository
our $BINARY = abs_path(dirname(__FILE__) . '/../../..')
              . '/node_modules/.bin/prism';

# A rejection reads "Request did not pass the validation rules", one
# "[VALIDATOR] ... error" line per violation, then "Request terminated with
# error".  "Violation: response..." lines are Prism checking Twilio's
# examples against Twilio's schemas: not about what we sent.
our $REJECTED = qr/Request[ ]did[ ]not[ ]pass[ ]the[ ]validation[ ]rules
                  |\[VALIDATOR\](?!.*Violation:[ ]response\.).*(?:warning|error)
                  |Request[ ]terminated[ ]with[ ]error/x;

# the signals a test exits on through the END blocks
my @SIGNALS = qw(INT TERM HUP PIPE);

# every instance started, and the test's own pid: only the test stops them
my @started;
my $parent = $$;

# Whatever happens, neither Prism nor the nginx calling it outlive the
# test.  Signals are ignored from here on: during END perl no longer calls
# their handlers, so a Ctrl-C while these stop would kill the test
# outright and leave them running.
END {
    local $?;
    return unless $$ == $parent;

    $SIG{$_} = 'IGNORE' for @SIGNALS;

    for my $prism (@started) {
        # an nginx slow to quit must not keep Prism running
        eval { stop_nginx($prism->{nginx}) if $prism->{nginx}; 1 }
            or warn $@;
        $prism->stop;
    }
}

sub stop_nginx {
    my ($n) = @_;

    # a signal during its start: it listens already but its master has not
    # written its pid file yet, and stop() would leave it running
    eval { wait_for(sub { $n->master_pid }, "nginx's pid file", 2) }
        if !$n->master_pid && port_open($n->port);

    $n->stop;
}


# --- what Prism will answer

# the description, decoded
sub read_spec {
    my ($file) = @_;

    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return JSON::PP->new->utf8->decode(scalar <$fh>);
}

# The examples (name => value) of the answer to $method $path with
# $status, by default the one Prism serves: the lowest 2xx, as its
# negotiator picks.  Prism then serves the first example of it; a decoded
# hash has no order, so a caller needing one must have them agree.
sub examples {
    my ($oai, $path, $method, $status) = @_;

    my $responses = $oai->{paths}{$path}{$method}{responses}
        or die "the description has no $method $path\n";
    ($status) = sort grep { /^2\d\d$/ } keys %$responses
        unless defined $status;

    my $examples = $responses->{$status // ''}
                   {content}{'application/json'}{examples}
        or die "the description has no example for $method $path\n";

    return { map { $_ => $examples->{$_}{value} } keys %$examples };
}


# --- Prism itself

# spec: the description; port: where it listens; nginx: the
# Agnitel::Nginx calling it, stopped first when the test ends; log: where
# Prism's output goes, by default logs/prism.log in nginx's prefix (which
# Agnitel::Nginx->new wipes first)
sub new {
    my ($class, %opt) = @_;

    $opt{log} //= $opt{nginx}->prefix . '/logs/prism.log';
    return bless { %opt }, $class;
}

sub port { $_[0]{port} }
sub log_file { $_[0]{log} }

sub port_open {
    my ($port) = @_;
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Proto => 'tcp');
}

# Prism answers a request its validator rejects with a 4xx of its own
# (401, 415, 422), so the API answer fails too, not only the log check.
# No --errors: it only adds 500s for *responses* that do not match the
# schema, and Twilio's own examples do not always (the 2010 Local.json
# example has "latitude": "19.720000", a string where the schema says
# number): that is Twilio's description disagreeing with itself, not the
# module.
sub start {
    my ($self) = @_;

    # a server left on the port would answer in Prism's place, and its log
    # is not ours: the checks would be meaningless
    die "port $self->{port} is taken: the contract suite needs it for Prism\n"
        if port_open($self->{port});

    # a signal (Ctrl-C, prove gone: SIGPIPE) exits through the END blocks
    # instead of killing the test where it stands, Prism and nginx running
    $SIG{$_} = sub { exit 1 } for @SIGNALS;

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        # no die here: it would run the test's END blocks in the child
        open STDOUT, '>', $self->{log} or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        open STDIN, '<', '/dev/null';
        { exec $BINARY, 'mock', '-h', '127.0.0.1', '-p', $self->{port},
               $self->{spec} }
        print STDERR "exec $BINARY: $!\n";
        POSIX::_exit(127);
    }

    $self->{pid} = $pid;
    push @started, $self;

    my $started = time;

    wait_for(sub {
        # died on its own: a broken install or a spec it cannot read
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $self->{pid};
            die "Prism exited at start:\n" . tail($self->{log});
        }
        port_open($self->{port});
    }, 'Prism to listen', 60);

    Test::More::note(sprintf 'Prism listening after %.1fs, log in %s',
                             time - $started, $self->{log});
    return $self;
}

# TERM, and KILL if it is still there 5 s later
sub stop {
    my ($self) = @_;

    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;

    my $deadline = time + 5;
    while (waitpid($pid, POSIX::WNOHANG()) == 0) {
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            last;
        }
        sleep 0.05;
    }
}

sub wait_for {
    my ($cond, $what, $timeout) = @_;

    my $deadline = time + ($timeout || 10);
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.02;
    }
    die "timed out waiting for $what\n";
}

# the last lines of a file, for a message
sub tail {
    my ($file) = @_;
    open my $fh, '<', $file or return "($file: $!)";
    my @lines = <$fh>;
    return join '', @lines[-(@lines < 30 ? @lines : 30) .. -1];
}


# --- what Prism made of it

sub log_text {
    my ($self) = @_;
    open my $fh, '<', $self->{log} or return '';
    local $/;
    return scalar <$fh>;
}

# Prism logs each request as a block: "[HTTP SERVER] get /path ...
# Request received", then its validator's verdict.  The suites send one
# request at a time, so the blocks do not interleave.  Each is
# { request => "GET /path", log => its lines }.
sub requests {
    my ($self) = @_;

    my @calls;
    for (split /\n/, $self->log_text) {
        if (/\[HTTP SERVER\] (\w+) (\S+) .*Request received/) {
            push @calls, { request => uc($1) . " $2", log => '' };
        }
        $calls[-1]{log} .= "$_\n" if @calls;
    }
    return @calls;
}

# one test per request: it passed Prism's validator, and nothing in its
# block says otherwise
sub validator_accepts {
    my ($self, @calls) = @_;

    for my $call (@calls) {
        my $log = $call->{log};
        my $ok = $log =~ /The request passed the validation rules/
                 && $log !~ $REJECTED;

        Test::More::ok($ok, "Prism's validator accepts $call->{request}")
            or Test::More::diag($log);
    }
}

# two tests over the whole log, blocks or not (only the offending lines
# on failure): no rejection anywhere
sub no_rejection {
    my ($self) = @_;

    my $all = $self->log_text;
    my @lines = split /\n/, $all;
    Test::More::is_deeply(
        [grep { /Request did not pass the validation rules/ } @lines], [],
        'Prism\'s log has no "Request did not pass the validation rules"');
    Test::More::is_deeply([grep { $_ =~ $REJECTED } @lines], [],
                          'nor any other violation');

    my $examples = () = $all =~ /Violation: response\./g;
    Test::More::note("Prism found $examples violations in Twilio's examples"
                     . ' (not ours)')
        if $examples;
}

# The checks above are only as good as the markers they look for: a
# request Prism must reject, sent straight to it ($method, $path and
# HTTP::Tiny's options: headers, content), has to trip them, or a Prism
# that logs differently would let every future violation through.  Two
# tests.
sub canary {
    my ($self, $method, $path, $opt) = @_;

    my $res = HTTP::Tiny->new(timeout => 10)->request($method,
        "http://127.0.0.1:$self->{port}$path", $opt || {});
    Test::More::ok($res->{status} >= 400 && $res->{status} < 500,
                   "Prism refuses an invalid request ($res->{status})");

    my $tail;
    wait_for(sub {
        ($tail) = $self->log_text =~ /.*(Request received.*)/s;
        defined $tail && $tail =~ /Request terminated/;
    }, 'Prism to log the invalid request');

    Test::More::like($tail, $REJECTED,
                     'and the markers this suite looks for see it');
}

1;
