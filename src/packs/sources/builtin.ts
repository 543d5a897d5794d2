// Where the built-in demo pack is served: generated into public/packs/tiny by `npm run setup`,
// never committed. It is downloaded into storage like any URL pack (so it works offline).
// The caller passes the app's base path and origin (import.meta.env.BASE_URL, location.origin):
// packs/ reads no browser globals.
export function builtinPackUrl(basePath: string, origin: string): string {
  return new URL('packs/tiny/', new URL(basePath || '/', origin)).href;
}
