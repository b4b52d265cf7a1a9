// Package egk owns the checks on the electronic health card (eGK) that
// registers a phone: reading the card's C.CH.AUT certificate (brainpoolP256r1,
// which crypto/x509 cannot parse, so it is read with cryptobyte), trusting it
// only through the insurer's configured CA certificates, and learning from an
// OCSP responder or a CRL file whether it is revoked. The pairing statement
// the card signs is package appclient's (docs/app-protocol.md section 12);
// binding the device is package device's. It does not own accounts, sessions
// or HTTP answers.
//
// Verify checks a card certificate in this order, and the first failure is
// the answer (a *RefusedError with its Reason):
//
//  1. the DER: one certificate of at most 4 KiB, X.509 v3, nothing after it
//     (ReasonMalformed);
//  2. the key: an EC key on brainpoolP256r1, a point on the curve
//     (ReasonCurve);
//  3. no critical extension other than keyUsage, basicConstraints,
//     certificatePolicies and extKeyUsage (ReasonCriticalExtension);
//  4. keyUsage with digitalSignature (ReasonKeyUsage);
//  5. not a CA, and the policy oid_egk_aut (1.2.276.0.76.4.70) of a card's
//     authentication certificate (ReasonNotCard);
//  6. issued by a trust anchor: the anchor's subject is the issuer, its key
//     identifier the authority key identifier, and its key signed the
//     certificate with ecdsa-with-SHA256 (ReasonUnknownIssuer);
//  7. valid now, and so is its issuer (ReasonNotYetValid, ReasonExpired);
//  8. exactly one organizationalUnitName of the subject holds a valid KVNR
//     (ReasonNoKVNR; gemSpec_PKI Tab_PKI_232 puts the unchangeable part of
//     the KVNR and the insurer's Institutionskennzeichen into two OU
//     attributes).
//
// CheckRevocation then asks the CRL file (read at start, and again when it
// changes; it must be an anchor's, signed by it and current) and the OCSP
// responder (a request with a nonce, POSTed to the configured URL; the
// answer parsed with cryptobyte, signed by the issuing CA or by a responder
// certificate the CA issued for OCSP signing, about this certificate,
// current, with the nonce echoed when it carries one). Revoked is
// ReasonRevoked, unknown to the responder ReasonStatusUnknown; no usable
// answer is ErrRevocationUnavailable: fail closed, nothing is bound.
//
// The brainpool arithmetic comes from github.com/ProtonMail/go-crypto's
// brainpool package through crypto/ecdsa's generic path. It is not constant
// time, which verifying signatures under public keys does not need; this
// package never holds a private key.
package egk
