// The app's side of every signed call (app-protocol.md section 6): it fetches
// the challenge, builds the content hash and the message M, and signs M with
// the device key and, where the purpose needs it, the PIN key. The PIN seed is
// derived (or unsealed by biometrics) right before and wiped by the caller
// right after: it is never stored.

import * as P from "./protocol.js";
import { deviceSecret } from "./store.js";
import { call, str } from "./api.js";

/** @typedef {import("./store.js").DeviceRecord} DeviceRecord */

/**
 * The PIN seed of pin for the device's current PIN key (or kdf).
 * @param {DeviceRecord} device
 * @param {string} pin
 * @param {string} [kdf]
 */
export async function seedFromPIN(device, pin, kdf) {
  const s = await deviceSecret(device);
  try {
    return await P.derivePINSeed(pin, s, P.parseKDF(kdf || device.kdf));
  } finally {
    s.fill(0);
  }
}

/**
 * Asks for a challenge.
 * @param {string} purpose
 * @param {string} [deviceID]
 * @param {string} [approvalID]
 */
export async function challenge(purpose, deviceID, approvalID) {
  /** @type {Record<string, string>} */
  const body = { purpose };
  if (deviceID) body.device_id = deviceID;
  if (approvalID) body.approval_id = approvalID;
  return P.parseChallenge(await call("POST", "/api/v1/app/challenges", { body, expect: [201] }), purpose);
}

/**
 * The proof members of a signed request: a fresh challenge of purpose, the
 * device signature over M and, with a seed, the PIN signature.
 * @param {DeviceRecord} device
 * @param {string} purpose
 * @param {Uint8Array} hash the content hash H
 * @param {Uint8Array|null} seed
 * @param {string} [approvalID]
 */
export async function proof(device, purpose, hash, seed, approvalID) {
  const ch = await challenge(purpose, device.id, approvalID);
  const m = P.signedMessage(purpose, ch.id, ch.nonce, hash);
  /** @type {Record<string, string>} */
  const out = { challenge_id: ch.id, device_signature: P.b64(await P.deviceSign(device.privateKey, m)) };
  if (seed) out.pin_signature = P.b64(P.pinSign(seed, m));
  return out;
}

/**
 * The body of a binding (and of an unlock): both public keys, the KDF
 * parameters, name and model, signed over a bind challenge with the device
 * key and the NEW PIN key of pin.
 * @param {DeviceRecord} device
 * @param {string} pin
 * @param {string} name
 * @param {string} model
 */
export async function bindBody(device, pin, name, model) {
  const seed = await seedFromPIN(device, pin);
  try {
    const deviceKey = await P.devicePublicKey(device.publicKey);
    const pinKey = P.pinPublicKey(seed);
    const ch = await challenge("bind");
    const hash = await P.contentHash("bind", "", P.bindContent(deviceKey, pinKey, device.kdf, name, model));
    const m = P.signedMessage("bind", ch.id, ch.nonce, hash);
    return { device_key: P.b64(deviceKey), pin_key: P.b64(pinKey), kdf: device.kdf, name, model, challenge_id: ch.id,
      device_signature: P.b64(await P.deviceSign(device.privateKey, m)), pin_signature: P.b64(P.pinSign(seed, m)) };
  } finally {
    seed.fill(0);
  }
}

/**
 * An app login with the device key and a PIN seed; method is what opened
 * the seed ("pin", "fpt", "face"), for information only.
 * @param {DeviceRecord} device
 * @param {Uint8Array} seed
 * @param {string} method
 * @returns {Promise<{token: string, level: string}>}
 */
export async function login(device, seed, method) {
  const hash = await P.contentHash("login", "", new Uint8Array(0));
  const pr = await proof(device, "login", hash, seed);
  const r = await call("POST", "/api/v1/app/sessions", { body: { device_id: device.id, method, ...pr }, expect: [201] });
  return { token: str(r, "session_token"), level: str(r, "level") };
}

/**
 * The name of this kind of device, sent as the binding's model.
 */
export function deviceModel() {
  const ua = navigator.userAgent;
  if (/iPhone/.test(ua)) return "iPhone (Browser)";
  if (/iPad/.test(ua)) return "iPad (Browser)";
  if (/Android/.test(ua)) return "Android (Browser)";
  if (/Windows/.test(ua)) return "Windows (Browser)";
  if (/Mac OS X/.test(ua)) return "Mac (Browser)";
  if (/Linux/.test(ua)) return "Linux (Browser)";
  return "Browser";
}
