// Renders the app icon (public/favicon.svg's design) to the PNGs the web manifest needs. Run once
// after changing the design: `node scripts/make-icons.mjs` (outputs are committed; they are tiny).
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

function crc32(buf) {
  let c = ~0;
  for (const b of buf) { c ^= b; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
  return ~c >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, maskable) {
  const s = size / 64;
  const inRound = (x, y, x0, y0, w, h, r) => {
    if (x < x0 || y < y0 || x > x0 + w || y > y0 + h) return false;
    const cx = Math.min(Math.max(x, x0 + r), x0 + w - r), cy = Math.min(Math.max(y, y0 + r), y0 + h - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
  const inTri = (x, y) => x >= 44 && x <= 54 && y >= 22 + ((x - 44) * 6) / 10 && y <= 42 - ((x - 44) * 6) / 10;
  const rows = [];
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let px = 0; px < size; px++) {
      // maskable: full-bleed background, artwork inside the 80 % safe zone
      const k = maskable ? 0.8 : 1, o = maskable ? 6.4 : 0;
      const x = (px + 0.5) / s, y = (py + 0.5) / s;
      const ax = (x - o) / k, ay = (y - o) / k;
      const bg = maskable || inRound(x, y, 0, 0, 64, 64, 14);
      const fg = inRound(ax, ay, 12, 18, 30, 28, 5) || inTri(ax, ay);
      const i = 1 + px * 4;
      if (fg) row.set([255, 255, 255, 255], i);
      else if (bg) row.set([0x3b, 0x5b, 0xdb, 255], i);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}
writeFileSync('public/icons/icon-192.png', png(192, false));
writeFileSync('public/icons/icon-512.png', png(512, false));
writeFileSync('public/icons/maskable-512.png', png(512, true));
