// Any thrown value → the protocol's ErrorInfo. Errors are matched by `code` (errors that already
// speak the protocol, e.g. EncoderUnsupportedError or a pack loader's), then by `name` (engine error
// classes, without importing them), then by message patterns that browsers/ORT use for GPU failures.
import type { ErrorCode, ErrorInfo } from '../src/protocol.ts';

const CODES: readonly ErrorCode[] = ['no-webgpu', 'pack-invalid', 'pack-download', 'storage-full', 'gpu-oom', 'device-lost', 'encoder-unsupported', 'cancelled', 'bad-request', 'internal'];

const BY_NAME: Record<string, ErrorCode> = {
  AbortError: 'cancelled',
  CancelledError: 'cancelled',
  NoWebGpuError: 'no-webgpu',
  EncoderUnsupportedError: 'encoder-unsupported',
  NotSupportedError: 'encoder-unsupported', // WebCodecs: configure() with an unsupported config
  PackInvalidError: 'pack-invalid',
  PackIntegrityError: 'pack-invalid',
  ManifestError: 'pack-invalid',
  PackDownloadError: 'pack-download',
  QuotaExceededError: 'storage-full', // storage full while caching a pack
  StorageFullError: 'storage-full',
  GPUOutOfMemoryError: 'gpu-oom',
  OutOfMemoryError: 'gpu-oom',
  DeviceLostError: 'device-lost',
  BadRequestError: 'bad-request',
};

const BY_MESSAGE: readonly [RegExp, ErrorCode][] = [
  [/out of memory|OutOfMemory|exceeds the max buffer size|Failed to allocate|allocation failed|bad_alloc/i, 'gpu-oom'],
  [/device (was )?lost|GPUDevice.*(lost|destroyed)|Device is lost/i, 'device-lost'],
  [/no (WebGPU )?adapter|WebGPU is not (available|supported)|navigator\.gpu/i, 'no-webgpu'],
  [/requires f16|shader-f16/i, 'no-webgpu'],
  [/Failed to fetch|NetworkError|network error|HTTP \d{3}/i, 'pack-download'],
];

/** Whether the worker can go on after this error (false: the user must reload). A lost device is
 * recoverable: the host recreates the device and sessions right away. */
export function isRecoverable(code: ErrorCode): boolean {
  return code !== 'no-webgpu';
}

export function toErrorInfo(e: unknown): ErrorInfo {
  const err = e as { code?: unknown; name?: unknown; message?: unknown; recoverable?: unknown } | null | undefined;
  const message = typeof err?.message === 'string' && err.message ? err.message : typeof e === 'string' ? e : String(e);
  let code: ErrorCode | undefined;
  if (typeof err?.code === 'string' && (CODES as readonly string[]).includes(err.code)) code = err.code as ErrorCode;
  if (!code && typeof err?.name === 'string') code = BY_NAME[err.name];
  if (!code) code = BY_MESSAGE.find(([re]) => re.test(message))?.[1];
  code ??= 'internal';
  const recoverable = typeof err?.recoverable === 'boolean' ? err.recoverable : isRecoverable(code);
  return { code, message, recoverable };
}

/** An error that already carries its protocol code. */
export class CodedError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly recoverable = isRecoverable(code)) {
    super(message);
    this.name = 'CodedError';
  }
}
