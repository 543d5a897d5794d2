// Read-only ZIP central directory parsing for torch.save files (stored entries, ZIP64). Nothing is
// decompressed and nothing is read until asked: entries give the byte range of their data, so a
// multi-GB checkpoint is read tensor by tensor with positional reads.
import { CheckpointError } from '../errors.ts';
import type { ByteSource } from './bytes.ts';

export interface ZipEntry { name: string; offset: number; size: number; method: number }

const MAX_ENTRIES = 1_000_000;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function readExact(src: ByteSource, offset: number, length: number, file: string, what: string): Uint8Array {
  if (offset < 0 || length < 0 || offset + length > src.size) throw new CheckpointError('truncated', `${file}: ${what} lies outside the file`, { file });
  const b = src.read(offset, length);
  if (b.byteLength !== length) throw new CheckpointError('truncated', `${file}: ${what} is cut short`, { file });
  return b;
}

const u64 = (dv: DataView, at: number): number => {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError('bad-format', 'zip: 64-bit field out of range');
  return Number(v);
};

/** Parse the central directory. Throws CheckpointError for anything malformed. */
export function readZipEntries(src: ByteSource, file = '<zip>'): Map<string, ZipEntry> {
  if (src.size < 22) throw new CheckpointError('bad-format', `${file}: not a zip archive (too short)`, { file });
  const tailLen = Math.min(src.size, 22 + 65535);
  const tail = readExact(src, src.size - tailLen, tailLen, file, 'end of central directory');
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 0x05 && tail[i + 3] === 0x06) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new CheckpointError('bad-format', `${file}: not a zip archive (no end of central directory; truncated?)`, { file });
  const dv = view(tail);
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  const eocdAbs = src.size - tailLen + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: a locator sits right before the EOCD and points at the ZIP64 EOCD record.
    const loc = readExact(src, eocdAbs - 20, 20, file, 'zip64 locator');
    const ldv = view(loc);
    if (ldv.getUint32(0, true) !== 0x07064b50) throw new CheckpointError('bad-format', `${file}: zip64 locator missing`, { file });
    const recOff = u64(ldv, 8);
    const rec = readExact(src, recOff, 56, file, 'zip64 end record');
    const rdv = view(rec);
    if (rdv.getUint32(0, true) !== 0x06064b50) throw new CheckpointError('bad-format', `${file}: zip64 end record missing`, { file });
    count = u64(rdv, 32);
    cdSize = u64(rdv, 40);
    cdOffset = u64(rdv, 48);
  }
  if (count > MAX_ENTRIES || cdOffset + cdSize > src.size || cdSize < count * 46) throw new CheckpointError('bad-format', `${file}: implausible central directory (${count} entries)`, { file });
  const cd = readExact(src, cdOffset, cdSize, file, 'central directory');
  const cdv = view(cd);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.byteLength || cdv.getUint32(p, true) !== 0x02014b50) throw new CheckpointError('bad-format', `${file}: corrupt central directory entry ${i}`, { file });
    const method = cdv.getUint16(p + 10, true);
    let compSize = cdv.getUint32(p + 20, true);
    let size = cdv.getUint32(p + 24, true);
    const nameLen = cdv.getUint16(p + 28, true);
    const extraLen = cdv.getUint16(p + 30, true);
    const commentLen = cdv.getUint16(p + 32, true);
    let localOff = cdv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cd.byteLength) throw new CheckpointError('bad-format', `${file}: corrupt central directory entry ${i}`, { file });
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field (id 1): the 0xFFFFFFFF fields, in order size, compSize, offset.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cdv.getUint16(e, true);
      const len = cdv.getUint16(e + 2, true);
      if (e + 4 + len > eEnd) break;
      if (id === 1) {
        let q = e + 4;
        const take = () => {
          if (q + 8 > e + 4 + len) throw new CheckpointError('bad-format', `${file}: short zip64 field in "${name}"`, { file });
          const v = u64(cdv, q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compSize === 0xffffffff) compSize = take();
        if (localOff === 0xffffffff) localOff = take();
      }
      e += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    const local = readExact(src, localOff, 30, file, `local header of "${name}"`);
    const lv = view(local);
    if (lv.getUint32(0, true) !== 0x04034b50) throw new CheckpointError('bad-format', `${file}: bad local header for "${name}"`, { file });
    const dataOff = localOff + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataOff + compSize > src.size) throw new CheckpointError('truncated', `${file}: entry "${name}" extends past the end of the file`, { file });
    entries.set(name, { name, offset: dataOff, size: compSize, method });
  }
  return entries;
}

export function readEntry(src: ByteSource, e: ZipEntry, file: string): Uint8Array {
  if (e.method !== 0) throw new CheckpointError('bad-format', `${file}: entry "${e.name}" is compressed (method ${e.method}); torch.save writes stored entries`, { file });
  return readExact(src, e.offset, e.size, file, `entry "${e.name}"`);
}
