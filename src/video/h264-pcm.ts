// A tiny H.264 encoder in plain TypeScript for places without WebCodecs (Node: the generate CLI).
//
// Every frame is an IDR picture whose macroblocks are all I_PCM: the 4:2:0 samples are stored
// as they are, so there is no transform, prediction or entropy coding to get wrong, and every
// H.264 decoder (browsers, players, ffmpeg) plays it. The cost is size: 384 bytes per 16×16
// macroblock (a 128×80 frame is 15 KB, a 512×320 one 240 KB) — fine for short clips, far larger
// than the browser's encoder output. Constrained Baseline, CAVLC, one slice per picture, cropping
// for sizes that are not multiples of 16, BT.601 limited range signalled in the VUI.
// Spec references: ITU-T H.264 §7.3 (syntax), §7.4.1 (emulation prevention), ISO/IEC 14496-15 (avcC).
import { avcCodecString } from './index.ts';

/** MSB-first bit writer with the Exp-Golomb codes of H.264 §9.1. */
class Bits {
  private bytes: number[] = [];
  private cur = 0;
  private n = 0;

  u(bits: number, value: number): void {
    for (let i = bits - 1; i >= 0; i--) this.bit((value >>> i) & 1);
  }

  bit(b: number): void {
    this.cur = (this.cur << 1) | b;
    if (++this.n === 8) {
      this.bytes.push(this.cur);
      this.cur = 0;
      this.n = 0;
    }
  }

  ue(v: number): void {
    const x = v + 1;
    const len = 32 - Math.clz32(x);
    this.u(len - 1, 0);
    this.u(len, x);
  }

  se(v: number): void {
    this.ue(v <= 0 ? -2 * v : 2 * v - 1);
  }

  get aligned(): boolean {
    return this.n === 0;
  }

  /** Raw bytes (only when byte-aligned: PCM samples). */
  raw(src: Uint8Array): void {
    if (this.n !== 0) throw new Error('Bits.raw: not byte-aligned');
    for (const b of src) this.bytes.push(b);
  }

  /** rbsp_trailing_bits: a 1, then zeros to the byte boundary. */
  trailing(): Uint8Array {
    this.bit(1);
    while (this.n !== 0) this.bit(0);
    return Uint8Array.from(this.bytes);
  }
}

