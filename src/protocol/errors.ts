// Every error the product reports, in one place: a code (part of the protocol: it travels to the
// app and to an embedding page), what to tell the user, what they can do next, and whether the
// worker is still usable afterwards. Each layer throws LaVieError or a subclass of it; the worker
// turns any thrown value into ErrorInfo with toErrorInfo. Classification is by type and code only.
// Imports nothing: every layer may use it.

export type ErrorCode =
  | 'no-webgpu'
  | 'pack-invalid'
  | 'pack-download'
  | 'pack-not-found'
  | 'pack-host-refused'
  | 'offline'
  | 'storage-full'
  | 'gpu-oom'
  | 'device-lost'
  | 'encoder-unsupported'
  | 'cancelled'
  | 'bad-request'
  | 'checkpoint-invalid'
  | 'local-files-missing'
  | 'hub-offline'
  | 'hub-cut'
  | 'hub-corrupt'
  | 'hub-gated'
  | 'hub-not-found'
  | 'hub-unavailable'
  | 'hub-endpoint-refused'
  | 'internal';

export interface ErrorText {
  /** What happened, in the user's words. */
  message: string;
  /** What the user can do next. */
  next: string;
  /** True if the user can simply try again without reloading the page. */
  recoverable: boolean;
}

export const ERRORS: Readonly<Record<ErrorCode, ErrorText>> = {
  'no-webgpu': {
    message: 'This browser cannot run the model on the graphics card',
    next: 'Open this page in a recent Chrome or Edge on a computer with a supported graphics card, and make sure hardware acceleration is turned on in the browser settings.',
    recoverable: false,
  },
  'pack-invalid': {
    message: 'A model file is damaged or does not fit this app',
    next: 'Try again: damaged files are not kept and are downloaded afresh. If it keeps happening, the model at this address is broken: choose another model.',
    recoverable: true,
  },
  'pack-download': {
    message: 'The model could not be downloaded',
    next: 'Check your internet connection, then try again. The parts already downloaded are kept.',
    recoverable: true,
  },
  'pack-not-found': {
    message: 'There is no model at this address',
    next: 'Check the address: it must be the folder that holds the model (on Hugging Face, a link ending in /resolve/main/). Or choose another model.',
    recoverable: true,
  },
  'pack-host-refused': {
    message: 'This site does not load models from that address',
    next: 'Use the demo model, a model folder on this computer (Open local folder…), or a model hosted where this site allows (listed below).',
    recoverable: true,
  },
  offline: {
    message: 'The model cannot be reached: this device seems to be offline',
    next: 'Connect to the internet and try again. Models downloaded before keep working offline.',
    recoverable: true,
  },
  'storage-full': {
    message: 'Not enough space to keep the model',
    next: 'Delete models you no longer need in the Storage panel, or free space on this computer, then try again. What was downloaded is kept.',
    recoverable: true,
  },
  'gpu-oom': {
    message: 'The graphics card ran out of memory',
    next: 'Close other tabs and apps that use the graphics card, then try again. Fewer stages or a smaller model also help.',
    recoverable: true,
  },
  'device-lost': {
    message: 'The graphics card was reset',
    next: 'The model is being loaded again on the graphics card; press Generate again when it is ready. Nothing else is lost.',
    recoverable: true,
  },
  'encoder-unsupported': {
    message: 'This browser cannot make video files',
    next: 'Update your browser, or use Chrome or Edge.',
    recoverable: true,
  },
  cancelled: { message: 'Cancelled', next: 'Press Generate to start again.', recoverable: true },
  'bad-request': {
    message: 'A setting is not valid',
    next: 'Correct it and press Generate again.',
    recoverable: true,
  },
  'checkpoint-invalid': {
    message: 'The model file cannot be converted',
    next: 'Check that you chose the right file for this part of the model and that it was downloaded completely.',
    recoverable: true,
  },
  'local-files-missing': {
    message: 'Some of the model files are missing from what you chose',
    next: 'Add the files named here (pick or drop them as well; files already chosen are kept), or choose fewer stages. The Stable Diffusion folders are the ones downloaded from huggingface.co, with their vae, text_encoder and tokenizer folders inside.',
    recoverable: true,
  },
  // Fetching the official weights from the Hugging Face Hub (or a mirror of it).
  'hub-offline': {
    message: 'The model site cannot be reached',
    next: 'Check your internet connection (and the model site address, if you changed it), then try again. Files already downloaded are kept.',
    recoverable: true,
  },
  'hub-cut': {
    message: 'The download kept breaking off',
    next: 'Try again: it continues where it stopped, nothing already downloaded is fetched twice.',
    recoverable: true,
  },
  'hub-corrupt': {
    message: 'A downloaded file does not match the one published',
    next: 'Try again: the damaged file was not kept and is downloaded afresh. If it happens again, the model site address you set serves altered files: use the official one.',
    recoverable: true,
  },
  'hub-gated': {
    message: 'The model site asks for a login or for accepted licence terms',
    next: 'Open the model page on huggingface.co, sign in and accept its terms, then provide an access token (HF_TOKEN for the command line); or use a site that serves these files openly.',
    recoverable: true,
  },
  'hub-not-found': {
    message: 'The model files are not where they should be',
    next: 'Check the repository and the revision you asked for: the files may have been renamed or removed. The default revision is main.',
    recoverable: true,
  },
  'hub-unavailable': {
    message: 'The model site answered with an error',
    next: 'The site may be busy or down: try again in a few minutes. Files already downloaded are kept.',
    recoverable: true,
  },
  'hub-endpoint-refused': {
    message: 'This model site address is not allowed here',
    next: 'Use the default address, or one of the sites this deployment allows (its operator sets the list).',
    recoverable: true,
  },
  internal: {
    message: 'Something went wrong',
    next: 'Try again. If it keeps happening, reload the page and report the message shown below.',
    recoverable: true,
  },
};

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** An error as it crosses the worker and embed boundaries. */
export interface ErrorInfo {
  code: ErrorCode;
  /** The specific message (what exactly went wrong); ERRORS[code] has the general text. */
  message: string;
  /** True if the user can simply try again (the worker is still usable). */
  recoverable: boolean;
  /** bad-request: the request field at fault. */
  field?: string;
  /** pack-invalid: the pack file at fault (its path in the pack). */
  file?: string;
}

