// npm run make-nano-pack -- [--bundle models/lavie-nano] [--partial] <outDir>
// The LaVie-nano demo pack from the committed training bundle, through the same converter as the
// real LaVie files: the bundle's weights (official key names, fp16 safetensors) are placed in the
// official layouts next to the configs and tokenizers that training wrote into <bundle>/layout/
// (training/train.py snapshot|layout), then converted by convertOfficial. Which stages go in comes
// from <bundle>/state.json: a phase's network is used once its phase is done (--partial: as soon as
// it has weights — for checking the plumbing before training has finished).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { NANO_EXAMPLE_PROMPTS, NANO_PACK_DESCRIPTION, NANO_PACK_NAME } from '../../nano/vocabulary.ts';
import { convertOfficial, type OfficialInputs } from '../official.ts';
import { runCli } from './cli-util.ts';
import { dirPackSink, nodeFolder } from './node-io.ts';

interface BundleState { done: string[]; phases: Record<string, { step: number }> }
interface Layout { latent: string; frames: number; files: Record<string, string> }

/** Stages the bundle can give: base needs the VAE and base phases; interp and VSR their own (VSR: x4 VAE too). */
export function nanoBundleStages(bundle: string, partial = false): { base: boolean; interp: boolean; vsr: boolean } {
  const stateFile = join(bundle, 'state.json');
  if (!existsSync(stateFile) || !existsSync(join(bundle, 'layout', 'layout.json'))) return { base: false, interp: false, vsr: false };
  const st = JSON.parse(readFileSync(stateFile, 'utf8')) as BundleState;
  const has = (phase: string, files: string[]) => (partial ? phase in st.phases : st.done.includes(phase)) && files.every((f) => existsSync(join(bundle, f)));
  const base = has('vae', ['vae.safetensors']) && has('base', ['text.safetensors', 'base_unet.safetensors']);
  return {
    base,
    interp: base && has('interp', ['interp_unet.safetensors']),
    vsr: base && has('x4vae', ['x4vae.safetensors']) && has('vsr', ['text_x4.safetensors', 'vsr_unet.safetensors']),
  };
}

export async function makeNanoPack(bundle: string, outDir: string, o: { partial?: boolean; log?: (l: string) => void } = {}): Promise<{ stages: string[] }> {
  const stages = nanoBundleStages(bundle, o.partial);
  if (!stages.base) throw new Error(`${bundle}: no trained base stage yet (state.json must list "vae" and "base" as done, with layout/ from training/train.py snapshot)`);
  const layout = JSON.parse(readFileSync(join(bundle, 'layout', 'layout.json'), 'utf8')) as Layout;
  // The official layouts in a temporary folder: configs/tokenizers copied, weights linked.
  const work = mkdtempSync(join(tmpdir(), 'nano-layout-'));
  try {
    cpSync(join(bundle, 'layout'), work, { recursive: true });
    for (const [file, official] of Object.entries(layout.files)) {
      if (existsSync(join(bundle, file)) && official.includes('/')) symlinkSync(resolve(bundle, file), join(work, official));
    }
    const ref = (file: string) => ({ folder: nodeFolder(resolve(bundle)), path: file });
    const inputs: OfficialInputs = {
      base: ref('base_unet.safetensors'),
      sd14: nodeFolder(join(work, 'stable-diffusion-v1-4')),
      ...(stages.interp ? { interp: ref('interp_unet.safetensors') } : {}),
      ...(stages.vsr ? { vsr: { checkpoint: ref('vsr_unet.safetensors'), x4: nodeFolder(join(work, 'stable-diffusion-x4-upscaler')), config: JSON.parse(readFileSync(join(work, 'vsr_unet_3d_config.json'), 'utf8')) } } : {}),
    };
    const [h, w] = layout.latent.split('x').map(Number);
    await convertOfficial(inputs, dirPackSink(resolve(outDir)), {
      name: NANO_PACK_NAME,
      about: { description: NANO_PACK_DESCRIPTION, examplePrompts: [...NANO_EXAMPLE_PROMPTS] },
      frames: layout.frames,
      latent: { height: h!, width: w! },
      ...(o.log ? { log: o.log } : {}),
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { stages: (['base', 'interp', 'vsr'] as const).filter((s) => stages[s]) };
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('make-nano-pack.ts')) {
  const usage = `usage: npm run make-nano-pack -- [--bundle <dir>] [--partial] <outDir>

Converts the LaVie-nano training bundle (default models/lavie-nano: fp16 weights, state.json and
layout/ written by training/train.py snapshot) into a model pack with our converter. Stages whose
training phase is done go in (base needs vae + base; interp; vsr needs x4vae + vsr).
  --partial   also use phases that have weights but are not done (plumbing checks only)`;
  runCli({ usage, options: ['bundle'], switches: ['partial'], maxPositional: 1 }, async ({ positional: [out], opts }) => {
    if (!out) throw new Error('an output folder is required (see --help)');
    const bundle = resolve(opts.bundle ?? join(dirname(new URL(import.meta.url).pathname), '../../../models/lavie-nano'));
    const r = await makeNanoPack(bundle, out, { partial: opts.partial === 'true', log: (l) => console.log(l) });
    console.log(`LaVie-nano pack (${r.stages.join(' + ')}) written to ${resolve(out)}`);
  });
}
