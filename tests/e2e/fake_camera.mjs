// fake_camera.mjs - the kiosk's camera for the end-to-end test: a YUV4MPEG2 (I420) video that
// Chromium plays as its fake capture device (--use-file-for-fake-video-capture), made from one
// frontal development photo (../shared/data/faces).
//
// The cooperative liveness check (src/http/liveness.c, docs/api/kiosk.md) wants a usable frontal
// face, then the asked action, then a usable frontal face again. The challenge is drawn at random
// by the server, so one loop of the video shows every action in turn, each between frontal
// stretches, and the check passes on whichever it asked for:
//   frontal - blink (eyes shut, then open) - frontal - head turned to the visitor's left -
//   frontal - head turned to the visitor's right - (loop)
// The motion is synthesised from the photo, honestly enough for the landmark model to see it:
//   - a head turn rotates the face about a vertical axis on a rounded head with a nose ridge in
//     front (depth model below), drawn row by row with a depth buffer, the head's outline kept in
//     place; the nose moves across relative to the eyes, which is what the yaw measures. With
//     mirrorTurn, one direction is drawn as the mirror image of the other (the landmark model
//     reads some faces' turns better one way than the other);
//   - a blink pinches each eye vertically, as a lid does, until the opening is a thin line of
//     lashes, fading out towards the corners, brow and cheek.
// The numbers (angles, pinch) were checked on train_rose_leslie_img1.jpg against the real models
// and liveness.c, each challenge passing with the yaw or eye ratio past its threshold by a margin; on
// narrow-eyed faces the 64x64 landmark crop barely sees a blink, so other photos may need tries.
// Where the face is comes from `fairvisit faces --json` (the project's own detector and
// landmarks); the JPEG is decoded with jpeg-js (tools/node_modules).
//
// The video is a test input derived from a public development photo: the caller writes it to a
// temporary folder and deletes it after the run; it is never written inside the repository.

import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

// The largest face of `photo` as the project's pipeline sees it: {box, landmarks (5 points: the
// image's left eye, right eye, nose tip, mouth left, mouth right), quality, usable}.
export function locateFace(fairvisit, modelsDir, photo) {
  const out = execFileSync(fairvisit, ["faces", "--json", "--models", modelsDir, photo],
    { encoding: "utf8", maxBuffer: 16 << 20 });
  const line = out.split("\n").find((l) => l.trim().startsWith("{"));
  if (!line) throw new Error(`fairvisit faces printed no result for ${photo}`);
  const r = JSON.parse(line);
  const faces = (r.faces || []).slice().sort((a, b) => (b.box[3] - b.box[1]) - (a.box[3] - a.box[1]));
  if (!faces.length) throw new Error(`no face found in ${photo}`);
  return faces[0];
}

// {width, height, data: RGBA} of a JPEG file.
export function decodeJpeg(jpeg, path) {
  return jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
}

const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

function copyImage(img) {
  return { width: img.width, height: img.height, data: new Uint8Array(img.data) };
}

// The face's geometry in photo coordinates.
function geometry(face) {
  const [le, re, nose] = face.landmarks;
  const [x0, y0, x1, y1] = face.box;
  const iod = dist(le, re);
  return {
    le, re, nose, iod,
    cx: (le[0] + re[0]) / 2,
    eyeY: (le[1] + re[1]) / 2,
    boxCx: (x0 + x1) / 2,
    boxCy: (y0 + y1) / 2,
    boxW: x1 - x0,
    boxH: y1 - y0,
  };
}

// Depth (towards the camera, pixels) of the face at (x, y) before the turn: an ellipsoid head
// of the given half width on this row, flattened, plus a nose ridge from between the eyes to
// the tip.
function noseDepth(g, x, y, nose) {
  const hN = nose * g.iod; // how far the nose tip stands out in front of the cheeks
  const span = g.nose[1] - g.eyeY;
  if (!(span > 1)) return 0;
  const t = (y - g.eyeY) / span; // 0 at the eye line, 1 at the tip
  let h, rx, ry;
  if (t < 0) {
    h = 0.35 * hN * Math.exp(-(((y - g.eyeY) / (0.15 * g.iod)) ** 2));
    rx = g.cx;
    ry = 0.12 * g.iod;
  } else if (t <= 1) {
    h = hN * (0.35 + 0.65 * t);
    rx = g.cx + (g.nose[0] - g.cx) * t;
    ry = (0.12 + 0.08 * t) * g.iod;
  } else {
    h = hN * Math.exp(-(((y - g.nose[1]) / (0.16 * g.iod)) ** 2));
    rx = g.nose[0];
    ry = 0.2 * g.iod;
  }
  return h * Math.exp(-(((x - rx) / ry) ** 2) / 2);
}

