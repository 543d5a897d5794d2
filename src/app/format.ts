// Small display helpers.
import type { Phase } from '../protocol.ts';

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
