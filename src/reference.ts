// A plain TypeScript reservoir with the same dynamics as the kernels, written
// for clarity rather than speed. Tests hold the WebAssembly engine to it, and
// it gives an independent count of spikes and synaptic events.
import type { Dynamics, FeatureKind } from './config.ts';
import {
  DETECTOR_TAU,
  DETECTOR_THRESHOLD,
  DETECTOR_UNIGRAM_WEIGHT,
  DETECTOR_WEIGHT,
  type DetectorNet,
} from './detectors.ts';
import type { Network } from './network.ts';

/** State and counters of the reference reservoir. */
export class ReferenceReservoir {
  readonly net: Network;
  readonly substeps: number;
  readonly dynamics: Dynamics;
  readonly v: Float32Array;
  readonly rec: Float32Array;
  readonly counts: Float32Array;
  spikes = 0;
  events = 0;
  updates = 0;

  /** `dynamics` defaults to the network's own, as in the engine's Reservoir. */
  constructor(net: Network, substeps: number, dynamics: Dynamics = net.dynamics ?? 'standard') {
    this.net = net;
    this.substeps = substeps;
    this.dynamics = dynamics;
    this.v = new Float32Array(net.np);
    this.rec = new Float32Array(net.np);
    this.counts = new Float32Array(net.np);
  }

  /** One substep for input symbol `id`; returns the neurons that fired, in order. */
  substep(id: number): number[] {
    return this.dynamics === 'prototype' ? this.prototypeSubstep(id) : this.standardSubstep(id);
  }

  // Integrate, then spike where v ≥ θ and reset at once; rec came from the previous substep.
  private standardSubstep(id: number): number[] {
    const { net, v, rec, counts } = this;
    const fired: number[] = [];
    for (let i = 0; i < net.np; i++) {
      // Math.fround after each operation, as f32 arithmetic in the kernel.
      const decayed = Math.fround(net.leak[i] * v[i]);
      const input = Math.fround(net.input[id * net.np + i] + rec[i]);
      let x = Math.fround(decayed + input);
      rec[i] = 0;
      if (x >= net.threshold[i]) {
        x = 0;
        counts[i] += 1;
        fired.push(i);
      }
      v[i] = x;
    }
    this.updates += net.np;
    for (const j of fired) {
      for (let e = net.rowStart[j]; e < net.rowStart[j + 1]; e++) {
        rec[net.target[e]] = Math.fround(rec[net.target[e]] + net.weight[e]);
        this.events++;
      }
    }
    this.spikes += fired.length;
    return fired;
  }

  // The prototype's order: spike where v > θ (from the previous substep's potential),
  // propagate those spikes, integrate every neuron, then reset the ones that spiked.
  private prototypeSubstep(id: number): number[] {
    const { net, v, rec, counts } = this;
    const fired: number[] = [];
    for (let i = 0; i < net.np; i++) if (v[i] > net.threshold[i]) fired.push(i);
    for (const j of fired) {
      counts[j] += 1;
      for (let e = net.rowStart[j]; e < net.rowStart[j + 1]; e++) {
        rec[net.target[e]] = Math.fround(rec[net.target[e]] + net.weight[e]);
        this.events++;
      }
    }
    for (let i = 0; i < net.np; i++) {
      const decayed = Math.fround(net.leak[i] * v[i]);
      const input = Math.fround(net.input[id * net.np + i] + rec[i]);
      v[i] = Math.fround(decayed + input);
      rec[i] = 0;
    }
    for (const j of fired) v[j] = 0;
    this.updates += net.np;
    this.spikes += fired.length;
    return fired;
  }

  /** All substeps of one character; returns its features as the kernels lay them out. */
  char(id: number, features: FeatureKind): Float32Array {
    this.counts.fill(0);
    for (let s = 0; s < this.substeps; s++) this.substep(id);
    const np = this.net.np;
    const out = new Float32Array(features === 'hybrid' ? 2 * np : np);
    let at = 0;
    if (features !== 'membrane') {
      const scale = Math.fround(1 / this.substeps);
      for (let i = 0; i < np; i++) out[i] = Math.fround(this.counts[i] * scale);
      at = np;
    }
    if (features !== 'spikes') out.set(this.v, at);
    return out;
  }
}

/**
 * The detector layer (src/detectors.ts) the plain way: every neuron decays at every step,
 * v ← λ·v + (input + recurrent), and fires where v ≥ θ. It shares no code with the
 * event-driven kernel, which decays lazily and tests only the neurons an event reached; both
 * must give the same spikes. It also counts what an event-driven layer has to do: synaptic
 * events (a neuron listening to the character presented, a synapse of a neuron that fired at
 * the previous step) and membrane updates (neurons reached by at least one event in a step).
 */
export class ReferenceDetectors {
  readonly net: DetectorNet;
  readonly v: Float32Array;
  private fired: number[] = [];
  private readonly children: number[][];
  inputEvents = 0;
  recurrentEvents = 0;
  updates = 0;
  spikes = 0;

  constructor(net: DetectorNet) {
    this.net = net;
    this.v = new Float32Array(net.n);
    this.children = Array.from({ length: net.n }, () => []);
    for (let i = 0; i < net.n; i++) if (net.parent[i] >= 0) this.children[net.parent[i]].push(i);
  }

  /** One character; returns the neurons that fired, in ascending order. */
  step(id: number): number[] {
    const { net, v } = this;
    const lambda = Math.fround(Math.exp(-1 / DETECTOR_TAU));
    const drive = new Float32Array(net.n);
    const reached = new Set<number>();
    for (const j of this.fired) {
      for (const i of this.children[j]) {
        drive[i] = Math.fround(drive[i] + DETECTOR_WEIGHT);
        reached.add(i);
        this.recurrentEvents++;
      }
    }
    for (let i = 0; i < net.n; i++) {
      if (net.char[i] !== id) continue;
      const w = net.order[i] === 1 ? DETECTOR_UNIGRAM_WEIGHT : DETECTOR_WEIGHT;
      drive[i] = Math.fround(drive[i] + w);
      reached.add(i);
      this.inputEvents++;
    }
    this.updates += reached.size;
    const fired: number[] = [];
    for (let i = 0; i < net.n; i++) {
      v[i] = Math.fround(Math.fround(lambda * v[i]) + drive[i]);
      if (v[i] >= DETECTOR_THRESHOLD) {
        v[i] = 0;
        fired.push(i);
      }
    }
    this.spikes += fired.length;
    this.fired = fired;
    return fired;
  }
}
