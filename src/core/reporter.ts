// The check commands' reporter: the document presentation of the one report
// (src/core/report.ts) — marked lines as they happen, or with --json one document at the end
// with every finding, so scripts never parse prose.
import { Report } from './report.js';

export { formatDuration, type Finding, type Severity } from './report.js';

export interface ReporterOptions {
  json: boolean;
  out?: NodeJS.WritableStream;
  /** undefined: colour when the output is a terminal and NO_COLOR is unset. */
  color?: boolean;
}

export class Reporter extends Report {
  constructor(opts: ReporterOptions) {
    super({ style: 'document', format: opts.json ? 'json' : 'human', out: opts.out, color: opts.color });
  }
}
