// `npm run setup`: make sure the built-in demo pack exists (public/packs/tiny). It is generated
// from synthetic weights by our own converter, never committed. Regenerated when its generator
// sources are newer than the pack, or it has other long-video lengths than asked for.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { longFramesArg } from '../src/convert/cli/long-frames.ts'; // run through tsx (package.json)

const out = 'public/packs/tiny';
const manifest = join(out, 'manifest.json');
// Which long-video lengths the tiny pack gets (make-tiny-pack's --long-frames): every length by
// default; the e2e build (playwright.config.ts) asks for fewer — each length is two more graphs to
// build, bundle, download and verify in every test that loads the pack.
const longFrames = process.env.LAVIE_DEMO_LONG_FRAMES || 'all';
const newest = (dir) => readdirSync(dir, { recursive: true }).map((f) => join(dir, String(f))).filter((f) => f.endsWith('.ts')).reduce((m, f) => Math.max(m, statSync(f).mtimeMs), 0);
const builtLengths = () => (JSON.parse(readFileSync(manifest, 'utf8')).components.longBaseUnets ?? []).map((u) => u.frames).join(',');
const stale = !existsSync(manifest) || statSync(manifest).mtimeMs < Math.max(newest('src/convert'), newest('src/packs'))
  || builtLengths() !== (longFrames === 'none' ? '' : longFramesArg(longFrames).join(','));
if (stale) {
  console.log(`generating the demo pack (test weights: output is noise; long-video lengths: ${longFrames}) …`);
  execFileSync(process.execPath, ['--import', 'tsx', 'src/convert/cli/make-tiny-pack.ts', out, '--long-frames', longFrames], { stdio: 'inherit' });
} else {
  console.log(`demo pack up to date (${out})`);
}

// The trained LaVie-nano demo pack, once models/lavie-nano holds a trained base stage (state.json lists
// "vae" and "base" as done; layout/ from training/train.py snapshot). Until then only the tiny pack exists.
const bundle = 'models/lavie-nano';
const nanoOut = 'public/packs/nano';
const state = join(bundle, 'state.json');
const done = existsSync(state) ? JSON.parse(readFileSync(state, 'utf8')).done ?? [] : [];
if (done.includes('vae') && done.includes('base') && existsSync(join(bundle, 'layout', 'layout.json'))) {
  const nanoManifest = join(nanoOut, 'manifest.json');
  if (!existsSync(nanoManifest) || statSync(nanoManifest).mtimeMs < Math.max(statSync(state).mtimeMs, newest('src/convert'))) {
    console.log(`converting the LaVie-nano demo pack from ${bundle} …`);
    execFileSync(process.execPath, ['--import', 'tsx', 'src/convert/cli/make-nano-pack.ts', '--bundle', bundle, nanoOut], { stdio: 'inherit' });
  } else {
    console.log(`LaVie-nano demo pack up to date (${nanoOut})`);
  }
}
