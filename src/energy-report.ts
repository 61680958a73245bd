// The energy report (issue #6) as Markdown, JSON and one self-contained HTML page: the same
// blocks rendered twice, with the charts drawn by Vega-Lite and inlined as SVG, so that the
// page opens without fetching anything.
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import {
  additions,
  type Breakdown,
  bytesRead,
  COMPONENTS,
  type Component,
  type EnergyResult,
  multiplications,
  type Priced,
  price,
  READS,
  REFERENCE_PROFILE,
  type ReadKind,
  sumTally,
  type Tally,
} from './energy.ts';
import { fixed, markdownTable, type ReportMeta } from './experiments.ts';

type Block =
  | { h: string }
  | { p: string }
  | { list: string[] }
  | { table: { head: string[]; rows: string[][] } }
  | { chart: { file: string; svg: string; alt: string } };

const READ_NAMES: Record<ReadKind, string> = {
  inputWeights: 'input weights (drive rows)',
  synapseIndex: 'synapse indices and row bounds',
  synapseWeights: 'synapse weights',
  accumulator: 'recurrent input accumulators',
  membraneState: 'membrane potentials / unit state',
  neuronParams: 'neuron parameters (leak, θ)',
  readoutWeights: 'readout weights',
  readoutParams: 'standardisation and output scales',
  features: 'readout features',
};

const COMPONENT_NAMES: Record<Component, string> = {
  input: 'input projection',
  recurrence: 'recurrence',
  membrane: 'membrane update',
  detectors: 'detector layer',
  readout: 'readout',
};

/** A count per character: whole numbers with separators, small ones with decimals. */
function num(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return fixed(x, 2);
}

/** An energy in pJ, shown in the unit that keeps it readable. */
export function energy(pJ: number): string {
  if (!Number.isFinite(pJ)) return '—';
  if (pJ >= 1e6) return `${fixed(pJ / 1e6, 2)} µJ`;
  if (pJ >= 1e3) return `${fixed(pJ / 1e3, 2)} nJ`;
  return `${fixed(pJ, 1)} pJ`;
}

function ratio(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '—' : `${fixed(x, 2)}×`;
}

/** Every file of the report: energy.md, energy.json, energy.html and the two charts. */
export async function energyReport(
  result: EnergyResult,
  meta: ReportMeta,
): Promise<Record<string, string>> {
  const blocks = await reportBlocks(result, meta);
  const files: Record<string, string> = {
    'energy.md': markdown(blocks),
    'energy.json': `${JSON.stringify({ ...meta, ...result }, null, 2)}\n`,
    'energy.html': html(`Energy estimate: ${meta.corpus}`, blocks),
  };
  for (const b of blocks) if ('chart' in b) files[b.chart.file] = b.chart.svg;
  return files;
}

