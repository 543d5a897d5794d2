// The embed's gatekeeper: which parent origins may drive it, which messages are well-formed, and
// the routing between the host page and the engine. DOM-free so it is unit- and fuzz-tested.
//
// Trust model: the host page names its own origin(s) in the iframe URL (`?parent=`); the deployer
// may restrict further at build time (VITE_EMBED_ORIGINS). The embed runs only if the page that
// actually contains it is on the list, accepts messages only from that window and origin, and
// posts events only to that origin. Anything else is ignored without an answer.
import { BODY_FIELDS, randomSeed, requestDefaults, toErrorInfo, validateRequest, withDefaults, type ErrorInfo, type PackInfo, type RequestBody } from '../protocol.ts';
import { EMBED_PROTOCOL, type EmbedEvent, type EmbedRequest, type HostMessage } from './protocol.ts';

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

/** A well-formed host message, or null (ignored without an answer). The request's values are
 * checked next, against the request contract, and refused with a 'bad-request' error event. */
export function parseHostMessage(data: unknown): HostMessage | null {
  if (!isObj(data) || data.protocol !== EMBED_PROTOCOL) return null;
  if (typeof data.id !== 'string' || !/^[\w.:-]{1,64}$/.test(data.id)) return null;
  if (data.type === 'cancel') return { protocol: EMBED_PROTOCOL, type: 'cancel', id: data.id };
  if (data.type !== 'generate' || !isObj(data.request)) return null;
  // Copy only known own fields: nothing else the host sent travels further.
  const request: Record<string, unknown> = {};
  for (const k of BODY_FIELDS) if (Object.hasOwn(data.request, k) && data.request[k] !== undefined) request[k] = data.request[k];
  return { protocol: EMBED_PROTOCOL, type: 'generate', id: data.id, request: request as unknown as EmbedRequest };
}

/** The host's request completed with the pack's defaults and checked against the contract. */
export function toGenerateRequest(r: EmbedRequest, pack: PackInfo, seed: () => number = randomSeed): { ok: true; request: RequestBody } | { ok: false; error: ErrorInfo } {
  const body = { ...requestDefaults(pack.defaults, () => r.seed ?? seed(), r.frames), ...r };
  const bad = validateRequest(body, pack, { needsId: false });
  return bad ? { ok: false, error: bad.toInfo() } : { ok: true, request: withDefaults(body, pack.defaults) };
}

/** The engine as the bridge needs it (EngineClient satisfies it). */
export interface BridgeEngine {
  generate(request: RequestBody, cb: {
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
  /** Seeds for requests without one (tests fix it). */
  randomSeed?: () => number;
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
    const checked = toGenerateRequest(r, pack, o.randomSeed);
    if (!checked.ok) {
      post({ type: 'error', id, error: checked.error });
      return;
    }
    o.onActivity?.('start', id);
    const h = o.engine.generate(checked.request, {
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
