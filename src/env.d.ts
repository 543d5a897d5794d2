// What Vite puts on import.meta.env in the app's browser code (undefined under Node: engine code
// must not rely on it).
interface ImportMetaEnv {
  readonly PROD: boolean;
  readonly BASE_URL: string;
  /** Deployer's allow-list of origins that may embed /embed/ (narrows the host's ?parent=). */
  readonly VITE_EMBED_ORIGINS?: string;
  /** Hosts (CSP host sources) model packs may be loaded from, besides our own origin (src/packs/download/hosts.ts). */
  readonly VITE_PACK_HOSTS?: string;
  /** Default Hugging Face Hub address for the official weights (like HF_ENDPOINT; default huggingface.co). */
  readonly VITE_HUB_ENDPOINT?: string;
  /** The built-in demo pack's folder under packs/ (vite.config.ts: the trained nano pack once `npm run
   * setup` built it, else the tiny one; VITE_BUILTIN_PACK at build time forces one). */
  readonly VITE_BUILTIN_PACK: 'nano' | 'tiny';
}
interface ImportMeta {
  readonly env: ImportMetaEnv;
}