/** NAL unit (header + payload) with emulation-prevention bytes inserted (§7.4.1). */
function nal(refIdc: number, type: number, rbsp: Uint8Array): Uint8Array {
  const out: number[] = [(refIdc << 5) | type];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

export interface PcmEncoder {
  readonly width: number;
  readonly height: number;
  /** WebCodecs/MP4 codec string, e.g. `avc1.42c01f`. */
  readonly codec: string;
  /** The avcC record (ISO/IEC 14496-15) for the MP4 sample description. */
  readonly avcC: Uint8Array;
  /** One RGBA frame → one access unit in AVCC form (4-byte length + IDR slice NAL). */
  encode(rgba: Uint8Array | Uint8ClampedArray): Uint8Array;
}

const PROFILE_BASELINE = 66;
const CONSTRAINED = 0xc0; // constraint_set0 + constraint_set1: Constrained Baseline
const MB_TYPE_I_PCM = 25; // in I slices

/** BT.601 limited-range RGB → Y'CbCr (what H.264 decoders assume for SD video). */
export function rgbToYuv601(r: number, g: number, b: number): [number, number, number] {
  const y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  const cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
  const cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
  return [y, cb, cr];
}

/** The inverse (for tests and for checks on decoded samples). */
export function yuv601ToRgb(y: number, cb: number, cr: number): [number, number, number] {
  const yy = (y - 16) * (255 / 219);
  const pb = (cb - 128) * (255 / 224);
  const pr = (cr - 128) * (255 / 224);
  const c = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  return [c(yy + 1.402 * pr), c(yy - 0.344136 * pb - 0.714136 * pr), c(yy + 1.772 * pb)];
}

export function createPcmEncoder(width: number, height: number, fps: number): PcmEncoder {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width % 2 || height % 2) {
    throw new RangeError(`H.264 4:2:0 needs even positive dimensions, got ${width}×${height}`);
  }
  const mbW = Math.ceil(width / 16);
  const mbH = Math.ceil(height / 16);
  const codecBase = avcCodecString(width, height, fps) ?? 'avc1.420034';
  const level = parseInt(codecBase.slice(-2), 16);

  const spsBits = new Bits();
  spsBits.u(8, PROFILE_BASELINE);
  spsBits.u(8, CONSTRAINED);
  spsBits.u(8, level);
  spsBits.ue(0); // seq_parameter_set_id
  spsBits.ue(0); // log2_max_frame_num_minus4 (every picture is an IDR: frame_num stays 0)
  spsBits.ue(2); // pic_order_cnt_type 2: output order = decoding order
  spsBits.ue(1); // max_num_ref_frames
  spsBits.u(1, 0); // gaps_in_frame_num_value_allowed_flag
  spsBits.ue(mbW - 1);
  spsBits.ue(mbH - 1);
  spsBits.u(1, 1); // frame_mbs_only_flag
  spsBits.u(1, 1); // direct_8x8_inference_flag
  const cropR = (mbW * 16 - width) / 2;
  const cropB = (mbH * 16 - height) / 2;
  spsBits.u(1, cropR || cropB ? 1 : 0);
  if (cropR || cropB) {
    spsBits.ue(0);
    spsBits.ue(cropR);
    spsBits.ue(0);
    spsBits.ue(cropB);
  }
  spsBits.u(1, 1); // vui_parameters_present_flag
  spsBits.u(1, 0); // aspect_ratio_info_present_flag
  spsBits.u(1, 0); // overscan_info_present_flag
  spsBits.u(1, 1); // video_signal_type_present_flag
  spsBits.u(3, 5); // video_format: unspecified
  spsBits.u(1, 0); // video_full_range_flag: limited range
  spsBits.u(1, 1); // colour_description_present_flag
  spsBits.u(8, 6); // colour_primaries: SMPTE 170M (BT.601)
  spsBits.u(8, 6); // transfer_characteristics: SMPTE 170M
  spsBits.u(8, 6); // matrix_coefficients: SMPTE 170M
  spsBits.u(1, 0); // chroma_loc_info_present_flag
  spsBits.u(1, 0); // timing_info_present_flag (the MP4 carries timing)
  spsBits.u(1, 0); // nal_hrd_parameters_present_flag
  spsBits.u(1, 0); // vcl_hrd_parameters_present_flag
  spsBits.u(1, 0); // pic_struct_present_flag
  spsBits.u(1, 0); // bitstream_restriction_flag
  const sps = nal(3, 7, spsBits.trailing());

  const ppsBits = new Bits();
  ppsBits.ue(0); // pic_parameter_set_id
  ppsBits.ue(0); // seq_parameter_set_id
  ppsBits.u(1, 0); // entropy_coding_mode_flag: CAVLC
  ppsBits.u(1, 0); // bottom_field_pic_order_in_frame_present_flag
  ppsBits.ue(0); // num_slice_groups_minus1
  ppsBits.ue(0); // num_ref_idx_l0_default_active_minus1
  ppsBits.ue(0); // num_ref_idx_l1_default_active_minus1
  ppsBits.u(1, 0); // weighted_pred_flag
  ppsBits.u(2, 0); // weighted_bipred_idc
  ppsBits.se(0); // pic_init_qp_minus26
  ppsBits.se(0); // pic_init_qs_minus26
  ppsBits.se(0); // chroma_qp_index_offset
  ppsBits.u(1, 1); // deblocking_filter_control_present_flag
  ppsBits.u(1, 0); // constrained_intra_pred_flag
  ppsBits.u(1, 0); // redundant_pic_cnt_present_flag
  const pps = nal(3, 8, ppsBits.trailing());

  const avcC = new Uint8Array(11 + sps.length + pps.length);
  avcC.set([1, PROFILE_BASELINE, CONSTRAINED, level, 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]);
  avcC.set(sps, 8);
  avcC.set([1, pps.length >> 8, pps.length & 0xff], 8 + sps.length);
  avcC.set(pps, 11 + sps.length);

  let idrPicId = 0;
  const luma = new Uint8Array(256);
  const cb = new Uint8Array(64);
  const cr = new Uint8Array(64);
  // Samples past the picture's edge (cropped away) repeat the last row/column.
  const px = (x: number, y: number) => 4 * (Math.min(y, height - 1) * width + Math.min(x, width - 1));
  const clampByte = (v: number) => Math.max(1, Math.min(254, Math.round(v))); // 16..240 in practice; never 0

  return {
    width,
    height,
    codec: `avc1.42${CONSTRAINED.toString(16)}${level.toString(16).padStart(2, '0')}`,
    avcC,
    encode(rgba) {
      if (rgba.length !== width * height * 4) throw new RangeError(`expected ${width * height * 4} RGBA bytes (${width}×${height}), got ${rgba.length}`);
      const s = new Bits();
      s.ue(0); // first_mb_in_slice
      s.ue(7); // slice_type: I (all slices of the picture)
      s.ue(0); // pic_parameter_set_id
      s.u(4, 0); // frame_num
      s.ue(idrPicId); // idr_pic_id: consecutive IDRs must differ
      idrPicId ^= 1;
      s.u(1, 0); // no_output_of_prior_pics_flag
      s.u(1, 0); // long_term_reference_flag
      s.se(0); // slice_qp_delta
      s.ue(1); // disable_deblocking_filter_idc: off (PCM samples are exact)
      for (let my = 0; my < mbH; my++) {
        for (let mx = 0; mx < mbW; mx++) {
          s.ue(MB_TYPE_I_PCM);
          while (!s.aligned) s.bit(0); // pcm_alignment_zero_bit
          for (let y = 0; y < 8; y++) {
            for (let x = 0; x < 8; x++) {
              // One chroma sample per 2×2 luma block: the mean of its four pixels.
              let sb = 0;
              let sr = 0;
              for (let dy = 0; dy < 2; dy++) {
                for (let dx = 0; dx < 2; dx++) {
                  const lx = 2 * x + dx;
                  const ly = 2 * y + dy;
                  const i = px(mx * 16 + lx, my * 16 + ly);
                  const [Y, U, V] = rgbToYuv601(rgba[i]!, rgba[i + 1]!, rgba[i + 2]!);
                  luma[ly * 16 + lx] = clampByte(Y);
                  sb += U;
                  sr += V;
                }
              }
              cb[y * 8 + x] = clampByte(sb / 4);
              cr[y * 8 + x] = clampByte(sr / 4);
            }
          }
          s.raw(luma);
          s.raw(cb);
          s.raw(cr);
        }
      }
      const slice = nal(3, 5, s.trailing());
      const au = new Uint8Array(4 + slice.length);
      new DataView(au.buffer).setUint32(0, slice.length);
      au.set(slice, 4);
      return au;
    },
  };
}

