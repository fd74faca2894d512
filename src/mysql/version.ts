// @@version strings as servers report them, turned into a comparable ServerVersion.
//   MySQL:   "5.7.44-log", "8.0.36", "8.4.3", "9.1.0", Percona "8.0.35-27"
//   MariaDB: "10.11.19-MariaDB-0+deb12u1-log", "11.4.2-MariaDB", and "5.5.5-10.6.12-MariaDB"
//            (the handshake's server version: MariaDB < 11 prefixes "5.5.5-" so that old MySQL
//            clients do not mistake a 10.x server for a 3.x one).

import type { ServerVersion } from './types.js';

const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)(?![\d.])/;
const MARIADB_RE = /mariadb/i;
/** The fake "5.5.5-" prefix in front of a real MariaDB version. */
const RPL_HACK_RE = /^5\.5\.5-(?=\d+\.\d+\.\d+)/;

/**
 * Parses @@version (and optionally @@version_comment, which names the flavor on some builds).
 * Throws on anything that does not start with major.minor.patch.
 */
export function parseVersion(raw: string, comment?: string): ServerVersion {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new Error(`cannot parse server version ${JSON.stringify(raw)}: it is empty`);
  }
  const text = raw.trim();
  const mariadb = MARIADB_RE.test(text) || (comment !== undefined && MARIADB_RE.test(comment));
  const numbers = mariadb ? text.replace(RPL_HACK_RE, '') : text;
  const m = VERSION_RE.exec(numbers);
  if (!m) {
    throw new Error(`cannot parse server version ${JSON.stringify(raw)}: expected major.minor.patch, e.g. "8.0.36" or "10.11.6-MariaDB"`);
  }
  const version: ServerVersion = {
    flavor: mariadb ? 'mariadb' : 'mysql',
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    raw: text,
  };
  if (comment !== undefined && comment !== '') version.comment = comment;
  return version;
}

/** True when version >= major.minor.patch (flavor is not compared: callers check it first). */
export function atLeast(v: ServerVersion, major: number, minor = 0, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

/** "MySQL 8.0.36" / "MariaDB 10.11.19": for messages. */
export function describeVersion(v: ServerVersion): string {
  return `${v.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${v.major}.${v.minor}.${v.patch}`;
}
