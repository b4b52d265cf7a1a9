// Recomputes the app protocol's test vectors (appclient/testdata/vectors.json)
// with the app's own protocol module, in the browser; the Go test compares
// every value and verifies the browser's device signatures with appclient.
async (v) => {
  const { protocol: P } = await import("/app/app.js");
  const out = { cases: [] };
  const pub = P.unhex(v.device_public_key_hex);
  // WebCrypto refuses a private scalar that does not belong to x and y.
  const jwk = { kty: "EC", crv: "P-256", d: P.b64(P.unhex(v.device_key_scalar_hex)), x: P.b64(pub.slice(1, 33)),
    y: P.b64(pub.slice(33)), ext: false };
  let priv = null;
  try {
    priv = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  } catch (e) {
    out.import_error = String(e);
  }
  const kdf = P.parseKDF(v.kdf);
  out.kdf_canonical = P.kdfJSON(kdf);
  const t0 = performance.now();
  const seed = await P.derivePINSeed(v.pin, P.unhex(v.secret_hex), kdf);
  out.kdf_ms = performance.now() - t0;
  out.pin_seed_hex = P.hex(seed);
  const pinPub = P.pinPublicKey(seed);
  out.pin_public_key_hex = P.hex(pinPub);
  out.pin_public_key_b64 = P.b64(pinPub);
  out.device_public_key_b64 = P.b64(pub);
  for (const c of v.cases) {
    const data = (c.purpose === "bind" || c.purpose === "bind-egk") ? P.bindContent(pub, pinPub, v.kdf, c.device_name, c.device_model)
      : new TextEncoder().encode(c.data_text || "");
    const r = { purpose: c.purpose, data_hex: P.hex(data), content_encoding_hex: P.hex(P.contentEncoding(c.type, c.text, data)) };
    const h = await P.contentHash(c.type, c.text, data);
    r.content_hash_hex = P.hex(h);
    r.content_hash_b64 = P.b64(h);
    const m = P.signedMessage(c.purpose, c.challenge_id, P.unb64(c.nonce_b64), h);
    r.signed_message_hex = P.hex(m);
    r.signed_message_b64 = P.b64(m);
    r.pin_signature_hex = P.hex(P.pinSign(seed, m));
    r.reference_device_signature_valid = await P.deviceVerify(pub, m, P.unhex(c.device_signature_hex));
    r.reference_pin_signature_valid = P.pinVerify(pinPub, m, P.unhex(c.pin_signature_hex));
    const tampered = m.slice();
    tampered[tampered.length - 1] ^= 1;
    r.tampered_device_signature_valid = await P.deviceVerify(pub, tampered, P.unhex(c.device_signature_hex));
    r.tampered_pin_signature_valid = P.pinVerify(pinPub, tampered, P.unhex(c.pin_signature_hex));
    r.browser_device_signature_hex = priv ? P.hex(await P.deviceSign(priv, m)) : "";
    out.cases.push(r);
  }
  const refuses = (f) => (x) => { try { f(x); return false; } catch { return true; } };
  out.b64_refused = ["oKGio6SlpqeoqaqrrK2urw==", "oKGi+6Sl", "oKGi/6Sl", "oKGio6Sl pqeo", "oKGio6SlpqeoqaqrrK2urx", "oKGio6S\n"]
    .map(refuses(P.unb64));
  out.pin_refused = ["000000", "999999", "123456", "890123", "901234", "654321", "210987", "12345", "1234567", "12a456", "１２３４５６"]
    .map((p) => P.newPINProblem(p) !== "");
  out.pin_accepted = ["314159", "482915", "135790"].map((p) => P.newPINProblem(p) === "");
  out.kdf_refused = ['{"alg":"argon2id","m":65536,"t":3,"p":1}', '{"alg":"argon2id", "t":3,"m":65536,"p":1}',
    '{"alg":"argon2id","t":03,"m":65536,"p":1}', '{"alg":"argon2id","t":3,"m":4096,"p":1}', '{"alg":"argon2i","t":3,"m":65536,"p":1}']
    .map(refuses(P.parseKDF));
  const pair = await P.generateDeviceKey();
  out.new_key_extractable = pair.privateKey.extractable;
  out.new_key_exported = await crypto.subtle.exportKey("pkcs8", pair.privateKey).then(() => true, () => false);
  seed.fill(0);
  return out;
}
