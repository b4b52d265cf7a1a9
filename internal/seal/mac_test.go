package seal

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"testing"
)

func TestMACKeysHKDF(t *testing.T) {
	k, _ := GenerateKey("a")
	kr, err := NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hkdf.Key(sha256.New, k.secret[:], nil, "pforte test v1", sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	if got := kr.MACKeys("pforte test v1").keys[0].key; !bytes.Equal(got, want) {
		t.Errorf("derived key %x, want HKDF-SHA256 %x", got, want)
	}
}

func TestMACKeysRotation(t *testing.T) {
	old, _ := GenerateKey("old")
	cur, _ := GenerateKey("new")
	before, _ := NewKeyring(old)
	after, _ := NewKeyring(cur, old)
	only, _ := NewKeyring(cur)
	data := []byte("challenge")
	m := before.MACKeys("use")
	tag, mac := m.Tag(), m.Sum(data)[:16]
	if !after.MACKeys("use").Verify(tag, data, mac) {
		t.Error("a MAC of the old key does not verify after the rotation")
	}
	if only.MACKeys("use").Verify(tag, data, mac) {
		t.Error("a MAC verifies after its key left the keyring")
	}
	if before.MACKeys("other use").Verify(tag, data, mac) {
		t.Error("a MAC verifies under the key of another use")
	}
	if after.MACKeys("use").Tag() == tag {
		t.Error("the current key has the old key's tag")
	}
	for i := range mac {
		bad := bytes.Clone(mac)
		bad[i] ^= 1
		if m.Verify(tag, data, bad) {
			t.Fatalf("a MAC with byte %d changed verifies", i)
		}
	}
	if m.Verify(tag, []byte("challengf"), mac) || m.Verify(tag, data, mac[:15]) {
		t.Error("changed data or a short MAC verifies")
	}
}
