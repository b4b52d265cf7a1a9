// The app protocol, version 1 (docs/app-protocol.md): encodings, what is
// signed, the PIN rules, the KDF parameters, the PIN key and the device key.
// Every function here is a translation of a section of that page; the Go
// reference is package appclient, and a browser test recomputes its test
// vectors with exactly this module (it is exported by app.js for that).

import { argon2id } from "hash-wasm";
import { ed25519 } from "@noble/curves/ed25519.js";

const utf8 = new TextEncoder();

/** Domain strings of protocol version 1 (section 8). */
export const CONTENT_DOMAIN = "pforte-content-v1";
export const MESSAGE_DOMAIN = "pforte-app-v1";

/** Purposes of challenges (section 4). */
export const PURPOSES = ["bind", "login", "approve", "decline", "pin-change", "unbind"];

/** Sizes of the byte strings on the wire. */
export const SIZES = { devicePublicKey: 65, signature: 64, pinPublicKey: 32, seed: 32, secret: 32, hash: 32 };

/** A value that breaks the protocol: a malformed server answer or input. */
export class ProtocolError extends Error {
  /** @param {string} what */
  constructor(what) {
    super("protocol: " + what);
    this.name = "ProtocolError";
  }
}

/**
 * base64url without padding (RFC 4648 section 5).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Strict base64url decoding: padding, "+", "/", whitespace and non-zero
 * trailing bits are errors (section 2).
 * @param {string} text
 * @returns {Uint8Array}
 */
export function unb64(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new ProtocolError("not base64url");
  }
  const std = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const bin = atob(std);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (b64(out) !== text) throw new ProtocolError("base64url with trailing bits");
  return out;
}

/** @param {Uint8Array} bytes */
export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {string} text */
export function unhex(text) {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new ProtocolError("not hex");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Concatenates byte strings.
 * @param {...Uint8Array} parts
 */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * field(x): the 4-byte big-endian length of x, then x (section 2).
 * @param {Uint8Array|string} x a string is taken as its UTF-8 bytes
 */
export function field(x) {
  const bytes = typeof x === "string" ? utf8.encode(x) : x;
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, false);
  out.set(bytes, 4);
  return out;
}

/**
 * C = field("pforte-content-v1") || field(type) || field(text) || field(data)
 * (section 5.1). The text is taken exactly as given: no normalisation.
 * @param {string} type
 * @param {string} text
 * @param {Uint8Array} data
 */
export function contentEncoding(type, text, data) {
  return concat(field(CONTENT_DOMAIN), field(type), field(text), field(data));
}

/** @param {Uint8Array} bytes */
export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/**
 * H = SHA-256(C) (section 5.1).
 * @param {string} type
 * @param {string} text
 * @param {Uint8Array} data
 */
export function contentHash(type, text, data) {
  return sha256(contentEncoding(type, text, data));
}

/**
 * The data of a bind content (section 5.1).
 * @param {Uint8Array} devicePublicKey 65 bytes
 * @param {Uint8Array} pinPublicKey 32 bytes
 * @param {string} kdf the canonical KDF JSON
 * @param {string} name
 * @param {string} model
 */
export function bindContent(devicePublicKey, pinPublicKey, kdf, name, model) {
  return concat(field(devicePublicKey), field(pinPublicKey), field(kdf), field(name), field(model));
}

/**
 * The data of a pin-change content (section 5.1).
 * @param {Uint8Array} pinPublicKey
 * @param {string} kdf
 */
export function pinChangeContent(pinPublicKey, kdf) {
  return concat(field(pinPublicKey), field(kdf));
}

/**
 * M = field("pforte-app-v1") || field(purpose) || field(challenge_id) ||
 *     field(nonce) || field(H) (section 5.2).
 * @param {string} purpose
 * @param {string} challengeID
 * @param {Uint8Array} nonce the decoded nonce bytes
 * @param {Uint8Array} hash
 */
export function signedMessage(purpose, challengeID, nonce, hash) {
  if (hash.length !== SIZES.hash) throw new ProtocolError("content hash length");
  return concat(field(MESSAGE_DOMAIN), field(purpose), field(challengeID), field(nonce), field(hash));
}

/**
 * @typedef {{id: string, nonce: Uint8Array, purpose: string, expiresAt: string}} Challenge
 */

/**
 * Reads a challenge as the server sends it (section 4), ignoring unknown
 * members.
 * @param {any} json
 * @param {string} purpose the purpose asked for
 * @returns {Challenge}
 */
export function parseChallenge(json, purpose) {
  if (!json || typeof json.challenge_id !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(json.challenge_id)) {
    throw new ProtocolError("challenge id");
  }
  const nonce = unb64(json.nonce);
  if (nonce.length < 16 || nonce.length > 64) throw new ProtocolError("challenge nonce");
  if (json.purpose !== purpose) throw new ProtocolError("challenge purpose");
  return { id: json.challenge_id, nonce, purpose, expiresAt: String(json.expires_at || "") };
}

// ---- The Freigabe-PIN (section 3.3) ----

/** @param {string} pin */
export function checkPINFormat(pin) {
  return typeof pin === "string" && /^[0-9]{6}$/.test(pin);
}

/**
 * Why a new PIN may not be chosen, as a German sentence, or "" when it may:
 * not six digits, six equal digits, or a run up or down (9 and 0 adjacent).
 * @param {string} pin
 */