// The head turned by `deg` degrees about a vertical axis (positive: the nose moves to the image's
// right, which is the visitor's own left). The outline stays where it is (each row's head span
// maps onto itself); inside it every point moves by its depth * tan(angle), hidden points are
// dropped by a depth buffer.
export function turnHead(img, face, deg, shape) {
  const sh = Object.assign({ nose: 0.38, kz: 0.8 }, shape || {});
  if (deg === 0) return copyImage(img);
  const g = geometry(face);
  const th = (deg * Math.PI) / 180;
  const tan = Math.tan(th), sin = Math.sin(th), cos = Math.cos(th);
  const W = img.width, H = img.height, src = img.data;
  const out = copyImage(img);
  const o = out.data;
  const a = 0.62 * g.boxW; // the head's half width
  const b = 0.75 * g.boxH; // and half height
  const cy = g.boxCy - 0.08 * g.boxH; // the head's centre is a little above the box's
  const kz = sh.kz; // a face is flatter than a ball
  const xd = new Float64Array(W), zd = new Float64Array(W);
  const zbuf = new Float64Array(W);
  for (let y = Math.max(0, Math.floor(cy - b)); y <= Math.min(H - 1, Math.ceil(cy + b)); y++) {
    const q = 1 - ((y - cy) / b) ** 2;
    if (q <= 0) continue;
    const w = a * Math.sqrt(q);
    if (w < 3) continue;
    const xs0 = Math.max(0, Math.ceil(g.cx - w)), xs1 = Math.min(W - 1, Math.floor(g.cx + w));
    // the edge of the head fades the nose out so the outline maps onto itself
    for (let x = xs0; x <= xs1; x++) {
      const u = (x - g.cx) / w;
      const z = kz * w * Math.sqrt(Math.max(0, 1 - u * u)) + noseDepth(g, x, y, sh.nose) * Math.max(0, 1 - u * u);
      xd[x] = x + z * tan;
      zd[x] = -(x - g.cx) * sin + z * cos;
    }
    zbuf.fill(-Infinity, xs0, xs1 + 1);
    const row = y * W * 4;
    for (let x = xs0; x < xs1; x++) {
      const p0 = xd[x], p1 = xd[x + 1];
      if (!(p1 > p0)) continue; // turned away from the camera
      const d0 = Math.max(xs0, Math.ceil(p0)), d1 = Math.min(xs1, Math.floor(p1));
      for (let d = d0; d <= d1; d++) {
        const t = (d - p0) / (p1 - p0);
        const z = zd[x] + (zd[x + 1] - zd[x]) * t;
        if (z <= zbuf[d]) continue;
        zbuf[d] = z;
        const i0 = row + x * 4, i1 = i0 + 4, io = row + d * 4;
        for (let c = 0; c < 3; c++) o[io + c] = src[i0 + c] + (src[i1 + c] - src[i0 + c]) * t;
      }
    }
  }
  return out;
}

