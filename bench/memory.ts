// GPU memory of every LaVie option at full size (issue 20 items 2 and 4), fp16 and fp32 compute:
//   npm run bench:memory [-- --json]
// Static, computed in Node without weights: LaVie's full-size graphs as the converter builds them
// (fullsize-manifest.ts: each graph's weight bytes and static liveness peak), then the engine's own
// schedule replayed (src/engine/stages/memory.ts): the sessions the pack loads with, then phase by
// phase the one release rule under the target budget and the phase's sessions created — the live
// weights plus the activations of the graph running then. The measured part (sessions created on
// WebGPU with full-size packs in Chromium) is not run here: measuredBytes is null (docs/BENCHMARKS.md).
import { runCli } from '../src/convert/cli/cli-util.ts';
import { memoryPlan, scheduleAfterLoad, LAVIE_OPTIONS, type PhaseMemory } from '../src/engine/stages/memory.ts';
import { probeRequest } from '../src/engine/stages/plan.ts';
import type { PackManifest } from '../src/packs/manifest.ts';
import type { ComputePrecision, LaVieOption } from '../src/protocol.ts';
import { fullSizeManifest } from './fullsize-manifest.ts';

const USAGE = `usage: npm run bench:memory [-- --json]
  Peak GPU bytes of LaVie options 1-4 at full size, fp16 and fp32 compute, with the engine's session
  schedule under the target budget (6 GB fp16, 8 GB fp32): live weights as ORT holds them plus the
  running graph's static liveness peak. --json prints
  [{"option", "compute", "peakBytes", "measuredBytes", "staticBytes", "lowestBytes", "keptBytes"}]
  (measuredBytes: null, not measured here; lowestBytes: every release made; keptBytes: none made).`;

/** The targets: every option within these on devices with / without shader-f16. */
export const MEMORY_TARGET: Record<ComputePrecision, number> = { fp16: 6e9, fp32: 8e9 };

export interface OptionMemory {
  option: LaVieOption;
  compute: ComputePrecision;
  /** The engine under the target budget, from its load: the largest phase. */
  peakBytes: number;
  phases: PhaseMemory[];
  /** With every release the rule may make (the option's lowest peak; what the fit rule compares). */
  lowestBytes: number;
  /** With every network kept (no release). */
  keptBytes: number;
}

/** Each option's schedule on `m` under the target budget, as the engine runs it right after loading the pack. */
export function optionMemory(m: PackManifest): OptionMemory[] {
  return (['fp16', 'fp32'] as const).flatMap((compute) => LAVIE_OPTIONS.map((o) => {
    const req = probeRequest(m, { interpolate: o.interpolate, superResolve: o.superResolve });
    const budget = MEMORY_TARGET[compute];
    const phases = scheduleAfterLoad(m, req, compute, budget);
    const plan = memoryPlan(m, req, compute, budget);
    return { option: o.option, compute, peakBytes: Math.max(...phases.map((p) => p.peakBytes)), phases, lowestBytes: plan.peakBytes, keptBytes: plan.keptBytes };
  }));
}

const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
const LABEL: Record<LaVieOption, string> = { 1: '1 base', 2: '2 + interpolation', 3: '3 + super-resolution', 4: '4 all three' };

runCli({ usage: USAGE, switches: ['json'] }, async ({ opts }) => {
  const json = opts.json === 'true';
  const m = fullSizeManifest(json ? {} : { log: (s) => console.error(s) });
  const rows = optionMemory(m);
  if (json) {
    console.log(JSON.stringify(rows.map((r) => ({ option: r.option, compute: r.compute, peakBytes: r.peakBytes, measuredBytes: null, staticBytes: r.peakBytes, lowestBytes: r.lowestBytes, keptBytes: r.keptBytes }))));
    return;
  }
  console.log('\n| option | compute | peak (static, engine schedule at the target budget) | sessions live at the peak | lowest possible | all sessions kept | measured | target | meets |\n|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const at = r.phases.reduce((a, p) => (p.peakBytes > a.peakBytes ? p : a));
    console.log(`| ${LABEL[r.option]} | ${r.compute} | ${gb(r.peakBytes)} (${at.phase}) | ${at.live.join(', ')} | ${gb(r.lowestBytes)} | ${gb(r.keptBytes)} | not measured | ≤ ${gb(MEMORY_TARGET[r.compute])} | ${r.peakBytes <= MEMORY_TARGET[r.compute] ? 'yes' : '**no**'} |`);
  }
  for (const r of rows.filter((x) => x.option === 4)) {
    console.log(`\nOption 4, ${r.compute} compute, budget ${gb(MEMORY_TARGET[r.compute])}, phase by phase:\n\n| phase | released before | created | live weights | activations | peak |\n|---|---|---|---|---|---|`);
    for (const p of r.phases) console.log(`| ${p.phase} | ${p.released.join(', ') || '–'} | ${p.created.join(', ') || '–'} | ${gb(p.weightBytes)} | ${gb(p.activationBytes)} | ${gb(p.peakBytes)} |`);
  }
});
