// Typed SSH failures. A DBA reading "ssh to 10.0.0.5:22 failed" cannot act; one reading
// "host key mismatch" or "connection refused" can, so every failure is classified.

export type SshFailureKind =
  | 'unreachable' // no route / host down / network cut
  | 'refused' // host up, nothing listening on the SSH port
  | 'timeout' // TCP connect or handshake did not finish in time
  | 'auth' // the server rejected every key we offered
  | 'host-key-unknown' // no known_hosts entry for this host
  | 'host-key-mismatch' // a known_hosts entry exists with a different key
  | 'host-key-revoked'
  | 'key-file' // our own private key could not be read or parsed
  | 'dns' // host name did not resolve
  | 'closed' // the connection dropped after it was established
  | 'other';

export class SshError extends Error {
  readonly kind: SshFailureKind;
  readonly host: string;
  readonly port: number;
  constructor(kind: SshFailureKind, host: string, port: number, detail: string) {
    super(`ssh ${host}:${port}: ${describeKind(kind)}: ${detail}`);
    this.name = 'SshError';
    this.kind = kind;
    this.host = host;
    this.port = port;
  }
}

/** A remote command (or stream) that did not finish within its timeout. */
export class SshCommandTimeoutError extends Error {
  readonly host: string;
  readonly timeoutMs: number;
  constructor(host: string, what: string, timeoutMs: number) {
    super(`ssh ${host}: timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'SshCommandTimeoutError';
    this.host = host;
    this.timeoutMs = timeoutMs;
  }
}

export function describeKind(kind: SshFailureKind): string {
  switch (kind) {
    case 'unreachable':
      return 'host unreachable';
    case 'refused':
      return 'connection refused';
    case 'timeout':
      return 'connection timed out';
    case 'auth':
      return 'authentication failed';
    case 'host-key-unknown':
      return 'unknown host key';
    case 'host-key-mismatch':
      return 'HOST KEY MISMATCH';
    case 'host-key-revoked':
      return 'host key revoked';
    case 'key-file':
      return 'private key unusable';
    case 'dns':
      return 'host name does not resolve';
    case 'closed':
      return 'connection closed';
    default:
      return 'failed';
  }
}

/** Classify a low-level error from ssh2 or the socket underneath it. */
export function classifySshError(err: unknown): SshFailureKind {
  const e = err as { code?: string; level?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'closed';
    default:
      break; // not a socket error: ssh2's level says what it was
  }
  if (e.level === 'client-timeout') return 'timeout';
  if (e.level === 'client-authentication') return 'auth';
  return 'other';
}
