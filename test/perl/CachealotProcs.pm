
# Copyright (c) 2026, cachealot developers

# CachealotProcs: worker processes for TAP tests that run many clients at
# once (010_stress).
#
#   my $procs = CachealotProcs->new(node => $node, dir => $dir,
#       deadline => $epoch, timeout => $seconds);
#   $procs->fork_worker($name, $seed, $work)
#       fork a child that seeds rand() with $seed and runs $work->(): it
#       exits 0 if that returns undef, 1 if it returns a reason or dies (the
#       reason kept in "$dir/$name.failed");
#   $procs->spawn_psql_chunks($name, $seed, $iters, $make_chunk)
#       a worker that, until the deadline, writes the script
#       $make_chunk->($iters) to "$dir/${name}_NNNN.sql" and runs it with
#       psql (output in ..._NNNN.out and .err), chunk after chunk; it stops
#       at the first chunk psql fails;
#   $procs->wait_all
#       wait for every worker: a hash reference, name => exit status;
#   $procs->failure($name)
#       why a worker failed ('' if it did not);
#   $procs->outputs($name)
#       the output files of a psql worker's chunks, in order;
# and on request (use CachealotProcs qw(run_psql_file write_file)):
#   run_psql_file($node, $sqlfile, $out, $err, $timeout)
#       psql -f $sqlfile (ON_ERROR_STOP, unaligned tuples only) against the
#       node's database "postgres", stdout and stderr to the files $out and
#       $err: its exit status, or -1 if it timed out;
#   write_file($file, $text).
#
# A child never touches Test::More and leaves with POSIX::_exit: no END
# blocks, since the node and the temporary directory belong to the parent.

package CachealotProcs;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time);

our @EXPORT_OK = qw(run_psql_file write_file);

sub new
{
	my ($class, %args) = @_;
	return bless { %args, pids => {} }, $class;
}

sub run_psql_file
{
	my ($node, $sqlfile, $out, $err, $timeout) = @_;
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres'), '-f', $sqlfile
		],
		'<', \undef, '>', $out, '2>', $err,
		IPC::Run::timeout($timeout));
	my $ok = eval { $h->finish; 1 };
	return $ok ? $h->full_result(0) : -1;
}

sub write_file
{
	my ($file, $text) = @_;
	open my $fh, '>', $file or die "could not write $file: $!";
	print $fh $text;
	close $fh or die "could not write $file: $!";
}

sub fork_worker
{
	my ($self, $name, $seed, $work) = @_;
	my $pid = fork();
	die "fork failed: $!" unless defined $pid;
	if ($pid)
	{
		$self->{pids}{$name} = $pid;
		return $pid;
	}

	my $rc = 0;
	eval {
		srand($seed);
		my $why = $work->();
		if (defined $why)
		{
			write_file("$self->{dir}/$name.failed", $why);
			$rc = 1;
		}
		1;
	} or do {
		write_file("$self->{dir}/$name.failed", "died: $@");
		$rc = 1;
	};
	POSIX::_exit($rc);
}

sub spawn_psql_chunks
{
	my ($self, $name, $seed, $iters, $make_chunk) = @_;
	return $self->fork_worker(
		$name, $seed,
		sub {
			my $n = 0;
			while (time < $self->{deadline})
			{
				$n++;
				my $base = sprintf('%s/%s_%04d', $self->{dir}, $name, $n);
				write_file("$base.sql", $make_chunk->($iters));
				my $res = run_psql_file($self->{node}, "$base.sql", "$base.out",
					"$base.err", $self->{timeout});
				return "chunk $n: psql exit status $res\n"
				  . slurp_file("$base.err")
				  if $res != 0;
			}
			return undef;
		});
}

sub wait_all
{
	my ($self) = @_;
	my %exit;
	for my $name (sort keys %{ $self->{pids} })
	{
		waitpid($self->{pids}{$name}, 0);
		$exit{$name} = $? >> 8;
	}
	return \%exit;
}

sub failure
{
	my ($self, $name) = @_;
	my $file = "$self->{dir}/$name.failed";
	return -e $file ? slurp_file($file) : '';
}

sub outputs
{
	my ($self, $name) = @_;
	return sort glob("$self->{dir}/${name}_*.out");
}

1;
