// Where the built-in demo pack is served: generated into public/packs/<dir> by `npm run setup`,
// never committed. It is downloaded into storage like any URL pack (so it works offline).
// The caller passes the app's base path and origin (import.meta.env.BASE_URL, location.origin):
// packs/ reads no browser globals.

/** The demo packs `npm run setup` can build: the trained LaVie-nano cascade (from models/lavie-nano,
 * once its base stage is trained) and the random-weight tiny pack (always; the tests use it). */
export const DEMO_PACKS = ['nano', 'tiny'] as const;
export type DemoPack = (typeof DEMO_PACKS)[number];

/** The built-in pack: the nano pack when it was built, else the tiny one (the one rule, used by the
 * build (vite.config.ts, as import.meta.env.VITE_BUILTIN_PACK) and the Node CLIs). `override`
 * (VITE_BUILTIN_PACK) forces one. */
export function defaultDemoPack(built: (dir: DemoPack) => boolean, override?: string): DemoPack {
  if (override) {
    if (!(DEMO_PACKS as readonly string[]).includes(override)) throw new Error(`built-in pack must be one of ${DEMO_PACKS.join(', ')}, got "${override}"`);
    return override as DemoPack;
  }
  return built('nano') ? 'nano' : 'tiny';
}

export function builtinPackUrl(basePath: string, origin: string, dir: DemoPack): string {
  return new URL(`packs/${dir}/`, new URL(basePath || '/', origin)).href;
}
