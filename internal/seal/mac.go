package seal

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
)

// MACTagSize is the length of the tag that names the key of a MAC.
const MACTagSize = 4

// minMACSize is the shortest MAC Verify accepts (128 bits).
const minMACSize = 16

// MACKeys are HMAC-SHA256 keys for one use, derived with HKDF-SHA256 (info
// names the use) from every key of a keyring. Sum uses the current key and
// names it by a tag, a short value derived from the key that reveals nothing
// of it; Verify finds the key by the tag, so a MAC made before a rotation
// still verifies while its key is in the keyring. Every node of a cluster
// holds the same keys and so verifies what any other node made.
type MACKeys struct {
	keys []macKey // current first
}

type macKey struct {
	tag [MACTagSize]byte
	key []byte
}

// MACKeys derives the keys for info from every key of the keyring.
func (kr *Keyring) MACKeys(info string) *MACKeys {
	m := &MACKeys{}
	for _, k := range kr.secrets {
		key, err := hkdf.Key(sha256.New, k.secret[:], nil, info, sha256.Size)
		if err != nil {
			panic("seal: hkdf: " + err.Error()) // cannot happen: 32 bytes are one block
		}
		t := hmac.New(sha256.New, key)
		t.Write([]byte("pforte mac key tag"))
		var mk macKey
		copy(mk.tag[:], t.Sum(nil))
		mk.key = key
		m.keys = append(m.keys, mk)
	}
	return m
}

// Tag returns the tag of the current key.
func (m *MACKeys) Tag() [MACTagSize]byte { return m.keys[0].tag }

// Sum returns HMAC-SHA256 of data under the current key (32 bytes); Tag names
// the key.
func (m *MACKeys) Sum(data []byte) []byte { return sum(m.keys[0].key, data) }

func sum(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

// Verify reports whether mac, at least 16 and at most 32 bytes, is the start
// of HMAC-SHA256 of data under a key with the tag. It compares in constant
// time.
func (m *MACKeys) Verify(tag [MACTagSize]byte, data, mac []byte) bool {
	if len(mac) < minMACSize || len(mac) > sha256.Size {
		return false
	}
	ok := false
	for _, k := range m.keys {
		if k.tag == tag && hmac.Equal(sum(k.key, data)[:len(mac)], mac) {
			ok = true
		}
	}
	return ok
}
