// A tiny PNG writer (8-bit RGB, one IDAT, filter 0 on every row) and a line chart on top of it, so the soak
// can draw its figures without a dependency. Text is left to the report; the chart is panels of lines.
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes `rgb` (width × height × 3 bytes, rows top to bottom) as a PNG file. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new RangeError(`encodePng: ${rgb.length} bytes for ${width}×${height}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export interface Series {
  /** One value per interval; NaN = no value. */
  values: number[];
  /** [r, g, b] */
  color: [number, number, number];
}

/**
 * One panel per entry, stacked: each panel scales its series from 0 to the panel's maximum, grey grid lines
 * at quarters. Returns the PNG.
 */
export function lineChart(panels: Series[][], opts: { width?: number; panelHeight?: number } = {}): Buffer {
  const width = opts.width ?? 800;
  const ph = opts.panelHeight ?? 120;
  const pad = 8;
  const height = panels.length * (ph + pad) + pad;
  const px = new Uint8Array(width * height * 3).fill(255);
  const set = (x: number, y: number, c: readonly number[]): void => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    px[i] = c[0]; px[i + 1] = c[1]; px[i + 2] = c[2];
  };
  const line = (x0: number, y0: number, x1: number, y1: number, c: readonly number[]): void => {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= n; i++) set(Math.round(x0 + ((x1 - x0) * i) / n), Math.round(y0 + ((y1 - y0) * i) / n), c);
  };
  panels.forEach((series, p) => {
    const top = pad + p * (ph + pad);
    const left = pad;
    const w = width - 2 * pad;
    for (let q = 0; q <= 4; q++) line(left, top + Math.round((ph * q) / 4), left + w, top + Math.round((ph * q) / 4), q === 4 || q === 0 ? [120, 120, 120] : [220, 220, 220]);
    line(left, top, left, top + ph, [120, 120, 120]);
    let max = 0;
    for (const s of series) for (const v of s.values) if (Number.isFinite(v)) max = Math.max(max, v);
    if (max <= 0) max = 1;
    for (const s of series) {
      const n = s.values.length;
      let prev: [number, number] | null = null;
      for (let i = 0; i < n; i++) {
        const v = s.values[i];
        if (!Number.isFinite(v)) { prev = null; continue; }
        const x = left + (n <= 1 ? 0 : Math.round((w * i) / (n - 1)));
        const y = top + ph - Math.round((ph * v) / max);
        if (prev) { line(prev[0], prev[1], x, y, s.color); line(prev[0], prev[1] + 1, x, y + 1, s.color); } else set(x, y, s.color);
        prev = [x, y];
      }
    }
  });
  return encodePng(width, height, px);
}
