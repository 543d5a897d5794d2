// "From files on this computer": the files a visitor picked or dropped (the LaVie .pt checkpoints,
// the Stable Diffusion folders, or a folder holding all of them) sorted into the inputs of a
// conversion job — the same folders a Hub job downloads. Which file is which: by name and path
// first (lavie_base.pt…, <model>/vae/…), by content where the name does not say (a renamed .pt by
// its conv_in input channels; SD-1.4 or the x4 upscaler by their configs). What the chosen stages
// still lack is a typed error naming the files and where to get them. Runtime-agnostic.
import { LAVIE_REPOS, STAGE_CHOICES, inputsFor, type RepoId } from '../convert/catalogue.ts';
import type { ByteSource } from '../convert/io/bytes.ts';
import { openCheckpoint } from '../convert/io/checkpoint.ts';
import { pickInputs } from '../convert/official.ts';
import { LaVieError } from '../protocol/errors.ts';

/** A picked or dropped file and its path as the browser gives it (the picked folder's name first). */
export interface PickedFile { path: string; file: Blob }

/** The inputs of a job by repo: path inside that repo's layout → file. */
export type LocalFolders = Partial<Record<RepoId, Map<string, Blob>>>;

export interface SortedFiles {
  folders: LocalFolders;
  /** What was recognized, in words (shown before converting). */
  found: string[];
  /** .pt/.ckpt files that are none of LaVie's checkpoints. */
  unknown: string[];
}

type Role = 'base' | 'interp' | 'vsr';
const CHECKPOINT_NAME: Record<Role, string> = { base: 'lavie_base.pt', interp: 'lavie_interpolation.pt', vsr: 'lavie_vsr.pt' };
/** The UNets' input channels (conv_in): noisy latent 4; + the condition frames' latent 4; + the low-res RGB 3. */
const CHANNELS_ROLE: Record<number, Role> = { 4: 'base', 8: 'interp', 7: 'vsr' };
/** The folders of a diffusers model; a file under one of them belongs to the model folder above it. */
const MODEL_PARTS = new Set(['vae', 'text_encoder', 'tokenizer', 'unet', 'scheduler', 'low_res_scheduler', 'feature_extractor', 'safety_checker']);

const norm = (p: string) => p.replace(/\\/g, '/').replace(/^\/+/, '');
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Sort picked files into the job's inputs. `open` gives random access to a file (content checks). */
export async function sortPickedFiles(files: readonly PickedFile[], open: (b: Blob, name: string) => Promise<ByteSource>): Promise<SortedFiles> {
  const checkpoints = new Map<Role, { path: string; file: Blob; how: 'name' | 'content' }>();
  const unnamed: PickedFile[] = [];
  const roots = new Map<string, Map<string, Blob>>();
  for (const f of files) {
    const path = norm(f.path);
    const parts = path.split('/');
    const at = parts.findIndex((s, i) => i < parts.length - 1 && MODEL_PARTS.has(s));
    if (at >= 0) {
      const root = parts.slice(0, at).join('/');
      if (!roots.has(root)) roots.set(root, new Map());
      roots.get(root)!.set(parts.slice(at).join('/'), f.file);
      continue;
    }
    const name = baseName(path);
    const role = (Object.keys(CHECKPOINT_NAME) as Role[]).find((r) => CHECKPOINT_NAME[r] === name);
    if (role && !checkpoints.has(role)) checkpoints.set(role, { path, file: f.file, how: 'name' });
    else if (/\.(pt|pth|ckpt|bin)$/i.test(name)) unnamed.push({ path, file: f.file });
    else if (name === 'model_index.json' && parts.length >= 1) {
      const root = parts.slice(0, -1).join('/');
      if (!roots.has(root)) roots.set(root, new Map());
      roots.get(root)!.set('model_index.json', f.file);
    }
  }
  // Renamed checkpoints (a browser's "lavie_base (1).pt"): which UNet they hold decides.
  const unknown: string[] = [];
  for (const f of unnamed) {
    const role = await checkpointRole(f, open);
    if (role && !checkpoints.has(role)) checkpoints.set(role, { ...f, how: 'content' });
    else unknown.push(role ? `${f.path} (a second ${CHECKPOINT_NAME[role]}; not used)` : f.path);
  }

  const folders: LocalFolders = {};
  const found: string[] = [];
  if (checkpoints.size) {
    const lavie = new Map<string, Blob>();
    for (const [role, c] of checkpoints) {
      lavie.set(CHECKPOINT_NAME[role], c.file);
      found.push(c.how === 'name' ? c.path : `${c.path} (holds ${CHECKPOINT_NAME[role]})`);
    }
    folders.lavie = lavie;
  }
  // Model folders: SD-1.4 or the x4 upscaler, by their configs (names only when configs say nothing).
  for (const [root, m] of roots) {
    const id = await modelKind(root, m);
    const label = root || 'the chosen folder';
    if (folders[id]) {
      found.push(`${label}: another ${LAVIE_REPOS[id].repo} folder (not used)`);
      continue;
    }
    folders[id] = m;
    found.push(`${label}: ${LAVIE_REPOS[id].repo} (${m.size} files)`);
  }
  return { folders, found, unknown };
}

