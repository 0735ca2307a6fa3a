/*
 * qr.js - a small QR code encoder (ISO/IEC 18004): byte mode, error correction level M,
 * versions 1-10 (up to 213 bytes), the smallest version that fits, the mask with the lowest
 * penalty. No external library: the site is local only.
 *
 *   const m = FVQR.encode("5f2c...");        // {size, get(x, y) -> true for a dark module}
 *   el.appendChild(FVQR.svg("5f2c...", {scale: 8, label: "visit QR"}));
 *
 * Works in the browser (window.FVQR) and in node (module.exports) for the encoder's test.
 */
(function (root) {
  "use strict";

  // Level M, versions 1..10: EC codewords per block, [count, data codewords] per block group.
  const EC_M = [null,
    [10, [[1, 16]]], [16, [[1, 28]]], [26, [[1, 44]]], [18, [[2, 32]]], [24, [[2, 43]]],
    [16, [[4, 27]]], [18, [[4, 31]]], [22, [[2, 38], [2, 39]]], [22, [[3, 36], [2, 37]]],
    [26, [[4, 43], [1, 44]]]];
  const ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42],
    [6, 26, 46], [6, 28, 50]];

  // GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1.
  const EXP = new Uint8Array(512), LOG = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    EXP[i] = x; LOG[x] = i;
    x <<= 1; if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
  const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

  function rsGenerator(n) {
    let g = [1];
    for (let i = 0; i < n; i++) {
      const next = new Array(g.length + 1).fill(0);
      for (let j = 0; j < g.length; j++) {
        next[j] ^= g[j];
        next[j + 1] ^= mul(g[j], EXP[i]);
      }
      g = next;
    }
    return g; // leading coefficient first (1)
  }

  function rsRemainder(data, n) {
    const gen = rsGenerator(n), rem = new Array(n).fill(0);
    for (const b of data) {
      const f = b ^ rem.shift();
      rem.push(0);
      for (let j = 0; j < n; j++) rem[j] ^= mul(gen[j + 1], f);
    }
    return rem;
  }

  function utf8(text) {
    if (typeof TextEncoder !== "undefined") return Array.from(new TextEncoder().encode(text));
    return Array.from(Buffer.from(text, "utf8"));
  }

  function dataCodewords(v) {
    return EC_M[v][1].reduce((s, [count, d]) => s + count * d, 0);
  }

  // The data codewords (mode, count, bytes, terminator, padding) for version v.
  function buildData(bytes, v) {
    const bits = [];
    const put = (val, n) => { for (let i = n - 1; i >= 0; i--) bits.push((val >>> i) & 1); };
    put(4, 4); // byte mode
    put(bytes.length, v < 10 ? 8 : 16);
    for (const b of bytes) put(b, 8);
    const cap = dataCodewords(v) * 8;
    for (let i = 0; i < 4 && bits.length < cap; i++) bits.push(0);
    while (bits.length % 8) bits.push(0);
    const out = [];
    for (let i = 0; i < bits.length; i += 8) {
      let b = 0;
      for (let j = 0; j < 8; j++) b = (b << 1) | bits[i + j];
      out.push(b);
    }
    for (let pad = 0xec; out.length < cap / 8; pad ^= 0xec ^ 0x11) out.push(pad);
    return out;
  }

  // Splits into blocks, adds the EC codewords, interleaves.
  function codewords(data, v) {
    const [ecn, groups] = EC_M[v];
    const blocks = [], ecs = [];
    let k = 0;
    for (const [count, d] of groups)
      for (let i = 0; i < count; i++) {
        const blk = data.slice(k, k + d);
        k += d;
        blocks.push(blk);
        ecs.push(rsRemainder(blk, ecn));
      }
    const out = [];
    const maxd = Math.max(...blocks.map((b) => b.length));
    for (let i = 0; i < maxd; i++) for (const b of blocks) if (i < b.length) out.push(b[i]);
    for (let i = 0; i < ecn; i++) for (const e of ecs) out.push(e[i]);
    return out;
  }

  function bch(value, poly, polyBits) {
    let v = value << (polyBits - 1);
    for (let i = 31; i >= polyBits - 1; i--) if ((v >>> i) & 1) v ^= poly << (i - (polyBits - 1));
    return (value << (polyBits - 1)) | v;
  }

  const MASKS = [
    (x, y) => (x + y) % 2 === 0,
    (x, y) => y % 2 === 0,
    (x) => x % 3 === 0,
    (x, y) => (x + y) % 3 === 0,
    (x, y) => (Math.floor(y / 2) + Math.floor(x / 3)) % 2 === 0,
    (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
    (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
    (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
  ];

  function Matrix(v) {
    const size = 17 + 4 * v;
    this.size = size;
    this.dark = new Uint8Array(size * size);
    this.fixed = new Uint8Array(size * size);
  }
  Matrix.prototype.set = function (x, y, d, fixed) {
    const i = y * this.size + x;
    this.dark[i] = d ? 1 : 0;
    if (fixed) this.fixed[i] = 1;
  };
  Matrix.prototype.get = function (x, y) {
    return this.dark[y * this.size + x] === 1;
  };

  function placeFunctionPatterns(m, v) {
    const n = m.size;
    const finder = (cx, cy) => {
      for (let dy = -4; dy <= 4; dy++)
        for (let dx = -4; dx <= 4; dx++) {
          const x = cx + dx, y = cy + dy;
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          const d = Math.max(Math.abs(dx), Math.abs(dy));
          m.set(x, y, d !== 2 && d !== 4, true);
        }
    };
    finder(3, 3); finder(n - 4, 3); finder(3, n - 4);
    for (let i = 8; i < n - 8; i++) { m.set(i, 6, i % 2 === 0, true); m.set(6, i, i % 2 === 0, true); }
    const al = ALIGN[v];
    for (const ay of al)
      for (const ax of al) {
        if ((ax === 6 && ay === 6) || (ax === 6 && ay === al[al.length - 1]) ||
            (ay === 6 && ax === al[al.length - 1])) continue;
        for (let dy = -2; dy <= 2; dy++)
          for (let dx = -2; dx <= 2; dx++)
            m.set(ax + dx, ay + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1, true);
      }
    // Reserve the format areas (written later) and the dark module.
    for (let i = 0; i < 9; i++) {
      if (i === 6) continue; // the timing patterns cross here
      m.set(8, i, false, true);
      m.set(i, 8, false, true);
    }
    for (let i = 0; i < 8; i++) { m.set(n - 1 - i, 8, false, true); m.set(8, n - 1 - i, false, true); }
    m.set(8, n - 8, true, true);
    if (v >= 7) {
      const bits = bch(v, 0x1f25, 13);
      for (let i = 0; i < 18; i++) {
        const d = ((bits >>> i) & 1) === 1, a = n - 11 + (i % 3), b = Math.floor(i / 3);
        m.set(a, b, d, true);
        m.set(b, a, d, true);
      }
    }
  }

  function placeData(m, cw) {
    const n = m.size;
    let bit = 0;
    const total = cw.length * 8;
    for (let right = n - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let vert = 0; vert < n; vert++)
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          const upward = ((right + 1) & 2) === 0;
          const y = upward ? n - 1 - vert : vert;
          if (m.fixed[y * n + x]) continue;
          const d = bit < total && ((cw[bit >>> 3] >>> (7 - (bit & 7))) & 1) === 1;
          m.dark[y * n + x] = d ? 1 : 0;
          bit++;
        }
    }
  }

  function applyMask(m, k) {
    const n = m.size, f = MASKS[k];
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++)
        if (!m.fixed[y * n + x] && f(x, y)) m.dark[y * n + x] ^= 1;
  }

  function placeFormat(m, k) {
    const n = m.size;
    const bits = bch((0 << 3) | k, 0x537, 11) ^ 0x5412; // level M = 00
    const b = (i) => ((bits >>> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) m.set(8, i, b(i), true);
    m.set(8, 7, b(6), true);
    m.set(8, 8, b(7), true);
    m.set(7, 8, b(8), true);
    for (let i = 9; i < 15; i++) m.set(14 - i, 8, b(i), true);
    for (let i = 0; i < 8; i++) m.set(n - 1 - i, 8, b(i), true);
    for (let i = 8; i < 15; i++) m.set(8, n - 15 + i, b(i), true);
    m.set(8, n - 8, true, true);
  }

  function penalty(m) {
    const n = m.size;
    let p = 0;
    const line = (get) => {
      let s = 0, run = 1;
      for (let i = 1; i <= n; i++) {
        if (i < n && get(i) === get(i - 1)) { run++; continue; }
        if (run >= 5) s += 3 + (run - 5);
        run = 1;
      }
      // finder-like 1:1:3:1:1 with 4 light modules on one side
      for (let i = 0; i + 6 < n; i++) {
        if (get(i) && !get(i + 1) && get(i + 2) && get(i + 3) && get(i + 4) && !get(i + 5) &&
            get(i + 6)) {
          let before = true, after = true;
          for (let j = 1; j <= 4; j++) {
            if (i - j >= 0 && get(i - j)) before = false;
            if (i + 6 + j < n && get(i + 6 + j)) after = false;
          }
          if (before || after) s += 40;
        }
      }
      return s;
    };
    for (let y = 0; y < n; y++) p += line((i) => m.get(i, y));
    for (let x = 0; x < n; x++) p += line((i) => m.get(x, i));
    for (let y = 0; y + 1 < n; y++)
      for (let x = 0; x + 1 < n; x++) {
        const c = m.get(x, y);
        if (c === m.get(x + 1, y) && c === m.get(x, y + 1) && c === m.get(x + 1, y + 1)) p += 3;
      }
    let darkCount = 0;
    for (let i = 0; i < n * n; i++) darkCount += m.dark[i];
    p += Math.floor(Math.abs(darkCount * 20 - n * n * 10) / (n * n)) * 10;
    return p;
  }

  function encode(text) {
    const bytes = utf8(String(text));
    let v = 1;
    while (v <= 10 && (v < 10 ? 8 : 16) + 4 + bytes.length * 8 > dataCodewords(v) * 8) v++;
    if (v > 10) throw new Error("QR: text too long for versions 1-10 (213 bytes at most)");
    const cw = codewords(buildData(bytes, v), v);
    let best = null, bestScore = Infinity;
    for (let k = 0; k < 8; k++) {
      const m = new Matrix(v);
      placeFunctionPatterns(m, v);
      placeData(m, cw);
      applyMask(m, k);
      placeFormat(m, k);
      const s = penalty(m);
      if (s < bestScore) { best = m; bestScore = s; }
    }
    best.version = v;
    return best;
  }

  // An <svg> of the code with a 4-module quiet zone; one path for all dark modules.
  function svg(text, opts) {
    const o = opts || {};
    const m = encode(text), q = 4, n = m.size + 2 * q, scale = o.scale || 6;
    const ns = "http://www.w3.org/2000/svg";
    const el = document.createElementNS(ns, "svg");
    el.setAttribute("viewBox", "0 0 " + n + " " + n);
    el.setAttribute("width", String(n * scale));
    el.setAttribute("height", String(n * scale));
    el.setAttribute("shape-rendering", "crispEdges");
    el.setAttribute("role", "img");
    if (o.label) el.setAttribute("aria-label", o.label);
    el.setAttribute("data-qr-version", String(m.version));
    const bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", String(n));
    bg.setAttribute("height", String(n));
    bg.setAttribute("fill", "#fff");
    el.appendChild(bg);
    let d = "";
    for (let y = 0; y < m.size; y++)
      for (let x = 0; x < m.size; x++)
        if (m.get(x, y)) d += "M" + (x + q) + " " + (y + q) + "h1v1h-1z";
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "#000");
    el.appendChild(path);
    return el;
  }

  const api = { encode, svg };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.FVQR = api;
})(typeof window !== "undefined" ? window : this);