// Both eyes shut by `amount` (0: open, 1: shut), as a lid does it: around each eye the picture
// is pinched vertically towards the eye's centre line, so the skin above and below closes over
// the opening and the lashes meet in a thin dark line. The pinch fades out towards the eye's
// corners and at the brow and cheek.
export function shutEyes(img, face, amount, shape) {
  const sh = Object.assign({ ap: 0.15, R: 0.32, half: 0.36 }, shape || {});
  const g = geometry(face);
  const W = img.width, H = img.height, src = img.data;
  const out = copyImage(img);
  const o = out.data;
  const ap = sh.ap * g.iod; // half the opening, lashes included
  const R = sh.R * g.iod; // the pinch ends here (below the brow)
  const half = sh.half * g.iod; // half the eye's width, corners included
  const keep = 1 - 0.94 * amount; // what is left of the opening's height
  const sample = (x, y, c) => {
    const yy = clamp(y, 0, H - 1), y0 = Math.floor(yy), y1 = Math.min(H - 1, y0 + 1), f = yy - y0;
    return src[(y0 * W + x) * 4 + c] * (1 - f) + src[(y1 * W + x) * 4 + c] * f;
  };
  for (const e of [g.le, g.re]) {
    const ex = e[0], ey = e[1];
    for (let x = Math.max(0, Math.floor(ex - half)); x <= Math.min(W - 1, Math.ceil(ex + half)); x++) {
      const u = (x - ex) / half;
      if (Math.abs(u) >= 1) continue;
      const wx = Math.cos((u * Math.PI) / 2) ** 2; // 1 in the middle, 0 at the corners
      for (let y = Math.max(0, Math.floor(ey - R)); y <= Math.min(H - 1, Math.ceil(ey + R)); y++) {
        const d = Math.abs(y - ey), sg = y < ey ? -1 : 1;
        if (d >= R) continue;
        // where this row's pixel comes from: the opening squeezed into keep * ap, the skin
        // around it stretched to fill up to R
        const inner = keep * ap;
        const s = d < inner ? d / keep : ap + ((d - inner) * (R - ap)) / (R - inner);
        const sy = ey + sg * (d + wx * (s - d));
        const i = (y * W + x) * 4;
        for (let c = 0; c < 3; c++) o[i + c] = sample(x, sy, c);
      }
    }
  }
  return out;
}

// A 4:3 frame of width x height around the face (face height about 45% of the frame),
// bilinear, edges repeated where the photo ends. Returns RGB bytes.
export function frameAround(img, face, width, height) {
  const g = geometry(face);
  const cropH = g.boxH * 2.2, s = cropH / height;
  const W = img.width, H = img.height, src = img.data;
  // centred on the face, but kept inside the photo where it fits (no smeared edges)
  let ox = g.boxCx - (width * s) / 2, oy = g.boxCy - 0.04 * g.boxH - (height * s) / 2;
  if (width * s <= W) ox = clamp(ox, 0, W - width * s);
  if (height * s <= H) oy = clamp(oy, 0, H - height * s);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = clamp(oy + (y + 0.5) * s - 0.5, 0, H - 1);
    const y0 = Math.floor(sy), y1 = Math.min(H - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = clamp(ox + (x + 0.5) * s - 0.5, 0, W - 1);
      const x0 = Math.floor(sx), x1 = Math.min(W - 1, x0 + 1), fx = sx - x0;
      const i00 = (y0 * W + x0) * 4, i01 = (y0 * W + x1) * 4, i10 = (y1 * W + x0) * 4, i11 = (y1 * W + x1) * 4;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[i00 + c] + (src[i01 + c] - src[i00 + c]) * fx;
        const bot = src[i10 + c] + (src[i11 + c] - src[i10 + c]) * fx;
        out[o + c] = Math.round(top + (bot - top) * fy);
      }
    }
  }
  return out;
}

// RGB -> I420 (BT.601, limited range), one buffer: Y plane, then U, then V.
export function rgbToI420(rgb, width, height) {
  const cw = width >> 1, ch = height >> 1;
  const out = Buffer.alloc(width * height + 2 * cw * ch);
  for (let i = 0; i < width * height; i++) {
    const r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    out[i] = clamp(Math.round(16 + 0.2568 * r + 0.5041 * g + 0.0979 * b), 0, 255);
  }
  const u0 = width * height, v0 = u0 + cw * ch;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let r = 0, g = 0, b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const i = ((2 * y + dy) * width + 2 * x + dx) * 3;
        r += rgb[i]; g += rgb[i + 1]; b += rgb[i + 2];
      }
      r /= 4; g /= 4; b /= 4;
      out[u0 + y * cw + x] = clamp(Math.round(128 - 0.1482 * r - 0.291 * g + 0.4392 * b), 0, 255);
      out[v0 + y * cw + x] = clamp(Math.round(128 + 0.4392 * r - 0.3678 * g - 0.0714 * b), 0, 255);
    }
  }
  return out;
}

