// The postMessage protocol between a host page and the embedded generator (/embed/).
// Every message carries `protocol: 'lavie-embed/1'`. The host sends requests; the embed answers
// with events, posted only to the host's origin (never '*').

import type { ErrorInfo, PackInfo, ProgressInfo, RequestBody, Stage, VideoMeta } from '../protocol.ts';

export const EMBED_PROTOCOL = 'lavie-embed/1';

/** What a host may ask for: the request contract's fields (src/protocol/request.ts, same limits);
 * omitted fields take the pack's defaults (seed: random). A request outside the limits is answered
 * with an 'error' event, code 'bad-request', naming the field. */
export type EmbedRequest = Partial<RequestBody> & { prompt: string };

export type HostMessage =
  | { protocol: typeof EMBED_PROTOCOL; type: 'generate'; id: string; request: EmbedRequest }
  | { protocol: typeof EMBED_PROTOCOL; type: 'cancel'; id: string };

export type EmbedEvent = { protocol: typeof EMBED_PROTOCOL } & (
  | { type: 'ready'; pack: PackInfo }
  | { type: 'progress'; id: string; progress: ProgressInfo }
  | { type: 'preview'; id: string; step: number; width: number; height: number; rgba: Uint8ClampedArray }
  /** One per stage; `final` marks the last. `video` is an MP4 Blob. */
  | { type: 'result'; id: string; stage: Stage; final: boolean; video: Blob; meta: VideoMeta }
  | { type: 'cancelled'; id: string }
  /** `id` null: not about a request (e.g. the model failed to load). */
  | { type: 'error'; id: string | null; error: ErrorInfo }
);
