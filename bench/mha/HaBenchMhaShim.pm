# The whole runtime shim the bench loads into MHA 0.58 (manager and node tools), with
#   PERL5LIB=bench/mha PERL5OPT=-MHaBenchMhaShim
# (one module, so the SSH sessions on the lab hosts can get it from one sshd SetEnv line).
# The order matters: the warnings change must be in place before any MHA module is compiled.
package HaBenchMhaShim;
use strict;
use warnings;
use HaBenchNoRedundantWarning ();
use HaBenchNoSuperReadOnly ();
1;
