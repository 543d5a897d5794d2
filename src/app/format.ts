// Small display helpers.
import type { GpuMemoryReport, Phase, VideoMeta } from '../protocol.ts';

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(v < 100 ? 1 : 0)} ${units[i]}`;
}

/** 75 000 → "1:15"; 4 000 → "0:04"; hours when needed. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export const PHASE_LABEL: Record<Phase, string> = {
  download: 'Downloading model',
  verify: 'Checking model files',
  load: 'Loading model',
  text: 'Encoding prompt',
  condition: 'Encoding base frames',
  denoise: 'Denoising',
  decode: 'Decoding frames',
  encode: 'Encoding video',
};

export const STAGE_LABEL = { base: 'Base video', interp: 'Interpolation', vsr: 'Super-resolution' } as const;

/** "peak 1.2 GB (ORT 1.1 GB, kernels 80 MB); load 900 MB, base 1.2 GB" — the GPU memory counter's summary. */
export function formatGpuMemory(m: GpuMemoryReport): string {
  const phases = Object.entries(m.phases).map(([name, p]) => `${name === 'load' ? 'load' : STAGE_LABEL[name as keyof typeof STAGE_LABEL].toLowerCase()} ${formatBytes(p.peakBytes)}`);
  return `peak ${formatBytes(m.peakBytes)} (ORT ${formatBytes(m.owners.ort.peakBytes)}, kernels ${formatBytes(m.owners.kernels.peakBytes)}); by phase: ${phases.join(', ')}; live now ${formatBytes(m.liveBytes)}`;
}

/** Where a video was made, in a person's words (the execution provider is a technical detail). */
export const madeOn = (device: string | undefined) => (device === 'webgpu' ? 'your GPU' : device === 'wasm' || device === 'cpu' ? 'your processor' : 'this device');

/** A result's main line: what a person needs ("Runs on your GPU · 16 frames · 2 s"). */
export function resultLine(meta: VideoMeta, device: string | undefined): string {
  const secs = meta.frames / meta.fps;
  return `Runs on ${madeOn(device)} · ${meta.frames} frames · ${Number.isInteger(secs) ? secs : secs.toFixed(1)} s · made in ${formatDuration(meta.elapsedMs)}`;
}

/** Rows of a result's technical details (label, value). */
export function technicalDetails(meta: VideoMeta, bytes?: number, compute?: string): [string, string][] {
  return [
    ['Size', `${meta.width}×${meta.height} · ${meta.fps} fps`],
    ['Codec', meta.codec],
    ...(bytes !== undefined ? [['File size', formatBytes(bytes)] as [string, string]] : []),
    ...(compute ? [['Compute', compute] as [string, string]] : []),
    ['Seed', String(meta.seed)],
    ...(meta.ortMs !== undefined ? [['Awaiting ORT', formatDuration(meta.ortMs)] as [string, string]] : []),
    ...(meta.gpuMemory ? [['GPU memory', formatGpuMemory(meta.gpuMemory)] as [string, string]] : []),
  ];
}