/** The base of every error we throw on purpose. */
export class LaVieError extends Error {
  readonly code: ErrorCode;
  readonly recoverable: boolean;
  constructor(code: ErrorCode, message: string = ERRORS[code].message, opts: { recoverable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.recoverable = opts.recoverable ?? ERRORS[code].recoverable;
    this.name = new.target.name; // for stack traces only: never matched on
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message, recoverable: this.recoverable };
  }
}

/** The user (or a host page) cancelled; not a failure. */
export class CancelledError extends LaVieError {
  constructor(message = 'Cancelled.') {
    super('cancelled', message);
  }
}

/** A request field outside the contract (src/protocol/request.ts). */
export class BadRequestError extends LaVieError {
  constructor(message: string, readonly field?: string) {
    super('bad-request', message);
  }

  override toInfo(): ErrorInfo {
    return { ...super.toInfo(), ...(this.field ? { field: this.field } : {}) };
  }
}

/** An ErrorInfo received from the worker (or an embed), thrown again on this side. */
export class RemoteError extends LaVieError {
  constructor(readonly info: ErrorInfo) {
    super(info.code, info.message, { recoverable: info.recoverable });
  }

  override toInfo(): ErrorInfo {
    return this.info;
  }
}

// onnxruntime and the browser report some failures only as text (ORT's own Error messages), or as
// platform types (DOMException, GPUError). This is the one place that maps them to codes.
const FOREIGN_MESSAGES: readonly [RegExp, ErrorCode][] = [
  [/out of memory|OutOfMemory|exceeds the max buffer size|Failed to allocate|allocation failed|bad_alloc/i, 'gpu-oom'],
  [/device (was )?lost|GPUDevice.*(lost|destroyed)|Device is lost/i, 'device-lost'],
  [/no (WebGPU )?adapter|WebGPU is not (available|supported)|navigator\.gpu/i, 'no-webgpu'],
  [/requires f16|shader-f16/i, 'no-webgpu'],
  [/Failed to fetch|NetworkError|network error/i, 'pack-download'],
];

/** A platform DOMException of the given kind, by its numeric code (e.g. DOMException.NOT_FOUND_ERR). */
export function isDomException(e: unknown, code: number): e is DOMException {
  return typeof DOMException !== 'undefined' && e instanceof DOMException && e.code === code;
}

function foreignCode(e: unknown, message: string): ErrorCode {
  if (isDomException(e, DOMException.ABORT_ERR)) return 'cancelled';
  if (isDomException(e, DOMException.QUOTA_EXCEEDED_ERR)) return 'storage-full';
  if (isDomException(e, DOMException.NOT_SUPPORTED_ERR)) return 'encoder-unsupported'; // WebCodecs configure()
  const gpuOom = (globalThis as { GPUOutOfMemoryError?: abstract new (...a: never[]) => object }).GPUOutOfMemoryError;
  if (gpuOom && e instanceof gpuOom) return 'gpu-oom';
  return FOREIGN_MESSAGES.find(([re]) => re.test(message))?.[1] ?? 'internal';
}

const isCode = (c: unknown): c is ErrorCode => typeof c === 'string' && c in ERRORS;

/** Any thrown value → the protocol's ErrorInfo. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof LaVieError) return e.toInfo();
  const err = e as { message?: unknown; code?: unknown; recoverable?: unknown } | null | undefined;
  const message = typeof err?.message === 'string' && err.message ? err.message : typeof e === 'string' ? e : String(e);
  // An ErrorInfo that lost its class on the way (structured clone): trust its code.
  if (err && !(e instanceof Error) && isCode(err.code)) {
    return { code: err.code, message, recoverable: typeof err.recoverable === 'boolean' ? err.recoverable : ERRORS[err.code].recoverable };
  }
  const code = foreignCode(e, message);
  return { code, message, recoverable: ERRORS[code].recoverable };
}
