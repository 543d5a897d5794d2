// npm run convert -- --from-hub --out <packDir> [--stages base|base+interp|base+vsr|base+interp+vsr]
//                    [--endpoint URL] [--revision REV | --revision <repo>=REV,…] [--cache DIR] [--retries 5] [--vsr-config F] [precision flags…]
// Lists the official repos on the Hub (or HF_ENDPOINT / --endpoint), downloads the files the chosen
// stages need into the cache (resumable, verified, kept for the next run), then converts them with
// the same code as local files. HF_TOKEN, if set, is sent to the endpoint.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { STAGE_CHOICES, LAVIE_REPOS, type RepoId } from '../catalogue.ts';
import { CheckpointError } from '../errors.ts';
import type { SourceFolder } from '../io/bytes.ts';
import { DEFAULT_PRECISIONS, convertOfficial, type ConvertOptions, type PersonalizeInputs } from '../official.ts';
import { fetchHubFiles, hubEndpoint, hubStoreKey } from '../../packs/download/hub.ts';
import { hubOptions, planHubJob, reposFor, revisionOf, type ConvertJobSpec, type HubEnv } from '../../packs/convert-official.ts';
import { fsStore, type FsPackStore } from '../../packs/storage/node-fs.ts';
import { vsrConfig } from './convert.ts';
import { dirPackSink, nodeFileSource } from './node-io.ts';

/** `--revision main` for every repo, or `--revision YaohuiW/LaVie=abc,CompVis/…=def`. */
export function revisions(flag: string | undefined): Record<RepoId, string> {
  const out = Object.fromEntries(Object.entries(LAVIE_REPOS).map(([id, r]) => [id, r.revision])) as Record<RepoId, string>;
  if (!flag) return out;
  if (!flag.includes('=')) return Object.fromEntries(Object.keys(out).map((id) => [id, flag])) as Record<RepoId, string>;
  for (const part of flag.split(',')) {
    const [repo, rev] = part.split('=');
    const id = (Object.keys(LAVIE_REPOS) as RepoId[]).find((k) => LAVIE_REPOS[k].repo === repo?.trim());
    if (!id || !rev?.trim()) throw new Error(`--revision: "${part}" is not <repo>=<revision> for one of ${Object.values(LAVIE_REPOS).map((r) => r.repo).join(', ')}`);
    out[id] = rev.trim();
  }
  return out;
}

export const defaultCacheDir = () => join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lavie-web', 'hub');

/** A repo's downloaded files as a folder the converter reads (positional reads from the cache). */
function cachedFolder(name: string, paths: Map<string, string>, store: FsPackStore, ns: string): SourceFolder {
  return {
    name,
    has: (p) => paths.has(p),
    async open(p) {
      const file = paths.has(p) ? store.path(ns, paths.get(p)!) : null;
      if (!file) throw new CheckpointError('bad-format', `${name}/${p}: not downloaded`, { file: `${name}/${p}` });
      return nodeFileSource(file);
    },
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e8 ? 1 : 0)} MB`;

export async function convertFromHub(a: Record<string, string>, opts: ConvertOptions, log: (l: string) => void = (l) => console.log(l), personalize?: PersonalizeInputs): Promise<void> {
  if (!a.out) throw new Error('usage: convert --from-hub --out <packDir> [--stages base+interp+vsr] [--endpoint URL] [--revision REV] [--cache DIR]');
  const choice = STAGE_CHOICES.find((c) => c.id === (a.stages ?? 'base'));
  if (!choice) throw new Error(`--stages must be one of ${STAGE_CHOICES.map((c) => c.id).join(', ')}`);
  const store = fsStore(resolve(a.cache ?? defaultCacheDir()));
  const env: HubEnv = { store, token: process.env.HF_TOKEN || undefined, ...(a.retries ? { retries: Number(a.retries) } : {}) };
  // The browser's job description; its plan and download code are the browser's too.
  const spec: ConvertJobSpec = {
    source: 'hub',
    stages: choice.id,
    precisions: { unet: opts.unetPrecision ?? DEFAULT_PRECISIONS.unet, vae: opts.vaePrecision ?? DEFAULT_PRECISIONS.vae, text: opts.textPrecision ?? DEFAULT_PRECISIONS.text },
    hub: { endpoint: hubEndpoint(a.endpoint ?? process.env.HF_ENDPOINT), revisions: revisions(a.revision) },
  };

  // 1. List before downloading anything: every required file must be there.
  const plan = await planHubJob(spec, env);
  log(`${choice.label}: ${plan.files.length} files, ${mb(plan.download - plan.cached)} to download (${mb(plan.cached)} already in the cache), pack ≈ ${mb(plan.stored)}`);

  // 2. Download (resumable, verified, cached), repo by repo.
  const hub = hubOptions(spec, env);
  const base = { loaded: 0, total: plan.download };
  let lastFile = '';
  const folders = {} as Record<RepoId, SourceFolder>;
  for (const id of reposFor(spec.stages)) {
    const repo = LAVIE_REPOS[id].repo;
    const files = plan.files.filter((f) => f.repo === id).map((f) => f.file);
    const paths = await fetchHubFiles(hub, repo, revisionOf(spec, id), files, store, (p) => {
      if (p.file !== lastFile) log(`downloading ${(lastFile = p.file)} (${mb(base.loaded)} of ${mb(base.total)})`);
    }, base);
    folders[id] = cachedFolder(`${repo}@${revisionOf(spec, id)}`, paths, store, hubStoreKey(repo));
  }
  log(`downloaded and verified ${mb(base.total)}`);

  // 3. Convert exactly as from local files.
  const manifest = await convertOfficial({
    base: { folder: folders.lavie, path: 'lavie_base.pt' },
    sd14: folders.sd14,
    ...(choice.stages.interp ? { interp: { folder: folders.lavie, path: 'lavie_interpolation.pt' } } : {}),
    ...(choice.stages.vsr ? { vsr: { checkpoint: { folder: folders.lavie, path: 'lavie_vsr.pt' }, x4: folders.x4, config: vsrConfig(a['vsr-config']) } } : {}),
    ...(personalize ? { personalize } : {}),
  }, dirPackSink(resolve(a.out)), opts);
  log(`pack "${manifest.name}" written to ${resolve(a.out)}`);
}