async function checkpointRole(f: PickedFile, open: (b: Blob, name: string) => Promise<ByteSource>): Promise<Role | undefined> {
  try {
    const sd = openCheckpoint(await open(f.file, f.path), f.path);
    const w = sd.get('conv_in.weight');
    return w && w.shape.length === 4 ? CHANNELS_ROLE[w.shape[1]!] : undefined;
  } catch {
    return undefined; // not a checkpoint we can read: reported as unknown
  }
}

async function json(m: Map<string, Blob>, path: string): Promise<Record<string, unknown> | null> {
  const b = m.get(path);
  if (!b || b.size > 1 << 20) return null;
  try {
    return JSON.parse(await b.text()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** stable-diffusion-x4-upscaler or stable-diffusion-v1-4 (the default for an SD-style folder). */
async function modelKind(root: string, m: Map<string, Blob>): Promise<RepoId> {
  const index = await json(m, 'model_index.json');
  if (index?._class_name === 'StableDiffusionUpscalePipeline') return 'x4';
  if (index?._class_name === 'StableDiffusionPipeline') return 'sd14';
  if ([...m.keys()].some((p) => p.startsWith('low_res_scheduler/'))) return 'x4';
  const unet = await json(m, 'unet/config.json');
  if (unet?.in_channels === 7) return 'x4';
  if (unet?.in_channels === 4) return 'sd14';
  // The x4 upscaler's text encoder is OpenCLIP (gelu), SD-1.x's is OpenAI CLIP (quick_gelu).
  const text = await json(m, 'text_encoder/config.json');
  if (text?.hidden_act === 'gelu') return 'x4';
  if (text?.hidden_act === 'quick_gelu') return 'sd14';
  const vae = await json(m, 'vae/config.json');
  if (typeof vae?.scaling_factor === 'number' && vae.scaling_factor < 0.1) return 'x4'; // 0.08333 vs 0.18215
  return /x4|upscal/i.test(root) ? 'x4' : 'sd14';
}

/** What the chosen stages still need from the picked files (empty: ready to convert). */
export function missingLocal(stages: string, folders: LocalFolders): string[] {
  const choice = STAGE_CHOICES.find((c) => c.id === stages);
  if (!choice) return [`a known choice of stages (not "${stages}")`];
  const out: string[] = [];
  for (const [id, inputs] of Object.entries(inputsFor(choice.stages)) as [RepoId, ReturnType<typeof inputsFor>[RepoId]][]) {
    if (!inputs.length) continue;
    const m = folders[id];
    if (id !== 'lavie' && !m) {
      out.push(`the ${LAVIE_REPOS[id].repo.split('/')[1]} folder (from huggingface.co/${LAVIE_REPOS[id].repo})`);
      continue;
    }
    const { missing } = pickInputs(inputs, (p) => !!m?.has(p));
    out.push(...missing.map((p) => (id === 'lavie' ? `${p} (from huggingface.co/${LAVIE_REPOS.lavie.repo})` : `${LAVIE_REPOS[id].repo.split('/')[1]}/${p}`)));
  }
  return out;
}

/** The chosen files lack something the conversion needs. */
export class LocalFilesError extends LaVieError {
  constructor(readonly missing: readonly string[], unknown: readonly string[] = []) {
    super('local-files-missing', `Missing: ${missing.join('; ')}.${unknown.length ? ` Not recognized: ${unknown.join(', ')}.` : ''}`);
  }
}

/** The job's inputs from the picked files, or a LocalFilesError naming what is missing. */
export async function localInputs(stages: string, files: readonly PickedFile[], open: (b: Blob, name: string) => Promise<ByteSource>): Promise<SortedFiles> {
  const sorted = await sortPickedFiles(files, open);
  const missing = missingLocal(stages, sorted.folders);
  if (missing.length) throw new LocalFilesError(missing, sorted.unknown);
  return sorted;
}
