// The embed's gatekeeper: which parent origins may drive it, which messages are well-formed, and
// the routing between the host page and the engine. DOM-free so it is unit- and fuzz-tested.
//
// Trust model: the host page names its own origin(s) in the iframe URL (`?parent=`); the deployer
// may restrict further at build time (VITE_EMBED_ORIGINS). The embed runs only if the page that
// actually contains it is on the list, accepts messages only from that window and origin, and
// posts events only to that origin. Anything else is ignored without an answer.
import { SAMPLERS, toErrorInfo, type GenerateRequest, type PackInfo } from '../protocol.ts';
import { EMBED_PROTOCOL, type EmbedEvent, type EmbedRequest, type HostMessage } from './protocol.ts';

export const MAX_PROMPT = 2000;

/** A list of origins ("https://a.example, https://b.example") → normalized origins; anything else dropped. */
export function parseOrigins(list: string | null | undefined): string[] {
  const out: string[] = [];
  for (const raw of (list ?? '').split(/[\s,]+/)) {
    if (!raw) continue;
    try {
      const u = new URL(raw);
      if ((u.protocol === 'https:' || u.protocol === 'http:') && u.origin !== 'null' && raw.replace(/\/$/, '') === u.origin) out.push(u.origin);
    } catch {
      // not an origin
    }
  }
  return [...new Set(out)];
}

/** The origins allowed to drive this embed: the host's list, narrowed by the deployer's if set. */
export function allowedOrigins(hostList: string | null, deployerList?: string): string[] {
  const host = parseOrigins(hostList);
  if (!deployerList?.trim()) return host;
  const deployer = new Set(parseOrigins(deployerList));
  return host.filter((o) => deployer.has(o));
}