/** Read back an I_PCM access unit made by createPcmEncoder: the Y, Cb, Cr planes (for tests). */
export function decodePcmAccessUnit(au: Uint8Array, width: number, height: number): { y: Uint8Array; cb: Uint8Array; cr: Uint8Array } {
  const len = new DataView(au.buffer, au.byteOffset, au.byteLength).getUint32(0);
  if (len !== au.length - 4) throw new Error(`access unit length ${len} ≠ ${au.length - 4}`);
  // Remove emulation-prevention bytes.
  const rbsp: number[] = [];
  let zeros = 0;
  for (let i = 5; i < au.length; i++) {
    const b = au[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    rbsp.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if ((au[4]! & 0x1f) !== 5) throw new Error('not an IDR slice');
  const mbW = Math.ceil(width / 16);
  const mbH = Math.ceil(height / 16);
  const W = mbW * 16;
  const y = new Uint8Array(W * mbH * 16);
  const cb = new Uint8Array((W / 2) * mbH * 8);
  const cr = new Uint8Array((W / 2) * mbH * 8);
  // Bit reader over the RBSP.
  let pos = 0;
  const bit = () => (rbsp[pos >> 3]! >> (7 - (pos++ & 7))) & 1;
  const ue = () => {
    let lz = 0;
    while (bit() === 0) lz++;
    let v = 1;
    for (let i = 0; i < lz; i++) v = (v << 1) | bit();
    return v - 1;
  };
  ue(); ue(); ue(); // first_mb, slice_type, pps id
  pos += 4; // frame_num
  ue(); // idr_pic_id
  pos += 2; // dec_ref_pic_marking
  ue(); // slice_qp_delta (se, same length)
  ue(); // disable_deblocking_filter_idc
  for (let my = 0; my < mbH; my++) {
    for (let mx = 0; mx < mbW; mx++) {
      if (ue() !== MB_TYPE_I_PCM) throw new Error('not an I_PCM macroblock');
      pos = (pos + 7) & ~7;
      let o = pos >> 3;
      for (let r = 0; r < 16; r++) for (let c = 0; c < 16; c++) y[(my * 16 + r) * W + mx * 16 + c] = rbsp[o++]!;
      for (const plane of [cb, cr]) for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) plane[(my * 8 + r) * (W / 2) + mx * 8 + c] = rbsp[o++]!;
      pos = o << 3;
    }
  }
  return { y, cb, cr };
}