// The poses of one loop: [what, seconds]. "front", "blink:A" (eyes shut by A), "turn:DEG"
// (positive: the visitor's own left). Every action is held for well over a second, so the kiosk,
// which sends a frame every 250 ms plus the time the server takes, sees it even in a slow build;
// a turn sweeps through a few angles because the yaw the landmark model reads does not grow
// evenly with the angle.
export const LOOP = [
  ["front", 2.5],
  ["blink:0.5", 0.25], ["blink:1", 1.5], ["blink:0.5", 0.25],
  ["front", 2.5],
  ["turn:15", 0.25], ["turn:30", 0.25], ["turn:38", 0.5], ["turn:42", 0.5], ["turn:46", 0.75],
  ["turn:42", 0.5], ["turn:30", 0.25], ["turn:15", 0.25],
  ["front", 2.5],
  ["turn:-15", 0.25], ["turn:-30", 0.25], ["turn:-36", 0.5], ["turn:-38", 0.5], ["turn:-40", 0.75],
  ["turn:-38", 0.5], ["turn:-30", 0.25], ["turn:-15", 0.25],
];

// The photo and its face seen in a mirror.
function mirrorImage(img) {
  const W = img.width, H = img.height, src = img.data;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4, j = (y * W + (W - 1 - x)) * 4;
      out[j] = src[i]; out[j + 1] = src[i + 1]; out[j + 2] = src[i + 2]; out[j + 3] = src[i + 3];
    }
  return { width: W, height: H, data: out };
}
function mirrorFace(face, W) {
  const m = (p) => [W - 1 - p[0], p[1]];
  const [le, re, nose, ml, mr] = face.landmarks;
  const [x0, y0, x1, y1] = face.box;
  return Object.assign({}, face, { box: [W - 1 - x1, y0, W - 1 - x0, y1], landmarks: [m(re), m(le), m(nose), m(mr), m(ml)] });
}

// One pose of the photo as an RGB frame. With opts.mirrorTurn "left" (or "right"), a turn that
// way is drawn as the mirror image of the other way's turn (the landmark model follows some
// faces better one way than the other); the frame is centred on the face either way.
export function pose(img, face, what, opts) {
  const o = Object.assign({ width: 640, height: 480, mirrorTurn: "" }, opts || {});
  const [kind, arg] = what.split(":");
  let im = img, f = face;
  if (kind === "blink") im = shutEyes(img, face, Number(arg), o.shape);
  else if (kind === "turn") {
    const deg = Number(arg);
    const mirrored = (o.mirrorTurn === "left" && deg > 0) || (o.mirrorTurn === "right" && deg < 0);
    if (mirrored) {
      im = mirrorImage(turnHead(img, face, -deg, o.turnShape));
      f = mirrorFace(face, img.width);
    } else {
      im = turnHead(img, face, deg, o.turnShape);
    }
  }
  return frameAround(im, f, o.width, o.height);
}

// Writes the looping video to `out`; returns {frames, seconds, bytes}.
export function writeY4m(out, img, face, opts) {
  const o = Object.assign({ width: 640, height: 480, fps: 8, loop: LOOP }, opts || {});
  const cache = new Map();
  const fd = openSync(out, "w", 0o600);
  let frames = 0, bytes = 0;
  try {
    const header = Buffer.from(`YUV4MPEG2 W${o.width} H${o.height} F${o.fps}:1 Ip A1:1 C420jpeg\n`);
    writeSync(fd, header);
    bytes += header.length;
    const tag = Buffer.from("FRAME\n");
    for (const [what, seconds] of o.loop) {
      if (!cache.has(what)) cache.set(what, rgbToI420(pose(img, face, what, o), o.width, o.height));
      const yuv = cache.get(what);
      const n = Math.max(1, Math.round(seconds * o.fps));
      for (let i = 0; i < n; i++) {
        writeSync(fd, tag);
        writeSync(fd, yuv);
        bytes += tag.length + yuv.length;
        frames++;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { frames, seconds: frames / o.fps, bytes };
}
