// "LaVie (official weights)": which public repos and files each choice of stages needs, and what
// it costs — the download (the originals, from the Hub's listing) and the stored pack, per weight
// precision. One definition for the Node CLI (--from-hub) and the app's Model panel.
import type { WeightPrecision } from './graphs/weights.ts';
import { DEFAULT_PRECISIONS, OFFICIAL_INPUTS, pickInputs, type InputFile } from './official.ts';
import type { HubFile } from '../packs/download/hub.ts';

/** The three public repos (ungated; each model card states its licence). Revisions overridable. */
export const LAVIE_REPOS = {
  lavie: { repo: 'YaohuiW/LaVie', revision: 'main' },
  sd14: { repo: 'CompVis/stable-diffusion-v1-4', revision: 'main' },
  x4: { repo: 'stabilityai/stable-diffusion-x4-upscaler', revision: 'main' },
} as const;
export type RepoId = keyof typeof LAVIE_REPOS;

/** Stages beyond the base (16 frames): temporal interpolation (61 frames), super-resolution (×4). */
export interface StageChoice { interp: boolean; vsr: boolean }

export const STAGE_CHOICES: readonly { id: string; label: string; stages: StageChoice }[] = [
  { id: 'base', label: 'Base: 16 frames, 320×512', stages: { interp: false, vsr: false } },
  { id: 'base+interp', label: '+ smoother: 61 frames', stages: { interp: true, vsr: false } },
  { id: 'base+vsr', label: '+ high resolution: 1280×2048', stages: { interp: false, vsr: true } },
  { id: 'base+interp+vsr', label: '+ smoother + high resolution', stages: { interp: true, vsr: true } },
];

/** The inputs of each repo a choice needs. */
export function inputsFor(stages: StageChoice): Record<RepoId, InputFile[]> {
  return {
    lavie: [...OFFICIAL_INPUTS.base, ...(stages.interp ? OFFICIAL_INPUTS.interp : []), ...(stages.vsr ? OFFICIAL_INPUTS.vsr : [])],
    sd14: [...OFFICIAL_INPUTS.sd14],
    x4: stages.vsr ? [...OFFICIAL_INPUTS.x4] : [],
  };
}

export interface PlannedFile { repo: RepoId; file: HubFile; weights?: InputFile['weights'] }

/**
 * The files to download for a choice, picked from the repos' listings (same preference as the
 * converter: safetensors over .bin). `missing` names required files a listing lacks.
 */
export function planDownload(stages: StageChoice, listings: Partial<Record<RepoId, HubFile[]>>): { files: PlannedFile[]; missing: string[] } {
  const files: PlannedFile[] = [];
  const missing: string[] = [];
  for (const [repo, inputs] of Object.entries(inputsFor(stages)) as [RepoId, InputFile[]][]) {
    if (!inputs.length) continue;
    const byPath = new Map((listings[repo] ?? []).map((f) => [f.path, f]));
    const picked = pickInputs(inputs, (p) => byPath.has(p));
    missing.push(...picked.missing.map((m) => `${LAVIE_REPOS[repo].repo}: ${m}`));
    for (const p of picked.paths) files.push({ repo, file: byPath.get(p)!, weights: inputs.find((i) => i.oneOf.includes(p))?.weights });
  }
  return { files, missing };
}

/**
 * Stored bytes per parameter in a pack, measured on the full-size base UNet (docs/BENCHMARKS.md,
 * npm run bench:convert-full): int8 adds per-channel scales; int4 keeps convolutions at int8.
 */
export const PACK_BYTES_PER_PARAM: Readonly<Record<WeightPrecision, number>> = { fp32: 4.001, fp16: 2.002, int8: 1.004, int4: 0.871 };

export interface Precisions { unet: WeightPrecision; vae: WeightPrecision; text: WeightPrecision }

/**
 * What a choice costs: `download` is exact (the listed sizes); `stored` estimates the pack from the
 * official weights (float32, 4 bytes a parameter) at each network's precision, other files as is.
 */
export function choiceSizes(plan: { files: PlannedFile[] }, precisions: Precisions = DEFAULT_PRECISIONS): { download: number; stored: number } {
  let download = 0;
  let stored = 0;
  for (const f of plan.files) {
    download += f.file.size;
    stored += f.weights ? Math.round((f.file.size / 4) * PACK_BYTES_PER_PARAM[precisions[f.weights]]) : f.file.size;
  }
  return { download, stored };
}
