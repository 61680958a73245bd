// SVG line charts for experiment reports, drawn by Vega-Lite and rendered headless by
// Vega (no canvas or browser: the 'none' renderer only lays out the scene, and toSVG
// serialises it). Text widths are estimated, so labels may sit a pixel off.
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

/** One point of a curve. */
export interface ChartPoint {
  x: number;
  y: number;
}

/** What a chart shows and how its axes are labelled. */
export interface LineChart {
  title: string;
  xTitle: string;
  yTitle: string;
  points: ChartPoint[];
  /** A log x axis suits sizes that double from point to point. @default false */
  xLog?: boolean;
}

/** A standalone SVG document of a line chart with a dot on every point. */
export async function lineChartSvg(chart: LineChart): Promise<string> {
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 420,
    height: 260,
    background: 'white',
    data: { values: chart.points.map((p) => ({ x: p.x, y: p.y })) },
    mark: { type: 'line', point: true },
    encoding: axes(chart),
  };
  return render(spec);
}

/** Quantitative x and y axes, x on a log scale if asked; y does not start at zero. */
function axes(chart: { xTitle: string; yTitle: string; xLog?: boolean }) {
  return {
    x: {
      field: 'x',
      type: 'quantitative' as const,
      title: chart.xTitle,
      scale: chart.xLog ? { type: 'log' as const, nice: false, padding: 12 } : { zero: false },
    },
    y: { field: 'y', type: 'quantitative' as const, title: chart.yTitle, scale: { zero: false } },
  };
}

/** Renders a Vega-Lite spec to a standalone SVG document, without a browser. */
async function render(spec: vegaLite.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One point of a panel chart: which panel, which line in it, and where. */
export interface PanelPoint {
  panel: string;
  series: string;
  x: number;
  y: number;
}

/** Small multiples: one panel per `panel` value, one coloured line per `series`. */
export interface PanelChart {
  title: string;
  xTitle: string;
  yTitle: string;
  points: PanelPoint[];
  /** Log x axes. @default false */
  xLog?: boolean;
  /** Panels per row. @default 2 */
  columns?: number;
}

/**
 * A standalone SVG document of a panel chart; each panel has its own axes. Panels and
 * series keep the order of their first point.
 */
export async function panelChartSvg(chart: PanelChart): Promise<string> {
  const panels = [...new Set(chart.points.map((p) => p.panel))];
  const series = [...new Set(chart.points.map((p) => p.series))];
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    background: 'white',
    data: { values: chart.points.map((p) => ({ ...p })) },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
    columns: chart.columns ?? 2,
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 300,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        ...axes(chart),
        color: { field: 'series', type: 'nominal', title: null, sort: series },
      },
    },
  };
  return render(spec);
}
