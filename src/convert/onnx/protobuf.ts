// A minimal protobuf encoder: just what ONNX's ModelProto needs (varints, fixed32, length-delimited).
// Messages are built as lists of byte chunks and joined once, so large graphs are not copied repeatedly.

export class PbWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.byteLength;
  }

  private varint(v: number | bigint): void {
    const bytes: number[] = [];
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      while (v > 127) {
        bytes.push((v % 128) | 0x80);
        v = Math.floor(v / 128);
      }
      bytes.push(v);
    } else {
      // int64 two's complement as 10-byte varint (negative attribute ints such as axis = -1).
      let b = BigInt.asUintN(64, BigInt(v));
      while (b > 127n) {
        bytes.push(Number(b & 127n) | 0x80);
        b >>= 7n;
      }
      bytes.push(Number(b));
    }
    this.push(Uint8Array.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.byteLength);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: PbWriter): this {
    this.tag(field, 2);
    this.varint(m.size);
    for (const c of m.chunks) this.push(c);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.byteLength;
    }
    return out;
  }
}
