/**
 * A minimal ZIP writer (stored entries, no compression, CRC-32), enough to hand a run folder to
 * the user as one download: every unzip, Python's zipfile and numpy.load(zipfile.open(...)) read
 * it. Names are UTF-8 (general-purpose flag bit 11). No ZIP64: the archive must stay under 4 GiB.
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** DOS date/time of `d` (local time, 2-second resolution), as ZIP headers store it. */
function dosTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/** Files (name → bytes or text) as a ZIP archive; `folder` prefixes every name ("run/…"). */
export function zipFiles(files: Map<string, Uint8Array | string> | [string, Uint8Array | string][], folder = '', when = new Date()): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const entries = [...files].map(([name, body]) => ({
    name: enc.encode(folder ? `${folder}/${name}` : name),
    data: typeof body === 'string' ? enc.encode(body) : body,
  }));
  const { time, date } = dosTime(when);
  let size = 22;
  for (const e of entries) size += 30 + e.name.length + e.data.length + 46 + e.name.length;
  if (size > 0xffffffff) throw new Error(`zip: ${size} bytes is more than a ZIP without ZIP64 can hold`);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const central: { offset: number; crc: number; name: Uint8Array; size: number }[] = [];
  for (const e of entries) {
    const crc = crc32(e.data);
    central.push({ offset: at, crc, name: e.name, size: e.data.length });
    view.setUint32(at, 0x04034b50, true);
    view.setUint16(at + 4, 20, true); // version needed
    view.setUint16(at + 6, 0x0800, true); // UTF-8 names
    view.setUint16(at + 8, 0, true); // stored
    view.setUint16(at + 10, time, true);
    view.setUint16(at + 12, date, true);
    view.setUint32(at + 14, crc, true);
    view.setUint32(at + 18, e.data.length, true);
    view.setUint32(at + 22, e.data.length, true);
    view.setUint16(at + 26, e.name.length, true);
    view.setUint16(at + 28, 0, true);
    out.set(e.name, at + 30);
    out.set(e.data, at + 30 + e.name.length);
    at += 30 + e.name.length + e.data.length;
  }
  const cdStart = at;
  for (const c of central) {
    view.setUint32(at, 0x02014b50, true);
    view.setUint16(at + 4, 20, true); // version made by
    view.setUint16(at + 6, 20, true);
    view.setUint16(at + 8, 0x0800, true);
    view.setUint16(at + 10, 0, true);
    view.setUint16(at + 12, time, true);
    view.setUint16(at + 14, date, true);
    view.setUint32(at + 16, c.crc, true);
    view.setUint32(at + 20, c.size, true);
    view.setUint32(at + 24, c.size, true);
    view.setUint16(at + 28, c.name.length, true);
    view.setUint16(at + 30, 0, true); // extra
    view.setUint16(at + 32, 0, true); // comment
    view.setUint16(at + 34, 0, true); // disk
    view.setUint16(at + 36, 0, true); // internal attributes
    view.setUint32(at + 38, 0, true); // external attributes
    view.setUint32(at + 42, c.offset, true);
    out.set(c.name, at + 46);
    at += 46 + c.name.length;
  }
  view.setUint32(at, 0x06054b50, true);
  view.setUint16(at + 8, central.length, true);
  view.setUint16(at + 10, central.length, true);
  view.setUint32(at + 12, at - cdStart, true);
  view.setUint32(at + 16, cdStart, true);
  return out;
}
