// Random access to a Blob (a picked File, a stored file) as the converter's synchronous ByteSource:
// only the asked range is read, through FileReaderSync (dedicated workers only).
import type { ByteSource } from '../src/convert/io/bytes.ts';

export function blobSource(blob: Blob): ByteSource {
  const reader = new FileReaderSync();
  return { size: blob.size, read: (o, l) => new Uint8Array(reader.readAsArrayBuffer(blob.slice(o, Math.min(blob.size, o + l)))) };
}