async function reportBlocks(r: EnergyResult, meta: ReportMeta): Promise<Block[]> {
  const c = r.config;
  const spiking = r.models[0];
  const n = r.counters.chars;
  const updates = r.counters.updates / n;
  const blocks: Block[] = [
    { h: `Energy estimate: ${meta.corpus}` },
    { p: `Command: \`${meta.command}\`` },
    {
      p:
        `Model: ${r.neurons} LIF neurons, ${r.synapses.toLocaleString('en-US')} synapses, ` +
        `${c.substeps} substeps per character, ${c.dynamics} dynamics, precision ${c.precision}, ` +
        `${c.features} readout over ${r.features} features, vocabulary of ${r.vocabSize}. ` +
        `Run from rest on the first ${n.toLocaleString('en-US')} characters of the held-out ` +
        `text: ${fixed(r.firingRate * 100, 2)}% of neuron updates spiked, ` +
        `${num(r.counters.spikes / n)} spikes and ${num(updates)} membrane updates per ` +
        `character (neurons padded to a multiple of 4, times substeps); ` +
        `${fixed(r.scored.bpc, 4)} bits per character over the ${r.scored.chars} characters ` +
        'predicted.',
    },
    {
      p:
        'Counting is always on: the kernels add to integer counters (spikes, synaptic ' +
        'events, membrane updates, characters, integer ±1 events) as they run, with no switch ' +
        'and no measurable cost. Dense parts (membrane update, readout) follow from exact ' +
        'formulas, listed under "How it is counted".',
    },
    { h: 'Operations per character' },
    { table: opsTable(r) },
    { h: 'Memory reads per character (bytes)' },
    {
      table: {
        head: ['read of', ...r.models.map((m) => m.model)],
        rows: READS.map((k) => [
          READ_NAMES[k],
          ...r.models.map((m) => num(sumTally(m.perChar).reads[k])),
        ]).concat([['all', ...r.models.map((m) => num(bytesRead(sumTally(m.perChar))))]]),
      },
    },
    { h: 'Energy per character' },
    {
      p:
        'By component, then arithmetic and memory reads apart. Under a neuromorphic profile ' +
        'only synaptic events have a price, so only the event-driven recurrence and detector ' +
        'layer are priced there; "unpriced" lists the work a profile has no figure for (left ' +
        'out of its total).',
    },
  ];
  for (const p of r.profiles) {
    const byModel = r.energy[p.id];
    if (!byModel) continue;
    blocks.push({ p: `**${p.title}** (\`${p.id}\`)` }, { table: energyTable(r, byModel) });
  }
  blocks.push(...(await charts(r)));
  if (r.prototype) {
    const flat = r.profiles.find((p) => p.costs.snnOp && p.costs.dnnOp);
    const snn = flat?.costs.snnOp?.pJ ?? Number.NaN;
    const dnn = flat?.costs.dnnOp?.pJ ?? Number.NaN;
    blocks.push(
      { h: "The prototype's energy ratio, recomputed" },
      {
        p:
          `The research prototype priced dense operations at ${dnn} pJ and event-driven ones ` +
          `at ${snn} pJ, and claimed "14.7×" less energy. Its figure came from its own model ` +
          'and text and is not rerun here; its convention is, applied to this model, beside ' +
          'symmetric counts that price the same kind of operation the same for both sides. ' +
          `Under the prototype's convention the ratio is the operation ratio times ${fixed(
            dnn / snn,
            1,
          )}, a factor that comes from the prices alone. Operations are additions plus ` +
          `multiplications; the symmetric CMOS columns use \`${REFERENCE_PROFILE}\`.`,
      },
      {
        table: {
          head: [
            'comparison',
            'dense ops / char',
            'event-driven ops / char',
            `prototype: dense × ${dnn} pJ vs event × ${snn} pJ`,
            'symmetric: same price per op',
            'symmetric: 45 nm arithmetic by kind',
            'symmetric: 45 nm arithmetic + SRAM reads',
          ],
          rows: r.prototype.map((x) => [
            x.comparison,
            num(x.denseOps),
            num(x.eventOps),
            ratio(x.prototypeRatio),
            ratio(x.symmetricOps),
            ratio(x.symmetricArithmetic),
            ratio(x.symmetricTotal),
          ]),
        },
      },
    );
  }
  if (r.training) blocks.push(...trainingBlocks(r, r.training));
  blocks.push(
    { h: 'How it is counted' },
    { list: conventions(spiking.perChar, r) },
    { h: 'Caveats' },
    { list: CAVEATS },
    { h: 'Profiles and sources' },
    {
      table: {
        head: ['profile', 'cost', 'pJ', 'source'],
        rows: r.profiles.flatMap((p) =>
          Object.entries(p.costs).map(([k, cost]) => [
            p.id,
            k,
            String(cost?.pJ),
            cost?.source ?? '',
          ]),
        ),
      },
    },
  );
  return blocks;
}

function opsTable(r: EnergyResult) {
  const row = (model: string, part: string, t: Tally) => [
    model,
    part,
    num(additions(t)),
    num(multiplications(t)),
    num(t.events),
    num(t.macs),
    num(t.nonlinear),
    num(bytesRead(t)),
  ];
  return {
    head: [
      'model',
      'component',
      'additions',
      'multiplications',
      'synaptic events',
      'readout MACs',
      'nonlinear',
      'bytes read',
    ],
    rows: r.models.flatMap((m) => [
      ...COMPONENTS.map((c) => row(m.model, COMPONENT_NAMES[c], m.perChar[c])),
      row(m.model, '**total**', sumTally(m.perChar)),
    ]),
  };
}

function energyTable(r: EnergyResult, byModel: Record<string, Record<Component, Priced>>) {
  return {
    head: [
      'model',
      ...COMPONENTS.map((c) => COMPONENT_NAMES[c]),
      'arithmetic',
      'memory reads',
      'synaptic events',
      'total',
      'unpriced',
    ],
    rows: r.models.map((m) => {
      const parts = byModel[m.model];
      const sum = (f: (x: Priced) => number) => COMPONENTS.reduce((a, c) => a + f(parts[c]), 0);
      const missing = COMPONENTS.filter((c) => parts[c].unpriced.length > 0);
      const kinds = [...new Set(missing.flatMap((c) => parts[c].unpriced))];
      const unpriced =
        missing.length === 0
          ? 'none'
          : `${missing.map((c) => COMPONENT_NAMES[c]).join(', ')} ` +
            `(no price for ${kinds.join(', ')})`;
      const nothing = missing.length > 0 && sum((x) => x.total) === 0;
      return [
        m.model,
        ...COMPONENTS.map((c) => (parts[c].unpriced.length > 0 ? '—' : energy(parts[c].total))),
        nothing ? '—' : energy(sum((x) => x.arithmetic)),
        nothing ? '—' : energy(sum((x) => x.memory)),
        nothing ? '—' : energy(sum((x) => x.events)),
        nothing ? '—' : energy(sum((x) => x.total)),
        unpriced,
      ];
    }),
  };
}

