#!/usr/bin/perl
# MHA's exact relay-log position search, without writing a diff (npm run bench:binlog).
#
# `apply_diff_relay_logs --command=find` only finds the relay-log FILE that holds a master
# coordinate (it sets find_logname_only=1 and reads the first events of each file). The file AND
# offset, which is what `ha binlog find` prints, are searched by `--command=generate` before it
# writes the diff. This script runs that search alone, with MHA's own modules (Debian's
# mha4mysql-node, unchanged), mirroring apply_diff_relay_logs' find_starting_relay_log():
#   1. fast_find_pos: when the target is in the master file the slave is reading now, the offset is
#      computed from the last relay log's size, then checked with mysqlbinlog;
#   2. otherwise MHA::BinlogPosFindManager->find_target_relay_log (find_logname_only => 0) reads the
#      relay logs backwards to the right file, then that file's event headers up to the position.
# Prints "start_file:<relay file> start_pos:<offset>" (or "received all") and exits 0 when found.
#
# Usage: find-offset.pl --relay_log_info=F --server_id=N --latest_mlf=F --latest_rmlp=N
#                       --target_mlf=F --target_rmlp=N
use strict;
use warnings FATAL => 'all';
use Getopt::Long;
use MHA::BinlogManager;
use MHA::BinlogPosFindManager;
use MHA::NodeConst;

GetOptions( \my %opt, qw/relay_log_info=s server_id=i latest_mlf=s latest_rmlp=i target_mlf=s target_rmlp=i/ )
  or die "usage: $0 --relay_log_info=F --server_id=N --latest_mlf=F --latest_rmlp=N --target_mlf=F --target_rmlp=N\n";
for (qw/relay_log_info server_id latest_mlf latest_rmlp target_mlf target_rmlp/) {
  die "--$_ must be set\n" unless defined $opt{$_};
}

$| = 1;
my $bm = new MHA::BinlogManager( handle_raw_binlog => 1 );
$bm->init_from_relay_log_info( $opt{relay_log_info}, undef );
print "Relay log found at $bm->{dir}, up to $bm->{end_log}\n";

my %start;
# apply_diff_relay_logs: fast_find_pos()
if ( $opt{target_mlf} eq $opt{latest_mlf} ) {
  my $offset    = $opt{latest_rmlp} - $opt{target_rmlp};
  my $filesize  = -s "$bm->{dir}/$bm->{end_log}";
  my $start_rlp = $filesize - $offset;
  if ( $start_rlp > 0
    && system("$bm->{mysqlbinlog} --start-position=$start_rlp --stop-position=$start_rlp $bm->{dir}/$bm->{end_log} > /dev/null") == 0 )
  {
    %start = ( status => 0, start_rlf => $bm->{end_log}, start_rlp => $start_rlp );
    print "Fast relay log position search succeeded.\n";
  }
}
# apply_diff_relay_logs: find_starting_relay_log(), as --command=generate runs it
unless (%start) {
  %start = new MHA::BinlogPosFindManager(
    binlog_manager    => $bm,
    server_id         => $opt{server_id},
    target_mlf        => $opt{target_mlf},
    target_rmlp       => $opt{target_rmlp},
    find_logname_only => 0,
  )->find_target_relay_log( $bm->{end_log}, $opt{latest_mlf}, 0 );
}
if ( defined $start{status} && $start{status} == $MHA::NodeConst::Target_Has_Received_All_Relay_Logs ) {
  print "received all\n";
  exit 0;
}
if ( !defined $start{status} || $start{status} != 0 || !$start{start_rlf} || !defined $start{start_rlp} ) {
  print "NOT FOUND (status " . ( $start{status} // 'undef' ) . ")\n";
  exit 1;
}
print "start_file:$start{start_rlf} start_pos:$start{start_rlp}\n";
exit 0;
