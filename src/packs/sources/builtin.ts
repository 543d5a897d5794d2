// Where the built-in demo pack is served: generated into public/packs/tiny by `npm run setup`,
// never committed. It is downloaded into storage like any URL pack (so it works offline).
export function builtinPackUrl(): string {
  return new URL('packs/tiny/', new URL((import.meta as { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/', self.location.origin)).href;
}
