// What the app keeps on the phone (app-protocol.md section 3.6), in
// IndexedDB: the device key pair (the private key non-extractable), the device
// secret s encrypted with a non-extractable AES-GCM key kept beside it, the KDF
// parameters of the current PIN key, the device id, name and level, and, only
// while biometrics are on, the PIN seed wrapped with a key from the WebAuthn
// PRF extension. Never the PIN, never the PIN public key, never a session.

import { randomBytes, SIZES } from "./protocol.js";

const DB = "pforte-service-app";
const STORE = "state";
const DEVICE = "device";
const BIOMETRIC = "biometric";

/** @returns {Promise<IDBDatabase>} */
function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Runs one request in a transaction and resolves when the transaction has
 * committed.
 * @param {IDBTransactionMode} mode
 * @param {(s: IDBObjectStore) => IDBRequest} fn
 */
async function run(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      let value;
      req.onsuccess = () => {
        value = req.result;
      };
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("store: aborted"));
    });
  } finally {
    db.close();
  }
}

/** @param {string} key */
const get = (key) => run("readonly", (s) => s.get(key));
/** @param {string} key @param {any} value */
const put = (key, value) => run("readwrite", (s) => s.put(value, key));
/** @param {string} key */
const del = (key) => run("readwrite", (s) => s.delete(key));

/**
 * @typedef {object} DeviceRecord
 * @property {CryptoKey} privateKey the device key, non-extractable
 * @property {CryptoKey} publicKey
 * @property {CryptoKey} wrapKey non-extractable AES-GCM key that encrypts s
 * @property {Uint8Array} secretIV
 * @property {Uint8Array} secretCT s, encrypted
 * @property {string} kdf canonical KDF JSON of the current PIN key
 * @property {string} id device id from the server ("" until bound)
 * @property {string} name
 * @property {string} model
 * @property {string} level
 * @property {boolean} pinLocked the server said the PIN is locked
 */

/** @returns {Promise<DeviceRecord|undefined>} */
export function loadDevice() {
  return get(DEVICE);
}

/** @param {DeviceRecord} d */
export function saveDevice(d) {
  return put(DEVICE, d);
}

/**
 * Creates the keys of a new, not yet bound device: the device key pair and
 * the device secret s (32 random bytes), which is kept only encrypted and
 * returned for the binding's PIN key. Nothing is stored until saveDevice.
 * @param {CryptoKeyPair} pair
 * @param {string} kdf
 * @returns {Promise<{record: DeviceRecord, secret: Uint8Array}>}
 */
export async function newDevice(pair, kdf) {
  const wrapKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const secret = randomBytes(SIZES.secret);
  const secretIV = randomBytes(12);
  const secretCT = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: secretIV }, wrapKey, secret));
  return {
    secret,
    record: { privateKey: pair.privateKey, publicKey: pair.publicKey, wrapKey, secretIV, secretCT, kdf, id: "", name: "",
      model: "", level: "", pinLocked: false },
  };
}

/**
 * The device secret s; the caller wipes it after use.
 * @param {DeviceRecord} d
 */
export async function deviceSecret(d) {
  const s = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: d.secretIV }, d.wrapKey, d.secretCT));
  if (s.length !== SIZES.secret) throw new Error("store: device secret length");
  return s;
}

/** Deletes everything: the device key, s and the biometric seed copy. */
export async function wipe() {
  await del(BIOMETRIC);
  await del(DEVICE);
}

/**
 * @typedef {object} BiometricRecord
 * @property {Uint8Array} credentialID the WebAuthn credential
 * @property {Uint8Array} salt the PRF input
 * @property {Uint8Array} iv
 * @property {Uint8Array} sealed the PIN seed, encrypted with the PRF key
 * @property {string} method "fpt" or "face", what the person said they use
 * @property {string} kdf the KDF JSON the seed belongs to
 */

/** @returns {Promise<BiometricRecord|undefined>} */
export function loadBiometric() {
  return get(BIOMETRIC);
}

/** @param {BiometricRecord} b */
export function saveBiometric(b) {
  return put(BIOMETRIC, b);
}

/** Deletes the biometric seed copy (PIN change, unbinding, turning it off). */
export function deleteBiometric() {
  return del(BIOMETRIC);
}
