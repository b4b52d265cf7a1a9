// "PIN mit Biometrie absichern": a WebAuthn platform credential with the PRF
// extension gives, after the person's fingerprint or face, 32 secret bytes;
// HKDF turns them into a non-extractable AES-GCM key that seals a copy of the
// PIN seed (app-protocol.md section 3.5). Without PRF the option is not
// offered. The copy is deleted when the person turns it off, when the PIN
// changes and when the device is unbound (store.deleteBiometric, store.wipe).

import { randomBytes, SIZES } from "./protocol.js";
import { deleteBiometric, loadBiometric, saveBiometric } from "./store.js";

const utf8 = new TextEncoder();
const INFO = utf8.encode("pforte-app-v1 biometric PIN seed");

/** The platform or browser cannot do it; why is German text. */
export class BiometricUnavailable extends Error {
  /** @param {string} why */
  constructor(why) {
    super(why);
    this.name = "BiometricUnavailable";
  }
}

const NO_PRF = "Ihr Browser bietet die Funktion nicht an, die die App dafür braucht (WebAuthn mit der Erweiterung PRF). " +
  "Sie melden sich weiter mit Ihrer Freigabe-PIN an.";

/**
 * Whether biometric unlock can be offered here; the reason when not.
 * @returns {Promise<{ok: boolean, why: string}>}
 */
export async function availability() {
  const PKC = window.PublicKeyCredential;
  if (!PKC || !navigator.credentials || !window.isSecureContext) {
    return { ok: false, why: "Ihr Browser unterstützt keine Anmeldung mit Fingerabdruck oder Gesicht (WebAuthn)." };
  }
  try {
    if (!(await PKC.isUserVerifyingPlatformAuthenticatorAvailable())) {
      return { ok: false, why: "Auf diesem Gerät ist keine Entsperrung mit Fingerabdruck oder Gesicht eingerichtet." };
    }
    const caps = /** @type {any} */ (PKC).getClientCapabilities ? await /** @type {any} */ (PKC).getClientCapabilities() : null;
    if (caps && caps["extension:prf"] === false) return { ok: false, why: NO_PRF };
  } catch {
    return { ok: false, why: NO_PRF };
  }
  return { ok: true, why: "" };
}

/**
 * The AES-GCM key from a PRF output.
 * @param {Uint8Array} prf
 */
async function sealKey(prf) {
  const base = await crypto.subtle.importKey("raw", prf, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO }, base,
    { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/**
 * Asks the authenticator for the PRF output of credentialID and salt.
 * @param {Uint8Array} credentialID
 * @param {Uint8Array} salt
 */
async function evaluate(credentialID, salt) {
  const a = /** @type {PublicKeyCredential} */ (await navigator.credentials.get({ publicKey: {
    challenge: randomBytes(32), allowCredentials: [{ type: "public-key", id: credentialID }],
    userVerification: "required", timeout: 120000, extensions: /** @type {any} */ ({ prf: { eval: { first: salt } } }),
  } }));
  const r = /** @type {any} */ (a.getClientExtensionResults()).prf;
  if (!r || !r.results || !r.results.first) throw new BiometricUnavailable(NO_PRF);
  return new Uint8Array(r.results.first);
}

/**
 * Turns biometric unlock on: a new platform credential with PRF, then the
 * seed sealed under its key. The seed must be one the server has just
 * accepted.
 * @param {Uint8Array} seed
 * @param {"fpt"|"face"} method
 * @param {string} kdf the KDF JSON of the seed's PIN key
 * @param {string} rpName
 */
export async function enable(seed, method, kdf, rpName) {
  const salt = randomBytes(32);
  const cred = /** @type {PublicKeyCredential} */ (await navigator.credentials.create({ publicKey: {
    rp: { name: rpName },
    user: { id: randomBytes(16), name: "Service-App", displayName: "Service-App" },
    challenge: randomBytes(32),
    pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
    authenticatorSelection: { authenticatorAttachment: "platform", userVerification: "required", residentKey: "discouraged" },
    timeout: 120000, attestation: "none",
    extensions: /** @type {any} */ ({ prf: { eval: { first: salt } } }),
  } }));
  const ext = /** @type {any} */ (cred.getClientExtensionResults()).prf;
  if (!ext || ext.enabled === false) throw new BiometricUnavailable(NO_PRF);
  const credentialID = new Uint8Array(cred.rawId);
  let out = ext.results && ext.results.first ? new Uint8Array(ext.results.first) : await evaluate(credentialID, salt);
  try {
    const key = await sealKey(out);
    const iv = randomBytes(12);
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(kdf) }, key, seed));
    await saveBiometric({ credentialID, salt, iv, sealed, method, kdf });
  } finally {
    out.fill(0);
  }
}

/**
 * The PIN seed, after the person's fingerprint or face. A copy that no longer
 * opens (the credential is gone or changed) is deleted.
 * @returns {Promise<{seed: Uint8Array, method: string}>}
 */
export async function unlock() {
  const rec = await loadBiometric();
  if (!rec) throw new BiometricUnavailable("Die Entsperrung mit Biometrie ist nicht eingerichtet.");
  const out = await evaluate(rec.credentialID, rec.salt);
  try {
    const key = await sealKey(out);
    const seed = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: rec.iv, additionalData: utf8.encode(rec.kdf) },
      key, rec.sealed));
    if (seed.length !== SIZES.seed) throw new Error("seed length");
    return { seed, method: rec.method };
  } catch (e) {
    if (e instanceof BiometricUnavailable) throw e;
    await deleteBiometric();
    throw new BiometricUnavailable("Die Biometrie passt nicht mehr zu dieser App und wurde ausgeschaltet. Bitte geben Sie Ihre PIN ein.");
  } finally {
    out.fill(0);
  }
}

/** Turns biometric unlock off: the sealed copy is deleted. */
export async function disable() {
  const rec = await loadBiometric();
  await deleteBiometric();
  const PKC = /** @type {any} */ (window.PublicKeyCredential);
  if (rec && PKC && PKC.signalUnknownCredential) {
    // Lets the platform forget the credential too, where it can.
    const id = btoa(String.fromCharCode(...rec.credentialID)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    PKC.signalUnknownCredential({ rpId: location.hostname, credentialId: id }).catch(() => {});
  }
}
