// known_hosts lookup, as OpenSSH does it: plain and hashed (|1|salt|hmac) host patterns,
// [host]:port for non-22 ports, wildcards and negation, @revoked markers.
// Hand-written because no maintained npm package parses OpenSSH's known_hosts format (sshpk
// and ssh2 parse keys, not this file); it is small and fully unit-tested.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: '@revoked' | '@cert-authority';
  patterns: string;
  keyType: string;
  keyBase64: string;
}

export type HostKeyVerdict =
  { kind: 'match'; entry: KnownHostEntry } | { kind: 'mismatch'; expected: KnownHostEntry[] } | { kind: 'revoked'; entry: KnownHostEntry } | { kind: 'unknown' };

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields.shift() as KnownHostEntry['marker'];
    }
    const [patterns, keyType, keyBase64] = fields;
    if (!patterns || !keyType || !keyBase64) return; // OpenSSH skips malformed lines too
    entries.push({ file, line: i + 1, marker, patterns, keyType, keyBase64 });
  });
  return entries;
}

/** The name OpenSSH looks up: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const hmac = createHmac('sha1', salt).update(name).digest('base64');
  return hmac === parts[3];
}

/** OpenSSH semantics: any positive match and no negated match. */
export function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(name)) return false;
    } else if (globToRegExp(p).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** The key type named inside an SSH public key blob (string length-prefixed). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function verifyHostKey(entries: KnownHostEntry[], host: string, port: number, blob: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const b64 = blob.toString('base64');
  const forHost = entries.filter((e) => e.marker !== '@cert-authority' && hostMatches(e.patterns, name));
  const revoked = forHost.find((e) => e.marker === '@revoked' && e.keyBase64 === b64);
  if (revoked) return { kind: 'revoked', entry: revoked };
  const match = forHost.find((e) => !e.marker && e.keyBase64 === b64);
  if (match) return { kind: 'match', entry: match };
  // Only a recorded key of the same type is evidence of a changed key; a host that just offers
  // another algorithm than the one recorded is "unknown" for that algorithm, as in OpenSSH.
  const type = keyTypeOfBlob(blob);
  const sameType = forHost.filter((e) => !e.marker && e.keyType === type);
  if (sameType.length > 0) return { kind: 'mismatch', expected: sameType };
  return { kind: 'unknown' };
}

export function loadKnownHosts(files: string[]): { entries: KnownHostEntry[]; missing: string[] } {
  const entries: KnownHostEntry[] = [];
  const missing: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      missing.push(file);
      continue;
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return { entries, missing };
}
