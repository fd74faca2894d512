# Runtime shim for MHA 0.58 on MariaDB (npm run bench), loaded with
#   PERL5LIB=bench/mha PERL5OPT='-MHaBenchNoRedundantWarning -MHaBenchNoSuperReadOnly'
# MHA's files are left untouched. MHA 0.58 asks every slave `SELECT @@global.super_read_only`
# (MHA::SlaveUtil::check_if_super_read_only, from masterha_check_repl, the manager's failover and
# apply_diff_relay_logs on the slaves) with RaiseError on, and MariaDB has no such variable, so the
# query dies with "Unknown system variable 'super_read_only'". This shim lets that one error mean
# what it means on MariaDB, "super_read_only is not on" (the sub's own answer (0, 0)), and passes
# every other error and every answer of a server that has the variable through unchanged.
package HaBenchNoSuperReadOnly;
use strict;
use warnings;
use MHA::SlaveUtil ();

{
  no warnings 'redefine';
  my $original = \&MHA::SlaveUtil::check_if_super_read_only;
  *MHA::SlaveUtil::check_if_super_read_only = sub {
    my @args   = @_;
    my @result = eval { $original->(@args) };
    if ($@) {
      return ( 0, 0 ) if $@ =~ /Unknown system variable 'super_read_only'/;
      die $@;
    }
    return @result;
  };
}
1;
