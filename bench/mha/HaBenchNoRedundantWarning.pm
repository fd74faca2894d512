# Runtime shim for MHA 0.58 on Perl >= 5.22 (npm run bench:binlog), loaded with
#   PERL5LIB=bench/mha PERL5OPT=-MHaBenchNoRedundantWarning apply_diff_relay_logs …
# MHA's files are left untouched. Every MHA file says `use warnings FATAL => 'all'`, and Perl 5.22
# added the warning category 'redundant' to 'all' ("Redundant argument in sprintf"), so
# MHA::NodeUtil::parse_mysql_version, which formats a version string with sprintf('%03d%03d%03d',
# all-the-numbers-in-it), dies on any version with more than three numbers, such as MariaDB's
# "10.11.19-MariaDB-0+deb12u1-log". This shim takes 'redundant' out of 'all' before MHA's code is
# compiled: the same as adding `no warnings 'redundant';` after each `use warnings FATAL => 'all';`.
# sprintf then ignores the extra arguments, as it always did (the warning never changed the result).
package HaBenchNoRedundantWarning;
use strict;
use warnings ();
# warnings.pm keeps one bit per category in %warnings::Bits and one "fatal" bit (the next one) in
# %warnings::DeadBits; `use warnings FATAL => 'all'` ORs in $Bits{all} and $DeadBits{all}.
vec( $warnings::Bits{all},     $warnings::Offsets{redundant},     1 ) = 0;
vec( $warnings::DeadBits{all}, $warnings::Offsets{redundant} + 1, 1 ) = 0;
1;
