// Reads MHA's INI files the way MHA's Config::Tiny does, line by line, but keeps line numbers and
// refuses what Config::Tiny would silently accept (a repeated key or block).
//
// Not the `ini` package: it cuts values at an unquoted ';' or '#' (a password "ab#c" becomes "ab"),
// turns "true" into a boolean, treats "key[]" as an array and dots in block names as nesting,
// and accepts lines without '=' as flags; MHA files need Config::Tiny's rules instead.
import { ConfigError } from './types.js';

export interface IniEntry {
  value: string;
  line: number;
}

export interface IniBlock {
  name: string;
  line: number;
  entries: Map<string, IniEntry>;
}

export interface IniDocument {
  file: string;
  blocks: IniBlock[];
  /** Lines where " ; " began an inline comment inside a quoted value, cutting its closing quote off. */
  cutQuotedValues: { block: string; key: string; line: number }[];
}

export function parseIni(text: string, file: string): IniDocument {
  const blocks: IniBlock[] = [];
  const byName = new Map<string, IniBlock>();
  const cutQuotedValues: IniDocument['cutQuotedValues'] = [];
  let current: IniBlock | undefined;
  // Config::Tiny splits on CRLF, CR or LF.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\r?\n|\r|\n/);
  lines.forEach((original, index) => {
    const lineNo = index + 1;
    if (/^\s*(?:#|;|$)/.test(original)) return; // comment or blank
    // Config::Tiny's inline comment: whitespace, ';', whitespace, then anything.
    const line = original.replace(/\s;\s.+$/, '');
    const section = /^\s*\[\s*(.+?)\s*\]\s*$/.exec(line);
    if (section) {
      const name = section[1]!;
      const seen = byName.get(name);
      if (seen) {
        throw new ConfigError(file, `block appears twice (lines ${seen.line} and ${lineNo}); MHA would merge them silently, ha asks you to keep one`, { block: name });
      }
      current = { name, line: lineNo, entries: new Map() };
      blocks.push(current);
      byName.set(name, current);
      return;
    }
    const property = /^\s*([^=]+?)\s*=\s*(.*?)\s*$/.exec(line);
    if (!property || property[1]!.trim() === '') {
      // The line is not echoed: it may be a password written without its '='.
      throw new ConfigError(file, `line ${lineNo} is not a [block] header, a name=value line or a comment (# or ;)`, current ? { block: current.name } : {});
    }
    const key = property[1]!;
    if (!current) {
      throw new ConfigError(file, `line ${lineNo} sets a parameter before any [block]; put it under [server default] or a [serverN] block`, { parameter: key });
    }
    const previous = current.entries.get(key);
    if (previous) {
      throw new ConfigError(file, `set twice in the same block (lines ${previous.line} and ${lineNo}); MHA would silently use the last one, ha asks you to keep one`, {
        block: current.name,
        parameter: key,
      });
    }
    // A quoted value that lost its closing quote to the inline-comment rule ("a ; b").
    if (line !== original && /^['"]/.test(property[2]!) && !/['"]$/.test(property[2]!)) {
      cutQuotedValues.push({ block: current.name, key, line: lineNo });
    }
    current.entries.set(key, { value: property[2]!, line: lineNo });
  });
  return { file, blocks, cutQuotedValues };
}

/**
 * MHA's unquoting, applied to every value: s/^['"]?(.*)['"]$/$1/ — a trailing quote is dropped,
 * and a leading one with it. Like MHA, the two need not match, and "0"/"" are left alone.
 */
export function stripQuotes(value: string): string {
  if (value === '' || value === '0') return value;
  if (!/['"]$/.test(value)) return value;
  const inner = value.slice(0, -1);
  return /^['"]/.test(inner) ? inner.slice(1) : inner;
}