function trainingBlocks(r: EnergyResult, t: Breakdown): Block[] {
  const ref = r.profiles.find((p) => p.id === REFERENCE_PROFILE);
  return [
    { h: 'Training, per training character per epoch' },
    {
      p:
        'The reservoir does the same work per character as above (the held-out firing rate is ' +
        'assumed); the softmax readout adds the gradient, one multiply-accumulate per weight, ' +
        `and Adam once per minibatch of ${r.config.batchSize} over the ` +
        `${(r.vocabSize * (r.features + 1)).toLocaleString('en-US')} trainable parameters ` +
        '(9 multiplies, 5 additions, a division and a square root each); each detector spike ' +
        'adds an Adagrad step on its readout row (3 multiplies, 2 additions, a square root and ' +
        'a division per weight). Formulas, not ' +
        `counters; ${r.config.epochs} epoch(s) multiply it.`,
    },
    {
      table: {
        head: [
          'component',
          'additions',
          'multiplications',
          'synaptic events',
          'bytes read',
          ref ? `energy (${ref.id})` : 'energy',
        ],
        rows: COMPONENTS.map((c) => [
          COMPONENT_NAMES[c],
          num(additions(t[c])),
          num(multiplications(t[c])),
          num(t[c].events),
          num(bytesRead(t[c])),
          ref ? energy(price(t[c], ref, c, 'event-driven').total) : '—',
        ]),
      },
    },
  ];
}

function conventions(b: Breakdown, r: EnergyResult): string[] {
  const ternary = r.config.precision !== 'float';
  return [
    'Counters (kernels, always on): spikes, synaptic events, membrane updates and characters; ' +
      'for ternary synapses the +1 and −1 events (integer additions and subtractions).',
    'Membrane update, per neuron per substep, v ← leak·v + (drive + rec): one addition of the ' +
      'input drive (booked to the input projection, as the comparison table does), one ' +
      'multiply (leak·v) and one addition booked to the membrane update, one threshold ' +
      'comparison (counted as nonlinear, not priced)' +
      `${ternary ? ', and with ternary synapses one more multiply, γ·rec' : ''}.`,
    'Synaptic event: one addition (an f32 weight, or an integer ±1 for ternary synapses).',
    'Readout: per feature one multiply and one addition to standardise it, and vocabulary × ' +
      `features multiply-accumulates (${num(b.readout.macs)} per character); softmax left out ` +
      '(the same for every model). A ternary readout runs int8 × ternary products summed in ' +
      'int32, then two multiplies and one addition per output.',
    'Dense: every synapse at every substep, one multiply and one addition each (the ' +
      'comparison table\'s "if dense"). ESN and random LSTM: the comparison table\'s counters ' +
      "(one multiply and one addition per synapse and gate, the LSTM cell's products and " +
      'sums); they are not trained here, because their counts do not depend on their weights.',
    'Memory reads: per membrane update the drive, v, leak, θ and rec (4 bytes each); per ' +
      'synaptic event the target index (2 bytes up to 65,536 neurons, else 4), the f32 weight ' +
      'and the accumulator; per spike the row bounds; per character every readout weight ' +
      'once (4 bytes, or 1 for a ternary readout), the standardisation mean and scale, and ' +
      'the features once. Writes are not counted.',
  ];
}

const CAVEATS = [
  'Technology node: the CMOS figures are for 45 nm at 0.9 V (Horowitz 2014). Newer nodes ' +
    'spend several times less per operation, and memory and arithmetic do not scale alike.',
  'Only arithmetic and memory reads are priced: no instruction fetch and decode, control, ' +
    'register files, interconnect, clock or leakage. On a real processor these often cost ' +
    'more than the arithmetic.',
  'Memory hierarchy: every read is priced at one level (all from an 8 KB SRAM, or all from ' +
    'DRAM at the low end of 1.3–2.6 nJ per 64 bits), in 64-bit units pro rata. Real runs mix ' +
    'registers, caches and DRAM; a model this size partly fits in cache. Writes are left out.',
  'Neuromorphic per-event figures (Loihi, TrueNorth) are whole-chip energy per synaptic event ' +
    'measured on those chips: they include routing, memory and neuron work, not just an ' +
    'addition, and they do not cover a dense readout, which those chips do not run. Their ' +
    'rows price the synaptic events of the recurrence and the detector layer only.',
  'Nonlinear work (threshold comparisons, tanh, logistic, division, square root) is counted ' +
    'and not priced; this leaves the ESN and LSTM cheaper than they are.',
  "The prototype's 0.5 and 5.0 pJ per operation are conventions, not measurements; the " +
    'ratio they give is mostly the ratio of the two prices.',
  'Counts are per character of this text from a reservoir at rest; firing, and so the ' +
    'event-driven cost, depends on the text, the model and its configuration.',
];

