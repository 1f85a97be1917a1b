# Writes shared between workers: with two workers, an import may be
# committed by the other worker's commit (see ngx_http_agnitel_ring.h).
# Clients see every import answered with its own outcome, a number
# imported through both workers at once written once, and all of it on
# disk; a worker killed and replaced, or a reload, loses nothing.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Agnitel::Nginx;

plan skip_all => 'starts its own master and workers; not run under valgrind'
    if $ENV{TEST_NGINX_USE_VALGRIND};

my $n = Agnitel::Nginx->new(name => 'shared',
                            port => Agnitel::Nginx::test_port(39));
$n->write_file('secret.key', 's' x 32);

# debug: each commit logs how many of its writes other workers queued
$n->write_config(<<'END', workers => 2, log_level => 'debug');
    agnitel_store store;
    agnitel_secret_key_file secret.key;
    agnitel_sip_termination_uri sip:trunk.example.com;

    server {
        listen 127.0.0.1:$PORT;
        location /api/ { agnitel_api; }
        location /admin/ { agnitel_admin; }
    }
END
$n->start;
$n->workspace(1);

sub import_body {
    my ($number, $name) = @_;
    return qq({"phone_number":"$number","friendly_name":"$name",)
         . qq("sip_username":"u","sip_password":"p"});
}

sub imports {
    my ($prefix, $count) = @_;
    return map {
        [POST => '/api/v1/phone-numbers/import',
         import_body(sprintf('+1%s%04d', $prefix, $_), "Line $_")]
    } 1 .. $count;
}

# gone, or a zombie its master has yet to reap
sub dead {
    my ($pid) = @_;
    open my $stat, '<', "/proc/$pid/stat" or return 1;
    return (split ' ', <$stat>)[2] eq 'Z';
}

sub total {
    my (undef, $body) = $n->api(1, GET => '/api/v1/phone-numbers?limit=1');
    return $body =~ /"total":(\d+)/ ? $1 : -1;
}

# --- 40 imports at once, a round at a time, until a commit has carried
# writes another worker queued (the kernel spreads the connections)

my ($rounds, $answered, $shared) = (0, 0, 0);

while ($rounds < 25 && !$shared) {
    $rounds++;
    my @answers = $n->at_once(1, imports(sprintf('415%03d', $rounds), 40));
    $answered += grep { $_->[0] == 201 } @answers;
    $shared = () = $n->error_log
        =~ /agnitel commit of \d+ writes, [1-9]\d* of other workers/g;
}

is($answered, 40 * $rounds, "all 40 imports of each of $rounds rounds: 201");
ok($shared, 'a commit ran writes another worker queued');
is(total(), 40 * $rounds, 'the store holds them all');

my $imported = 40 * $rounds;

# --- one number through both workers at once, among others: one wins

my @requests = (imports('212555', 30),
                map { [POST => '/api/v1/phone-numbers/import',
                       import_body('+12125559999', "Twin $_")] } 1 .. 6);
my @answers = $n->at_once(1, @requests);

is(scalar(grep { $_->[0] == 201 } @answers[0 .. 29]), 30,
   'the 30 new numbers are imported');
like($answers[$_][1], qr/"friendly_name":"Line @{[$_ + 1]}"/,
     "import @{[$_ + 1]} answers with its own number") for 0, 29;
is(join(' ', sort map { $_->[0] } @answers[30 .. 35]),
   '201 409 409 409 409 409',
   'a number imported six times at once: one 201, five 409');
$imported += 31;
is(total(), $imported, 'the store holds each number once');

# --- more at once than a worker's 64 slots: the rest commit on their own

@answers = $n->at_once(1, imports('313555', 200));
is(scalar(grep { $_->[0] == 201 } @answers), 200,
   '200 imports at once are all answered 201');
$imported += 200;
is(total(), $imported, 'and all written');

# --- a worker killed inside a commit, holding LMDB's writer lock and the
# writes it took of the other worker.  gdb stops the worker at a function
# of LMDB that only a commit task calls here, and kills it; tried again
# until the commit it stopped in held writes of the other worker.  Returns
# how many it held, the answers of the round it cut, and their numbers'
# prefix.

