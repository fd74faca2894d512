// MHA's ssh_options is a string MHA pasted into its ssh(1) command lines. ha connects with its own
// SSH client, so it reads the options it can honour out of that string and reports the rest.
import { homedir } from 'node:os';

/** A problem in the option string itself (the caller turns it into a ConfigError). */
export class SshOptionsError extends Error {}

/**
 * Splits a command-line string into words the way a POSIX shell would, minus every expansion:
 * whitespace separates words, '...' is literal, "..." honours \" \\ \$ \`, and a backslash
 * outside quotes escapes the next character.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new SshOptionsError(`unterminated ' quote at character ${i + 1}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        word += text[j];
      }
      if (j >= text.length) throw new SshOptionsError(`unterminated " quote at character ${i + 1}`);
      inWord = true;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** What ha took from an ssh_options string. */
export interface ParsedSshOptions {
  identityFiles: string[];
  knownHostsFiles: string[];
  /** As written, lowercased: yes | no | ask | accept-new | off. */
  strictHostKeyChecking?: string;
  connectTimeoutSeconds?: number;
  port?: number;
  /** Options ha does not honour, as written (e.g. "-o ProxyJump=bastion", "-F /etc/ssh/cfg"). */
  ignored: string[];
}

// ssh(1) flags that take an argument, and those that do not (OpenSSH 9).
const FLAGS_WITH_ARG = 'BbcDEeFIiJLlmOoPpQRSWw';
const FLAGS_WITHOUT_ARG = '46AaCfGgKkMNnqsTtVvXxYy';
// Flags that change nothing for ha: quiet, no tty, no stdin, no X11/agent forwarding,
// no GSSAPI delegation, compression, verbosity.
const HARMLESS_FLAGS = 'qTnxakCv';
// -o options accepted without a warning: ha never prompts and never uses passwords for SSH, and
// keepalive/retry/logging tuning does not change which host or key ha uses. IdentitiesOnly: ha
// already offers only the listed keys when any are listed (the agent only when none are).
const HARMLESS_OPTIONS = new Set(
  [
    'BatchMode',
    'PasswordAuthentication',
    'KbdInteractiveAuthentication',
    'ChallengeResponseAuthentication',
    'ServerAliveInterval',
    'ServerAliveCountMax',
    'ConnectionAttempts',
    'LogLevel',
    'Compression',
    'HashKnownHosts',
    'IdentitiesOnly',
  ].map((o) => o.toLowerCase()),
);
const STRICT_VALUES = new Set(['yes', 'no', 'ask', 'accept-new', 'off']);

/** ~/ means the manager user's home directory, as ssh(1) reads it. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new SshOptionsError(`${what} must be a port from 1 to 65535, got "${text}"`);
  }
  return Number(text);
}

function parseTimeout(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new SshOptionsError(`ConnectTimeout must be a positive number of seconds, got "${text}"`);
  }
  return Number(text);
}

/**
 * Reads an ssh(1) option string. Like ssh, the first value given for a single-valued option wins;
 * key and known_hosts files accumulate in order.
 */
export function parseSshOptions(text: string): ParsedSshOptions {
  const out: ParsedSshOptions = { identityFiles: [], knownHostsFiles: [], ignored: [] };
  const words = splitWords(text);

  const applyOption = (option: string, shown: string): void => {
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(option);
    if (!m || m[2] === '') throw new SshOptionsError(`"${shown}" is not of the form -o Name=value`);
    const name = m[1]!.toLowerCase();
    const value = m[2]!;
    switch (name) {
      case 'identityfile':
        out.identityFiles.push(expandHome(value));
        return;
      case 'userknownhostsfile':
      case 'globalknownhostsfile':
        // Several files may be listed, space-separated; "none" means none.
        for (const f of value.split(/\s+/)) if (f.toLowerCase() !== 'none') out.knownHostsFiles.push(expandHome(f));
        return;
      case 'stricthostkeychecking': {
        const v = value.toLowerCase();
        if (!STRICT_VALUES.has(v)) {
          throw new SshOptionsError(`StrictHostKeyChecking must be yes, no, ask, accept-new or off, got "${value}"`);
        }
        out.strictHostKeyChecking ??= v;
        return;
      }
      case 'connecttimeout':
        out.connectTimeoutSeconds ??= parseTimeout(value);
        return;
      case 'port':
        out.port ??= parsePort(value, 'Port');
        return;
      default:
        if (!HARMLESS_OPTIONS.has(name)) out.ignored.push(shown);
    }
  };

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith('-') || word === '-') {
      out.ignored.push(word); // a stray word: ssh would take it for the host name
      continue;
    }
    // Flags may be bundled ("-qT") and an argument may be attached ("-p2222", "-oPort=22").
    for (let k = 1; k < word.length; k++) {
      const flag = word[k]!;
      if (FLAGS_WITH_ARG.includes(flag)) {
        let arg = word.slice(k + 1);
        if (arg === '') {
          if (i + 1 >= words.length) throw new SshOptionsError(`-${flag} needs a value`);
          arg = words[++i]!;
        }
        const shown = `-${flag} ${arg}`;
        if (flag === 'i') out.identityFiles.push(expandHome(arg));
        else if (flag === 'p') out.port ??= parsePort(arg, '-p');
        else if (flag === 'o') applyOption(arg, shown);
        else out.ignored.push(shown);
        break;
      }
      if (FLAGS_WITHOUT_ARG.includes(flag)) {
        if (!HARMLESS_FLAGS.includes(flag)) out.ignored.push(`-${flag}`);
        continue;
      }
      throw new SshOptionsError(`-${flag} is not an ssh option`);
    }
  }
  return out;
}