async function charts(r: EnergyResult): Promise<Block[]> {
  const ref = r.energy[REFERENCE_PROFILE];
  if (!ref) return [];
  const byComponent = r.models.flatMap((m) =>
    COMPONENTS.map((c) => ({
      model: m.model,
      component: COMPONENT_NAMES[c],
      pJ: ref[m.model][c].total,
    })),
  );
  const components = await barSvg({
    title: `Energy per character by component (${REFERENCE_PROFILE})`,
    values: byComponent,
    x: 'model',
    y: 'pJ',
    color: 'component',
    stack: true,
  });
  const memoryProfiles = r.profiles.filter((p) => p.costs.read64 && r.energy[p.id]);
  const parts = r.models.flatMap((m) => [
    { model: m.model, part: 'arithmetic', pJ: sumPart(ref[m.model], 'arithmetic') },
    ...memoryProfiles.map((p) => ({
      model: m.model,
      part: `memory reads (${p.id})`,
      pJ: sumPart(r.energy[p.id][m.model], 'memory'),
    })),
  ]);
  const split = await barSvg({
    title: 'Arithmetic and memory-read energy per character (log scale)',
    values: parts.filter((x) => x.pJ > 0),
    x: 'model',
    y: 'pJ',
    color: 'part',
    stack: false,
  });
  return [
    { h: 'Charts' },
    {
      chart: {
        file: 'energy-components.svg',
        svg: components,
        alt: 'energy per character by component',
      },
    },
    {
      chart: { file: 'energy-arithmetic-memory.svg', svg: split, alt: 'arithmetic and memory' },
    },
  ];
}

function sumPart(parts: Record<Component, Priced>, key: 'arithmetic' | 'memory'): number {
  return COMPONENTS.reduce((a, c) => a + parts[c][key], 0);
}

interface BarChart {
  title: string;
  values: Record<string, string | number>[];
  x: string;
  y: string;
  color: string;
  /** Stacked bars on a linear axis, or bars side by side on a log axis. */
  stack: boolean;
}

/** A standalone SVG bar chart, rendered headless as src/chart.ts renders its line charts. */
async function barSvg(chart: BarChart): Promise<string> {
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 460,
    height: 260,
    background: 'white',
    data: { values: chart.values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: chart.x, type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
      y: {
        field: chart.y,
        type: 'quantitative',
        title: 'pJ per character',
        ...(chart.stack ? { stack: 'zero' } : { stack: null, scale: { type: 'log' } }),
      },
      color: {
        field: chart.color,
        type: 'nominal',
        title: null,
        sort: null,
        legend: { labelLimit: 300 },
      },
      ...(chart.stack ? {} : { xOffset: { field: chart.color, type: 'nominal', sort: null } }),
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function markdown(blocks: Block[]): string {
  const out: string[] = [];
  blocks.forEach((b, i) => {
    if ('h' in b) out.push(`${i === 0 ? '#' : '##'} ${b.h}`);
    else if ('p' in b) out.push(b.p);
    else if ('list' in b) out.push(b.list.map((x) => `- ${x}`).join('\n'));
    else if ('table' in b) out.push(markdownTable(b.table.head, b.table.rows));
    else out.push(`![${b.chart.alt}](${b.chart.file})`);
    out.push('');
  });
  return out.join('\n');
}

function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Escaped text with the two bits of Markdown the blocks use: `code` and **bold**. */
function inline(s: string): string {
  return escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

function html(title: string, blocks: Block[]): string {
  const body = blocks.map((b, i) => {
    if ('h' in b) return i === 0 ? `<h1>${inline(b.h)}</h1>` : `<h2>${inline(b.h)}</h2>`;
    if ('p' in b) return `<p>${inline(b.p)}</p>`;
    if ('list' in b) return `<ul>${b.list.map((x) => `<li>${inline(x)}</li>`).join('')}</ul>`;
    if ('table' in b) {
      const head = b.table.head.map((x) => `<th>${inline(x)}</th>`).join('');
      const rows = b.table.rows
        .map((r) => `<tr>${r.map((x) => `<td>${inline(x)}</td>`).join('')}</tr>`)
        .join('\n');
      return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
    }
    return `<figure>${b.chart.svg}<figcaption>${escapeHtml(b.chart.alt)}</figcaption></figure>`;
  });
  // No external resources: styles inline, charts as inline SVG.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th:first-child, td:first-child, td:last-child { text-align: left; }
code { background: #f3f3f3; padding: 0 3px; }
figure { margin: 1.5em 0; }
</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