sub kill_in_commit {
    my ($function) = @_;
    my ($tries, $held, $answers, $prefix) = (0, 0);
    my $log = length $n->error_log;

    while (!$held && $tries < 30) {
        my $victim = ($n->worker_pids)[$tries++ % 2];

        my $gdb = fork // die "fork: $!";

        if ($gdb == 0) {
            open STDOUT, '>', '/dev/null';
            open STDERR, '>&', \*STDOUT;
            exec 'gdb', '-p', $victim, '-batch', '-nx',
                 '-ex', "break $function", '-ex', 'continue', '-ex', 'kill';
            exit 1;
        }

        # rounds until one runs into the breakpoint (gdb, attaching, lets
        # the first ones by): that round's answers wait for the kill
        for my $round (1 .. 100) {
            $prefix = sprintf('%d%02d%02d', length $function, $tries, $round);
            $answers = [$n->at_once(1, imports($prefix, 40))];
            last if dead($victim);
        }

        waitpid $gdb, 0;

        $n->wait_for(sub {
            my @w = $n->worker_pids;
            @w == 2 && !grep { $_ == $victim } @w;
        }, 'a new worker');

        my @commits = substr($n->error_log, $log) =~
            /\] $victim#\d+: agnitel commit of \d+ writes, (\d+) of other/g;
        $held = $commits[-1] // 0;
    }

    ok($held, "killed in $function, a worker held $held writes of the "
              . "other worker, at try $tries");

    return ($held, [map { $_->[0] // 'lost' } @$answers], $answers, $prefix);
}

sub numbers_answered {
    my ($status, $statuses, $prefix) = @_;
    return map { sprintf('+1%s%04d', $prefix, $_ + 1) }
           grep { $statuses->[$_] eq $status } 0 .. $#$statuses;
}

SKIP: {
    skip 'gdb is not installed', 12 if system('command -v gdb >/dev/null');

    # --- before its commit: the writes it held are run again

    my $log = length $n->error_log;
    my ($held, $statuses, undef, $prefix) = kill_in_commit('mdb_put');
    my @stored = numbers_answered('201', $statuses, $prefix);
    my $lost = grep { $_ eq 'lost' } @$statuses;

    is(@stored + $lost, 40, 'its round: ' . @stored . ' imports answered '
       . "201, $lost connections lost with the worker, nothing else");
    cmp_ok(scalar @stored, '>=', $held,
           'the other worker\'s writes it held are answered 201');
    like(substr($n->error_log, $log),
         qr/agnitel: (a commit takes up \d+ writes|taking up the writes) of a worker that died/,
         'the take-up is logged');
    is(join(' ', grep { ($n->api(1, GET => "/api/v1/phone-numbers/$_"))[0]
                        != 200 } @stored),
       '', 'every import answered 201 is stored');

    # --- inside its commit: the writes it held answer 500, and say why

    ($held, $statuses, my $answers, $prefix) =
        kill_in_commit('mdb_txn_commit');
    my @unknown = numbers_answered('500', $statuses, $prefix);
    @stored = numbers_answered('201', $statuses, $prefix);
    $lost = grep { $_ eq 'lost' } @$statuses;

    is(@unknown, $held, 'the other worker\'s writes it held answer 500');
    is(@stored + @unknown + $lost, 40, 'the others 201, or lost with it');
    is(scalar(grep { ($_->[0] // 0) == 500 && $_->[1] =~
                     /"a worker stopped while saving the change: read it back to learn whether it was saved","error":\{"code":"internal_error"\}/
                   } @$answers),
       scalar @unknown, 'each says the change may or may not be saved');
    is(join(' ', map { ($n->api(1, GET => "/api/v1/phone-numbers/$_"))[0] }
                 @unknown),
       join(' ', ('404') x @unknown),
       'read back: they were not (the commit never ran)');
    is(join(' ', map { ($n->api(1, POST => '/api/v1/phone-numbers/import',
                                import_body($_, 'Again')))[0] } @unknown),
       join(' ', ('201') x @unknown), 'and imported again: 201');
    is(join(' ', grep { ($n->api(1, GET => "/api/v1/phone-numbers/$_"))[0]
                        != 200 } @stored),
       '', 'every import answered 201 is stored');

    # the lost ones may or may not have been run: count what is stored
    $imported = total();
}

# --- a worker killed: its successor and the other go on

my ($victim) = $n->worker_pids;
kill 'KILL', $victim;
$n->wait_for(sub {
    my @w = $n->worker_pids;
    @w == 2 && !grep { $_ == $victim } @w;
}, 'a new worker');

@answers = $n->at_once(1, imports('646555', 40));
is(scalar(grep { $_->[0] == 201 } @answers), 40,
   'after a worker was killed, 40 imports at once: 201');
$imported += 40;
is(total(), $imported, 'and written');

# --- a reload: the new workers share a ring of their own

$n->reload;

@answers = $n->at_once(1, imports('718555', 40));
is(scalar(grep { $_->[0] == 201 } @answers), 40,
   'after a reload, 40 imports at once: 201');
$imported += 40;
is(total(), $imported, 'and written');

my @alerts = grep { !/exited on signal 9|stopped before it told the outcome/ }
             $n->error_log =~ /^.*\[(?:alert|crit|emerg)\].*$/mg;
is("@alerts", '', 'no alert but the killed worker\'s');
unlike($n->error_log, qr/signal 11/, 'and no crash');

# --- what was answered is on disk: SIGKILL, no shutdown, and a new start

my @pids = ($n->master_pid, $n->worker_pids);
kill 'KILL', @pids;
$n->wait_for(sub { !grep { kill 0, $_ } @pids }, 'nginx to die');
unlink $n->prefix . '/logs/nginx.pid';

$n->start;
is(total(), $imported, 'after SIGKILL the store holds every import answered');

$n->stop;
unlike($n->error_log, qr/open socket .* left/,
       'workers leave no descriptor open at exit');

done_testing;
