// WGSL kernels of the engine. Each is one elementwise pass; CpuDevice holds the reference
// semantics of every one (tests compare the two in the browser).
// Index: invocations are laid out 2-D (x ≤ 65535 workgroups) so large tensors still fit.

const INDEX = /* wgsl */ `
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 256u; }
`;

// Element i of a tile (c, tf, th, tw), row-major → its (x, y, f, c); and the flat index of
// (c, f, y, x) in an N = 1 tensor with F frames of H×W.
const TILE = /* wgsl */ `
fn tilePos(i: u32, tf: u32, th: u32, tw: u32) -> vec4<u32> {
  return vec4<u32>(i % tw, (i / tw) % th, (i / (tw * th)) % tf, i / (tw * th * tf));
}
fn at(c: u32, f: u32, y: u32, x: u32, F: u32, H: u32, W: u32) -> u32 { return ((c * F + f) * H + y) * W + x; }
`;

export const KERNELS = {
  // out = c0·out + c1·t1 + c2·t2 + c3·t3
  linear: /* wgsl */ `
${INDEX}
struct P { c: vec4<f32>, n: u32, terms: u32, pad0: u32, pad1: u32 };
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<storage, read> t1: array<f32>;
@group(0) @binding(2) var<storage, read> t2: array<f32>;
@group(0) @binding(3) var<storage, read> t3: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  var v = p.c.x * o[i];
  if (p.terms > 0u) { v = v + p.c.y * t1[i]; }
  if (p.terms > 1u) { v = v + p.c.z * t2[i]; }
  if (p.terms > 2u) { v = v + p.c.w * t3[i]; }
  o[i] = v;
}`,

  // x = a·x + b·(e_u + g·(e_c − e_u)) + c·noise, with eps2 = [e_u | e_c]
  guidedUpdate: /* wgsl */ `
${INDEX}
struct P { k: vec4<f32>, n: u32, hasNoise: u32, pad0: u32, pad1: u32 };
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> e: array<f32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let eu = e[i];
  let eps = eu + p.k.x * (e[p.n + i] - eu);
  var v = p.k.y * x[i] + p.k.z * eps;
  if (p.hasNoise == 1u) { v = v + p.k.w * z[i]; }
  x[i] = v;
}`,

  // out2 = [s·x, s·x]
  duplicate: /* wgsl */ `
${INDEX}
struct P { s: f32, n: u32, pad0: u32, pad1: u32 };
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let v = p.s * x[i];
  o[i] = v;
  o[p.n + i] = v;
}`,

  // out[c, i] = s · video[c, f, i] for NCFHW video, N = 1
  extractFrame: /* wgsl */ `
${INDEX}
struct P { s: f32, c: u32, frames: u32, hw: u32, f: u32, pad0: u32, pad1: u32, pad2: u32 };
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.c * p.hw) { return; }
  let ch = i / p.hw;
  let k = i % p.hw;
  o[i] = p.s * v[(ch * p.frames + p.f) * p.hw + k];
}`,

  // RGBA8 packed in u32 from planar [3, HW] in [-1, 1]: floor((y/2+0.5)·255 + 0.5) clamped
  // (trunc = 0), or trunc(clamp(y/2+0.5, 0, 1)·255) (trunc = 1, LaVie VSR)
  toRgba: /* wgsl */ `
${INDEX}
struct P { hw: u32, trunc: u32, pad1: u32, pad2: u32 };
@group(0) @binding(0) var<storage, read_write> o: array<u32>;
@group(0) @binding(1) var<storage, read> img: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
fn byte(y: f32) -> u32 {
  if (p.trunc == 1u) { return u32(clamp(y / 2.0 + 0.5, 0.0, 1.0) * 255.0); }
  return u32(clamp(floor((y / 2.0 + 0.5) * 255.0 + 0.5), 0.0, 255.0));
}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.hw) { return; }
  o[i] = byte(img[i]) | (byte(img[p.hw + i]) << 8u) | (byte(img[2u * p.hw + i]) << 16u) | (255u << 24u);
}`,

  // out[c, f, y, x] = s · src[c, f0+f, y0+y, x0+x]; sizes: out (c, tf, th, tw), src (sf, sh, sw)
  crop: /* wgsl */ `
${INDEX}
${TILE}
struct P { s: f32, n: u32, tf: u32, th: u32, tw: u32, sf: u32, sh: u32, sw: u32, f0: u32, y0: u32, x0: u32, pad0: u32 };
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let q = tilePos(i, p.tf, p.th, p.tw);
  o[i] = p.s * v[at(q.w, p.f0 + q.z, p.y0 + q.y, p.x0 + q.x, p.sf, p.sh, p.sw)];
}`,

  // acc[c, f0+f, y0+y, x0+x] += w[y, x] · (a + g·(b − a)) over a tile (c, tf, th, tw); hasB = 0: a alone
  accumulateTile: /* wgsl */ `
${INDEX}
${TILE}
struct P { g: f32, n: u32, tf: u32, th: u32, tw: u32, af: u32, ah: u32, aw: u32, f0: u32, y0: u32, x0: u32, aOff: u32, bOff: u32, hasB: u32, pad0: u32, pad1: u32 };
@group(0) @binding(0) var<storage, read_write> acc: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let q = tilePos(i, p.tf, p.th, p.tw);
  let av = a[p.aOff + i];
  var v = av;
  if (p.hasB == 1u) { v = av + p.g * (b[p.bOff + i] - av); }
  let j = at(q.w, p.f0 + q.z, p.y0 + q.y, p.x0 + q.x, p.af, p.ah, p.aw);
  acc[j] = acc[j] + w[q.y * p.tw + q.x] * v;
}`,
} as const;

export type KernelName = keyof typeof KERNELS;
