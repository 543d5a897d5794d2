// Prompt → CLIP embeddings through @huggingface/transformers (tokenizer + CLIPTextModel), with the
// model files served from the pack (a custom cache: no hub, no second download) and the engine's
// session options (in the browser: the one shared GPUDevice).
import { CLIPTextModel, Tensor, env } from '@huggingface/transformers';
import type { PackFile, TextEncoderComponent } from '../../packs/manifest.ts';
import type { PackSource } from '../../packs/pack-source.ts';
import { countTextTokens, loadClipTokenizer, tokenizeForClip, type ClipTokenizer } from './tokenize.ts';

/** Model ids resolve under these (local path and remote-style cache key); our cache answers for both from the pack. */
const PACK_PREFIX = '/__lavie_pack__/';
const PACK_HOST = 'https://lavie-pack.invalid/';

export interface PromptEmbeddings { data: Float32Array; dims: [number, number, number] }

export interface PromptEncoder {
  /** last_hidden_state for each prompt, in order: [n, 77, D]. */
  encode(prompts: string[]): Promise<PromptEmbeddings>;
  /** Text tokens of a prompt, before CLIP's cut (synchronous: no model run). */
  countTokens(text: string): number;
  dispose(): Promise<void>;
}

function keyOf(req: string | Request): string {
  const s = typeof req === 'string' ? req : req.url;
  if (s.startsWith(PACK_HOST)) return s.slice(PACK_HOST.length);
  const i = s.indexOf(PACK_PREFIX);
  return i >= 0 ? s.slice(i + PACK_PREFIX.length) : '';
}

/** Route transformers.js file loads to the pack. One pack at a time per worker. */
function servePackToTransformers(pack: PackSource): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = PACK_PREFIX;
  env.remoteHost = PACK_HOST;
  env.remotePathTemplate = '{model}/';
  env.useBrowserCache = false;
  env.useFSCache = false;
  env.useCustomCache = true;
  env.useWasmCache = false; // ORT's wasm comes with the app, not from a CDN
  env.customCache = {
    async match(req: string | Request) {
      const path = keyOf(req);
      if (!path) return undefined;
      try {
        const data = pack.blob ? await pack.blob(path) : await pack.read(path);
        const bytes = data instanceof Blob ? data.size : data.byteLength;
        return new Response(data as unknown as BodyInit, { headers: { 'content-length': String(bytes) } });
      } catch {
        return undefined;
      }
    },
    async put() {},
  } as unknown as typeof env.customCache;
}

/** Which text encoder of the pack: SD-1.4's CLIP-L (base, interpolation) or the x4 upscaler's (VSR). */
export interface TextEncoderParts { textEncoder: TextEncoderComponent; tokenizerFiles: PackFile[] }

export async function createClipTextEncoder(pack: PackSource, opts: { device: 'webgpu' | 'wasm' | 'cpu'; sessionOptions?: Record<string, unknown>; parts?: TextEncoderParts }): Promise<PromptEncoder> {
  const te = opts.parts?.textEncoder ?? pack.manifest.components.textEncoder;
  const tokFiles = opts.parts?.tokenizerFiles ?? pack.manifest.components.tokenizer.files;
  const files = Object.fromEntries(await Promise.all(tokFiles.map(async (f) => [f.path.split('/').pop()!, JSON.parse(new TextDecoder().decode(await pack.read(f.path)))] as const)));
  if (!files['tokenizer.json'] || !files['tokenizer_config.json']) throw new Error('pack tokenizer lacks tokenizer.json / tokenizer_config.json');
  const tok: ClipTokenizer = loadClipTokenizer({ tokenizerJson: files['tokenizer.json'], tokenizerConfig: files['tokenizer_config.json'] });
  servePackToTransformers(pack);
  const model = await CLIPTextModel.from_pretrained(te.folder, {
    device: opts.device,
    dtype: 'fp32',
    local_files_only: true,
    // Weight shards onnx/text_model.onnx_data[_i] (packs before external text weights have none).
    use_external_data_format: te.externalData.length || false,
    session_options: opts.sessionOptions ?? {},
  } as Parameters<typeof CLIPTextModel.from_pretrained>[1]);
  return {
    async encode(prompts) {
      const { ids, shape } = tokenizeForClip(tok, prompts);
      const out = (await model({ input_ids: new Tensor('int64', ids, shape) })) as { last_hidden_state: Tensor };
      const h = out.last_hidden_state;
      return { data: h.data as Float32Array, dims: h.dims as [number, number, number] };
    },
    countTokens: (text) => countTextTokens(tok, text),
    async dispose() {
      await model.dispose();
    },
  };
}
