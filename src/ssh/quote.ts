// POSIX shell quoting for the remote command line: every argument is a single-quoted word,
// so file names from the server (binlog paths) can never be read as shell syntax.
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
