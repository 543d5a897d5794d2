// A still for the History gallery: the video's middle frame, drawn small and kept as an image with the
// saved entry (a few KB), so the gallery shows what each video is without loading any video.

/** How wide the gallery draws a poster (CSS px); stored at 2× for sharp screens. */
export const POSTER_WIDTH = 160;

/** The middle frame of an MP4 as a small WebP/JPEG, or null when this browser cannot decode it
 * (the entry is still saved; the gallery then shows the stage's name instead of a picture). */
export async function capturePoster(video: Blob, width = 2 * POSTER_WIDTH, timeoutMs = 5000): Promise<Blob | null> {
  if (typeof document === 'undefined') return null;
  const url = URL.createObjectURL(video);
  const el = document.createElement('video');
  el.muted = true;
  el.playsInline = true;
  el.preload = 'auto';
  try {
    const ready = (ev: 'loadeddata' | 'seeked') =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`poster: no ${ev}`)), timeoutMs);
        el.addEventListener(ev, () => { clearTimeout(t); resolve(); }, { once: true });
        el.addEventListener('error', () => { clearTimeout(t); reject(new Error('poster: cannot decode')); }, { once: true });
      });
    const loaded = ready('loadeddata');
    el.src = url;
    await loaded;
    // The middle frame: the first is often the plainest of a generated clip.
    if (Number.isFinite(el.duration) && el.duration > 0) {
      const seeked = ready('seeked');
      el.currentTime = el.duration / 2;
      await seeked;
    }
    const w = Math.min(width, el.videoWidth);
    const h = Math.max(1, Math.round((el.videoHeight * w) / el.videoWidth));
    if (!w) return null;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    ctx.drawImage(el, 0, 0, w, h);
    const as = (type: string) => new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.8));
    const img = (await as('image/webp')) ?? (await as('image/jpeg'));
    return img && img.size > 0 ? img : null;
  } catch {
    return null;
  } finally {
    el.removeAttribute('src');
    el.load();
    URL.revokeObjectURL(url);
  }
}