export function newPINProblem(pin) {
  if (!checkPINFormat(pin)) return "Die PIN besteht aus genau 6 Ziffern.";
  const d = Array.from(pin, Number);
  if (d.every((x) => x === d[0])) return "Bitte wählen Sie nicht sechsmal dieselbe Ziffer.";
  const up = d.every((x, i) => i === 0 || x === (d[i - 1] + 1) % 10);
  const down = d.every((x, i) => i === 0 || x === (d[i - 1] + 9) % 10);
  if (up || down) return "Bitte wählen Sie keine Zahlenfolge wie 123456 oder 654321.";
  return "";
}

// ---- KDF parameters (section 3.4) ----

/** @typedef {{alg: "argon2id", t: number, m: number, p: number}} KDF */

/** The default parameters the app uses for new PIN keys. */
export const DEFAULT_KDF = Object.freeze({ alg: "argon2id", t: 3, m: 65536, p: 1 });

const KDF_BOUNDS = { t: [1, 10], m: [8192, 1048576], p: [1, 8] };

/**
 * The canonical KDF JSON: keys alg, t, m, p in this order, no whitespace.
 * @param {KDF} k
 */
export function kdfJSON(k) {
  checkKDF(k);
  return `{"alg":"argon2id","t":${k.t},"m":${k.m},"p":${k.p}}`;
}

/** @param {KDF} k */
function checkKDF(k) {
  if (!k || k.alg !== "argon2id") throw new ProtocolError("kdf alg");
  for (const key of /** @type {const} */ (["t", "m", "p"])) {
    const v = k[key];
    if (!Number.isInteger(v) || v < KDF_BOUNDS[key][0] || v > KDF_BOUNDS[key][1]) throw new ProtocolError("kdf " + key);
  }
}

/**
 * Parses canonical KDF JSON; every other spelling is refused.
 * @param {string} text
 * @returns {KDF}
 */
export function parseKDF(text) {
  const m = /^\{"alg":"argon2id","t":([1-9][0-9]{0,6}),"m":([1-9][0-9]{0,6}),"p":([1-9][0-9]{0,6})\}$/.exec(text);
  if (!m) throw new ProtocolError("kdf not canonical");
  const k = /** @type {KDF} */ ({ alg: "argon2id", t: Number(m[1]), m: Number(m[2]), p: Number(m[3]) });
  checkKDF(k);
  return k;
}

// ---- The PIN key (section 3.4) ----

/**
 * seed = Argon2id(PIN as 6 ASCII bytes, salt = s, t, m, p, 32 bytes).
 * The caller wipes the seed (fill(0)) once it has signed.
 * @param {string} pin
 * @param {Uint8Array} secret the device secret s, 32 bytes
 * @param {KDF} kdf
 * @returns {Promise<Uint8Array>}
 */
export async function derivePINSeed(pin, secret, kdf) {
  if (!checkPINFormat(pin)) throw new ProtocolError("pin format");
  if (secret.length !== SIZES.secret) throw new ProtocolError("secret length");
  checkKDF(kdf);
  const password = utf8.encode(pin);
  try {
    const seed = await argon2id({ password, salt: secret, iterations: kdf.t, memorySize: kdf.m, parallelism: kdf.p,
      hashLength: 32, outputType: "binary" });
    return new Uint8Array(seed);
  } finally {
    password.fill(0);
  }
}

/**
 * The Ed25519 public key of a PIN seed, 32 bytes.
 * @param {Uint8Array} seed
 */
export function pinPublicKey(seed) {
  if (seed.length !== SIZES.seed) throw new ProtocolError("seed length");
  return ed25519.getPublicKey(seed);
}

/**
 * Ed25519 over M itself (RFC 8032, deterministic).
 * @param {Uint8Array} seed
 * @param {Uint8Array} message
 */
export function pinSign(seed, message) {
  if (seed.length !== SIZES.seed) throw new ProtocolError("seed length");
  return ed25519.sign(message, seed);
}

/**
 * Verifies a PIN signature (for the test vectors; the server decides).
 * @param {Uint8Array} publicKey
 * @param {Uint8Array} message
 * @param {Uint8Array} signature
 */
export function pinVerify(publicKey, message, signature) {
  return ed25519.verify(signature, message, publicKey);
}

// ---- The device key (section 3.1) ----

const ECDSA = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };

/**
 * A new device key: ECDSA P-256, the private key non-extractable.
 * @returns {Promise<CryptoKeyPair>}
 */
export function generateDeviceKey() {
  return /** @type {Promise<CryptoKeyPair>} */ (crypto.subtle.generateKey(ECDSA, false, ["sign", "verify"]));
}

/**
 * The device public key on the wire: the uncompressed point, 65 bytes.
 * @param {CryptoKey} publicKey
 */
export async function devicePublicKey(publicKey) {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  if (raw.length !== SIZES.devicePublicKey || raw[0] !== 4) throw new ProtocolError("device public key");
  return raw;
}

/**
 * ECDSA P-256 with SHA-256 over M, IEEE P1363 (r || s, 64 bytes): what
 * WebCrypto returns.
 * @param {CryptoKey} privateKey
 * @param {Uint8Array} message
 */
export async function deviceSign(privateKey, message) {
  const sig = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, privateKey, message));
  if (sig.length !== SIZES.signature) throw new ProtocolError("device signature length");
  return sig;
}

/**
 * Verifies a device signature under a public key in wire form.
 * @param {Uint8Array} publicKey 65 bytes
 * @param {Uint8Array} message
 * @param {Uint8Array} signature 64 bytes
 */
export async function deviceVerify(publicKey, message, signature) {
  const key = await crypto.subtle.importKey("raw", publicKey, ECDSA, false, ["verify"]);
  return crypto.subtle.verify(ECDSA_SHA256, key, signature, message);
}

/** @param {number} n */
export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}
