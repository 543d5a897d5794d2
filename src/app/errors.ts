// What to tell the user for each error code: a title and the next thing to do.
import type { ErrorCode } from '../protocol.ts';

export interface ErrorHint { title: string; hint: string }

export const ERROR_HINTS: Record<ErrorCode, ErrorHint> = {
  'no-webgpu': {
    title: 'WebGPU is not available',
    hint: 'Open this page in Chrome or Edge 113 or newer on a computer with a supported GPU, and make sure hardware acceleration is on (chrome://gpu shows "WebGPU: Hardware accelerated").',
  },
  'pack-invalid': {
    title: 'The model pack is damaged or incompatible',
    hint: 'A file did not match the pack\'s manifest and was not kept. Try again (it is downloaded afresh); if it persists, the pack on the server is broken — re-create it with `npm run convert`.',
  },
  'pack-download': {
    title: 'The model pack could not be downloaded',
    hint: 'Check your connection and free disk space, then try again — finished files are kept.',
  },
  'storage-full': {
    title: 'Not enough storage for the model pack',
    hint: 'Delete packs you no longer need in the Storage panel (or other sites\' data in the browser settings), then try again — what was downloaded is kept.',
  },
  'gpu-oom': {
    title: 'The GPU ran out of memory',
    hint: 'Close other GPU-heavy tabs and apps, then try again; a smaller model pack or fewer steps also help.',
  },
  'device-lost': {
    title: 'The GPU was reset',
    hint: 'The graphics driver restarted or the tab was in the background too long. The model is being reloaded on a new GPU device; press Generate again when it is ready (nothing else is lost).',
  },
  'encoder-unsupported': {
    title: 'This browser cannot encode video',
    hint: 'WebCodecs could not encode H.264, VP9 or AV1 here. Update the browser, or use Chrome or Edge.',
  },
  cancelled: { title: 'Cancelled', hint: 'Press Generate to start again.' },
  'bad-request': { title: 'Check the settings', hint: 'Fix the value mentioned below and press Generate again.' },
  internal: {
    title: 'Something went wrong',
    hint: 'Try again. If it keeps happening, reload the page and report the message below.',
  },
};