/** The embedding page's origin if it is allowed (`ancestorOrigins[0]` where available, else the referrer's). */
export function embeddingOrigin(allow: string[], ancestor: string | undefined, referrer: string): string | null {
  let origin = ancestor;
  if (!origin) {
    try {
      origin = new URL(referrer).origin;
    } catch {
      return null;
    }
  }
  return allow.includes(origin) ? origin : null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || ok(v);

/** A well-formed host message, or null. Nothing else reaches the engine. */
export function parseHostMessage(data: unknown): HostMessage | null {
  if (!isObj(data) || data.protocol !== EMBED_PROTOCOL) return null;
  if (typeof data.id !== 'string' || !/^[\w.:-]{1,64}$/.test(data.id)) return null;
  if (data.type === 'cancel') return { protocol: EMBED_PROTOCOL, type: 'cancel', id: data.id };
  if (data.type !== 'generate' || !isObj(data.request)) return null;
  const r = data.request;
  const int = (min: number, max: number) => (x: unknown) => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
  const ok =
    typeof r.prompt === 'string' && r.prompt.trim().length > 0 && r.prompt.length <= MAX_PROMPT &&
    optional(r.negativePrompt, (x) => typeof x === 'string' && x.length <= MAX_PROMPT) &&
    optional(r.seed, int(0, 0xffffffff)) &&
    optional(r.steps, int(1, 1000)) &&
    optional(r.guidanceScale, (x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 50) &&
    optional(r.sampler, (x) => (SAMPLERS as readonly unknown[]).includes(x)) &&
    optional(r.interpolate, (x) => typeof x === 'boolean') &&
    optional(r.superResolve, (x) => typeof x === 'boolean');
  if (!ok) return null;
  // Copy only known fields: nothing else the host sent travels further.
  const request: EmbedRequest = { prompt: r.prompt as string };
  for (const k of ['negativePrompt', 'seed', 'steps', 'guidanceScale', 'sampler', 'interpolate', 'superResolve'] as const) {
    if (r[k] !== undefined) (request as unknown as Record<string, unknown>)[k] = r[k];
  }
  return { protocol: EMBED_PROTOCOL, type: 'generate', id: data.id, request };
}

export function toGenerateRequest(r: EmbedRequest, pack: PackInfo, randomSeed: () => number): Omit<GenerateRequest, 'id'> {
  return {
    prompt: r.prompt.trim(),
    negativePrompt: (r.negativePrompt ?? '').trim(),
    seed: r.seed ?? randomSeed(),
    steps: r.steps ?? pack.defaults.steps,
    guidanceScale: r.guidanceScale ?? pack.defaults.guidanceScale,
    sampler: r.sampler ?? pack.defaults.sampler,
    ...(r.interpolate ? { interpolate: true } : {}),
    ...(r.superResolve ? { superResolve: true } : {}),
  };
}

/** The engine as the bridge needs it (EngineClient satisfies it). */
export interface BridgeEngine {
  generate(request: Omit<GenerateRequest, 'id'>, cb: {
    onProgress?(p: Extract<EmbedEvent, { type: 'progress' }>['progress']): void;
    onPreview?(p: { step: number; width: number; height: number; rgba: Uint8ClampedArray }): void;
    onStageResult?(out: { video: Blob; meta: Extract<EmbedEvent, { type: 'result' }>['meta']; stage: Extract<EmbedEvent, { type: 'result' }>['stage'] }): void;
  }): { id: string; done: Promise<{ video: Blob; meta: Extract<EmbedEvent, { type: 'result' }>['meta']; stage: Extract<EmbedEvent, { type: 'result' }>['stage'] }> };
  cancel(id: string): void;
}

type Body<T> = T extends unknown ? Omit<T, 'protocol'> : never;

export interface Bridge {
  /** Feed every `message` event of the window here. Returns whether it was accepted. */
  onMessage(e: { origin: string; source: unknown; data: unknown }): boolean;
  /** The model is ready (or failed): tell the host. */
  ready(pack: PackInfo): void;
  failed(error: Extract<EmbedEvent, { type: 'error' }>['error']): void;
}

export function createBridge(o: {
  /** The embedding page's origin (already checked against the allow-list) and window. */
  parentOrigin: string;
  parent: { postMessage(msg: unknown, targetOrigin: string): void };
  engine: BridgeEngine;
  pack: () => PackInfo | null;
  randomSeed: () => number;
  onActivity?: (what: 'start' | 'end', hostId: string) => void;
}): Bridge {
  const post = (ev: Body<EmbedEvent>) => o.parent.postMessage({ protocol: EMBED_PROTOCOL, ...ev }, o.parentOrigin);
  const running = new Map<string, string>(); // host id → engine id

  function generate(id: string, r: EmbedRequest) {
    const pack = o.pack();
    if (!pack) {
      post({ type: 'error', id, error: { code: 'bad-request', message: 'The model is not loaded yet: wait for the "ready" event.', recoverable: true } });
      return;
    }
    if (running.has(id)) {
      post({ type: 'error', id, error: { code: 'bad-request', message: `request id ${id} is already running`, recoverable: true } });
      return;
    }
    o.onActivity?.('start', id);
    const h = o.engine.generate(toGenerateRequest(r, pack, o.randomSeed), {
      onProgress: (progress) => post({ type: 'progress', id, progress }),
      onPreview: (p) => post({ type: 'preview', id, ...p }),
      onStageResult: (out) => post({ type: 'result', id, stage: out.stage, final: false, video: out.video, meta: out.meta }),
    });
    running.set(id, h.id);
    h.done.then(
      (out) => post({ type: 'result', id, stage: out.stage, final: true, video: out.video, meta: out.meta }),
      (e: unknown) => {
        const error = toErrorInfo(e);
        post(error.code === 'cancelled' ? { type: 'cancelled', id } : { type: 'error', id, error });
      },
    ).finally(() => {
      running.delete(id);
      o.onActivity?.('end', id);
    });
  }

  return {
    onMessage(e) {
      if (e.source !== o.parent || e.origin !== o.parentOrigin) return false;
      const msg = parseHostMessage(e.data);
      if (!msg) return false;
      if (msg.type === 'cancel') {
        const eid = running.get(msg.id);
        if (eid) o.engine.cancel(eid);
        return true;
      }
      generate(msg.id, msg.request);
      return true;
    },
    ready: (pack) => post({ type: 'ready', pack }),
    failed: (error) => post({ type: 'error', id: null, error }),
  };
}
