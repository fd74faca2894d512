// Exit codes are part of ha's interface: scripts and monitoring branch on them (docs: README).
export const ExitCode = {
  /** Everything checked passed / the command did what it was asked. */
  OK: 0,
  /** A check found a problem, or the operation failed (details in the output). */
  FAILED: 1,
  /** Bad command-line usage, or a command that is not implemented yet. */
  USAGE: 2,
  /** The configuration file is missing, unreadable or invalid. */
  CONFIG: 3,
  /** A bug in ha: an unexpected exception. */
  INTERNAL: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
