// Reading the letter's QR code: from the camera (BarcodeDetector where the
// browser has it, jsQR otherwise), from a photo of the letter, or as typed
// text. The QR code carries the activation URL …/app/activate#CODE; only the
// code is used.

/** @type {Promise<any>|null} jsQR, loaded the first time it is needed */
let jsQRModule = null;
const loadJSQR = () => (jsQRModule ||= import("jsqr").then((m) => m.default));

/**
 * The activation code in text: the whole activation URL or the code itself;
 * "" when it is neither.
 * @param {string} text
 */
export function codeFrom(text) {
  let s = String(text || "").trim();
  if (s.includes("://")) {
    let u;
    try {
      u = new URL(s);
    } catch {
      return "";
    }
    if (!u.pathname.endsWith("/app/activate")) return "";
    s = u.hash.slice(1);
  } else if (s.startsWith("#")) {
    s = s.slice(1);
  }
  return /^[A-Za-z0-9_-]{16,128}$/.test(s) ? s : "";
}

/** @type {any} */
let detector;

/** A BarcodeDetector for QR codes, or null where the browser has none. */
async function barcodeDetector() {
  if (detector !== undefined) return detector;
  detector = null;
  const BD = /** @type {any} */ (window).BarcodeDetector;
  if (BD) {
    try {
      if ((await BD.getSupportedFormats()).includes("qr_code")) detector = new BD({ formats: ["qr_code"] });
    } catch {
      detector = null;
    }
  }
  return detector;
}

const canvas = () => document.createElement("canvas");

/**
 * Reads a QR code from an image source of width w and height h, scaled to at
 * most max pixels on its longer side. "" when none is found.
 * @param {CanvasImageSource} src
 * @param {number} w
 * @param {number} h
 * @param {number} max
 */
export async function readQR(src, w, h, max) {
  const d = await barcodeDetector();
  if (d) {
    try {
      const found = await d.detect(src);
      for (const f of found) if (f.rawValue) return String(f.rawValue);
    } catch {
      // fall through to jsQR
    }
  }
  const scale = Math.min(1, max / Math.max(w, h));
  const cw = Math.max(1, Math.round(w * scale));
  const ch = Math.max(1, Math.round(h * scale));
  const c = canvas();
  c.width = cw;
  c.height = ch;
  const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d", { willReadFrequently: true }));
  ctx.drawImage(src, 0, 0, cw, ch);
  const img = ctx.getImageData(0, 0, cw, ch);
  const jsQR = await loadJSQR();
  const r = jsQR(img.data, cw, ch, { inversionAttempts: "attemptBoth" });
  return r ? r.data : "";
}

/**
 * Reads the QR code on a photo.
 * @param {Blob} file
 */
export async function readPhoto(file) {
  const bmp = await createImageBitmap(file);
  try {
    for (const max of [1600, 1000, 2400]) {
      const text = await readQR(bmp, bmp.width, bmp.height, max);
      if (text) return text;
    }
    return "";
  } finally {
    bmp.close();
  }
}

/**
 * Scans the camera's picture in video until a QR code with an activation code
 * shows up. Resolves with the code; rejects with the getUserMedia error.
 * stop() ends the scan and the camera.
 * @param {HTMLVideoElement} video
 * @returns {{done: Promise<string>, stop: () => void}}
 */
export function scan(video) {
  /** @type {MediaStream|null} */
  let stream = null;
  let stopped = false;
  const stop = () => {
    stopped = true;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  };
  const done = (async () => {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new DOMException("no camera", "NotFoundError");
    }
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    if (stopped) {
      stop();
      return "";
    }
    video.srcObject = stream;
    video.muted = true;
    video.setAttribute("playsinline", "");
    await video.play();
    while (!stopped) {
      if (video.videoWidth > 0) {
        const text = await readQR(video, video.videoWidth, video.videoHeight, 960);
        const code = codeFrom(text);
        if (code) {
          stop();
          return code;
        }
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    return "";
  })();
  return { done, stop };
}
