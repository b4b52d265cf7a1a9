package signkey

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"

	"github.com/go-jose/go-jose/v4"
)

// Key is the private key that signs now, as Manager.SigningKey returns it. Its
// method set is what an OpenID provider library asks of a signing key. It never
// prints the private key: String, Format and LogValue show only the id.
type Key struct {
	id   string
	priv *ecdsa.PrivateKey
}

// ID returns the key id, the "kid" of the tokens it signs.
func (k Key) ID() string { return k.id }

// SignatureAlgorithm returns ES256.
func (k Key) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }

// Key returns the *ecdsa.PrivateKey (nil for the zero Key). It is shared: do
// not modify it.
func (k Key) Key() any {
	if k.priv == nil {
		return nil
	}
	return k.priv
}

// String returns the id and a placeholder for the private key.
func (k Key) String() string {
	return "signkey.Key{id: " + k.id + ", alg: ES256, private: REDACTED}"
}

// Format prints the same as String for every verb, so that no fmt verb (%+v,
// %#v, %x, …) reaches the private key.
func (k Key) Format(f fmt.State, _ rune) {
	io.WriteString(f, k.String())
}

// LogValue logs the id and a placeholder for the private key.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.id), slog.String("alg", string(jose.ES256)), slog.String("private", "REDACTED"))
}

// PublicKey is one published key, as Manager.KeySet returns it. Its method set
// is what an OpenID provider library asks of a key in the key set.
type PublicKey struct {
	id  string
	pub *ecdsa.PublicKey
}

// ID returns the key id ("kid").
func (k PublicKey) ID() string { return k.id }

// Algorithm returns ES256.
func (k PublicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }

// Use returns "sig": the key verifies signatures.
func (k PublicKey) Use() string { return "sig" }

// Key returns the *ecdsa.PublicKey (nil for the zero PublicKey).
func (k PublicKey) Key() any {
	if k.pub == nil {
		return nil
	}
	return k.pub
}

// JWK returns the key as a JSON Web Key with kid, alg and use set.
func (k PublicKey) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Key(), KeyID: k.id, Algorithm: string(jose.ES256), Use: "sig"}
}
