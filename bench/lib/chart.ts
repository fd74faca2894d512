// Timeline charts for the failover bench: acknowledged writes per 100 ms around the fault, one line
// per tool, drawn with Vega-Lite (compiled to Vega, rendered headless to SVG: no canvas, no browser).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface TimelineSeries {
  /** Legend label, e.g. "ha (run 2)". */
  label: string;
  /** Acks per bin; bin i starts at startMs + i * binMs, relative to the fault. */
  bins: number[];
  startMs: number;
  binMs: number;
}

export interface TimelineMark {
  /** ms relative to the fault. */
  atMs: number;
  label: string;
}

export async function timelineSvg(title: string, series: TimelineSeries[], marks: TimelineMark[] = []): Promise<string> {
  const values = series.flatMap((s) => s.bins.map((n, i) => ({ t: (s.startMs + i * s.binMs) / 1000, n, tool: s.label })));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // no-deprecated mistakes this for String.prototype.anchor (a title may also be a plain string).
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    title: { text: title, anchor: 'start', fontSize: 13 },
    width: 760,
    height: 220,
    background: 'white',
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'seconds since the fault (or the switch command)' },
          y: { field: 'n', type: 'quantitative', title: 'acknowledged writes / 100 ms' },
          color: { field: 'tool', type: 'nominal', title: null, scale: { range: ['#d62728', '#1f77b4', '#2ca02c', '#9467bd'] } },
        },
      },
      {
        data: { values: [{ t: 0, label: 'fault' }, ...marks.map((m) => ({ t: m.atMs / 1000, label: m.label }))] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
        encoding: { x: { field: 't', type: 'quantitative' } },
      },
      {
        data: { values: [{ t: 0, label: 'fault' }, ...marks.map((m) => ({ t: m.atMs / 1000, label: m.label }))] },
        mark: { type: 'text', align: 'left', dx: 3, dy: -4, baseline: 'bottom', fontSize: 10, color: '#333' },
        encoding: { x: { field: 't', type: 'quantitative' }, y: { value: 12 }, text: { field: 'label', type: 'nominal' } },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
