package password

import (
	"encoding/binary"
	"math/bits"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// argon2id as RFC 9106 defines it (version 0x13), computed in working memory
// that the Hasher keeps from one hash to the next. golang.org/x/crypto/argon2
// gives the same keys (the tests compare the two on random inputs and check the
// RFC's test vector) but allocates and zeroes the whole memory (19 MiB by
// default) for every hash: on a busy server that is a garbage collection every
// few logins and a cleared 19 MiB each time, about a fifth of a login's CPU
// beside the hash. Here the first pass writes every block before it reads it,
// so kept memory needs no clearing, and nothing is allocated once a slot's
// memory is grown. What a hash leaves in its workspace stays in the process
// until the next hash overwrites it, as memory freed to the collector would.

const (
	argon2Version = 0x13
	argon2Type    = 2 // argon2id
	blockWords    = 128
	syncPoints    = 4 // slices per pass
)

// block is one 1 KiB block of argon2's memory.
type block [blockWords]uint64

// workspace is the memory of one hash at a time. Its zero value is usable; it
// grows to the largest memory asked of it and keeps it.
type workspace struct {
	blocks []block
}

// take returns n blocks of w's memory, with whatever the hash before left in
// them.
func (w *workspace) take(n uint32) []block {
	if uint32(cap(w.blocks)) < n {
		w.blocks = make([]block, n)
	}
	return w.blocks[:n]
}

// idKey derives a keyLen-byte argon2id key from password and salt with the
// optional secret and associated data, passes over memKiB KiB in lanes lanes,
// in w's memory. The parameters must be within Params' bounds (lanes ≥ 1,
// passes ≥ 1, keyLen ≥ 4, memKiB ≥ 8 × lanes).
func idKey(w *workspace, password, salt, secret, data []byte, passes, memKiB uint32, lanes uint8, keyLen uint32) []byte {
	p := uint32(lanes)
	h0 := initialHash(password, salt, secret, data, passes, memKiB, p, keyLen)

	m := memKiB / (syncPoints * p) * (syncPoints * p) // whole segments
	q := m / p                                        // blocks per lane
	seg := q / syncPoints                             // blocks per segment
	mem := w.take(m)

	var first [1024]byte
	for l := range p {
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], l)
		for i := range uint32(2) {
			binary.LittleEndian.PutUint32(h0[blake2b.Size:], i)
			hashLong(first[:], h0[:])
			b := &mem[l*q+i]
			for k := range b {
				b[k] = binary.LittleEndian.Uint64(first[k*8:])
			}
		}
	}

	f := filler{mem: mem, m: m, q: q, seg: seg, lanes: p, passes: passes}
	for pass := range passes {
		for slice := range uint32(syncPoints) {
			if p == 1 {
				f.segment(pass, 0, slice)
				continue
			}
			var wg sync.WaitGroup
			for l := range p {
				wg.Go(func() { f.segment(pass, l, slice) })
			}
			wg.Wait()
		}
	}

	var last block
	for l := range p {
		b := &mem[l*q+q-1]
		for k := range last {
			last[k] ^= b[k]
		}
	}
	var lastBytes [1024]byte
	for k, v := range last {
		binary.LittleEndian.PutUint64(lastBytes[k*8:], v)
	}
	key := make([]byte, keyLen)
	hashLong(key, lastBytes[:])
	return key
}

// initialHash returns H0 (RFC 9106, 3.2) with eight bytes of room behind it
// for the block and lane numbers of the first blocks.
func initialHash(password, salt, secret, data []byte, passes, memKiB, lanes, keyLen uint32) [blake2b.Size + 8]byte {
	h, _ := blake2b.New512(nil) // cannot fail without a key
	var n [4]byte
	word := func(v uint32) {
		binary.LittleEndian.PutUint32(n[:], v)
		h.Write(n[:])
	}
	for _, v := range [...]uint32{lanes, keyLen, memKiB, passes, argon2Version, argon2Type} {
		word(v)
	}
	for _, b := range [...][]byte{password, salt, secret, data} {
		word(uint32(len(b)))
		h.Write(b)
	}
	var h0 [blake2b.Size + 8]byte
	h.Sum(h0[:0])
	return h0
}

// hashLong is H' of RFC 9106 (3.3): BLAKE2b stretched to len(out) bytes.
func hashLong(out, in []byte) {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		h, _ := blake2b.New(len(out), nil) // 1 to 64 bytes: cannot fail
		h.Write(n[:])
		h.Write(in)
		h.Sum(out[:0])
		return
	}
	h, _ := blake2b.New512(nil)
	h.Write(n[:])
	h.Write(in)
	v := h.Sum(nil)
	r := (len(out)+31)/32 - 2
	copy(out, v[:32])
	pos := 32
	for range r - 1 {
		s := blake2b.Sum512(v)
		v = s[:]
		copy(out[pos:], v[:32])
		pos += 32
	}
	h, _ = blake2b.New(len(out)-pos, nil) // 33 to 64 bytes
	h.Write(v)
	h.Sum(out[pos:pos])
}

// filler computes the blocks of one hash.
type filler struct {
	mem           []block
	m, q, seg     uint32 // blocks in all, per lane, per segment
	lanes, passes uint32
}

// segment fills one segment: slice slice of lane lane in pass pass.
func (f *filler) segment(pass, lane, slice uint32) {
	// argon2id takes its reference blocks from a counter in the first half of
	// the first pass and from the previous block's first word afterwards.
	counted := pass == 0 && slice < syncPoints/2
	var input, addresses block
	if counted {
		input[0], input[1], input[2] = uint64(pass), uint64(lane), uint64(slice)
		input[3], input[4], input[5] = uint64(f.m), uint64(f.passes), argon2Type
	}
	start := uint32(0)
	if pass == 0 && slice == 0 {
		start = 2 // the first two blocks of each lane come from H0
		if counted {
			nextAddresses(&addresses, &input)
		}
	}
	cur := lane*f.q + slice*f.seg + start
	for index := start; index < f.seg; index++ {
		prev := cur - 1
		if slice == 0 && index == 0 {
			prev += f.q // the lane's last block
		}
		var pseudo uint64
		if counted {
			if index%blockWords == 0 {
				nextAddresses(&addresses, &input)
			}
			pseudo = addresses[index%blockWords]
		} else {
			pseudo = f.mem[prev][0]
		}
		ref := f.reference(pseudo, pass, lane, slice, index)
		compress(&f.mem[cur], &f.mem[prev], &f.mem[ref], pass > 0)
		cur++
	}
}

// nextAddresses counts input on and computes the next 128 pseudo-random
// values of the counted half: G(0, G(0, input)).
func nextAddresses(addresses, input *block) {
	var zero block
	input[6]++
	compress(addresses, &zero, input, false)
	compress(addresses, &zero, addresses, false)
}

// reference maps a pseudo-random value to the index of the block the block at
// index of the segment (pass, lane, slice) is computed from (RFC 9106, 3.4.1).
func (f *filler) reference(pseudo uint64, pass, lane, slice, index uint32) uint32 {
	refLane := lane
	if pass > 0 || slice > 0 {
		refLane = uint32((pseudo >> 32) % uint64(f.lanes))
	}
	var area, start uint32
	if pass == 0 {
		area = slice * f.seg // the finished slices of this pass
	} else {
		area = f.q - f.seg // the other three slices
		start = (slice + 1) * f.seg % f.q
	}
	if refLane == lane {
		area += index - 1 // and this segment's blocks before the previous one
	} else if index == 0 {
		area-- // another lane's block must not be the one written beside it
	}
	x := (pseudo & 0xffffffff) * (pseudo & 0xffffffff) >> 32
	rel := uint64(area) - 1 - (uint64(area) * x >> 32)
	return refLane*f.q + uint32((uint64(start)+rel)%uint64(f.q))
}

// compress sets out to G(x, y) (RFC 9106, 3.5), or, with xor, to out ⊕ G(x,
// y) as the passes after the first do. out may be x or y (the address
// generator does that) but is never read before they are.
func compress(out, x, y *block, xor bool) {
	var r, t block
	for i := range r {
		r[i] = x[i] ^ y[i]
	}
	t = r
	// P (RFC 9106, 3.6) on each row of sixteen words, then on each column
	// (words c and c+1 of every row): GB on the columns, then on the
	// diagonals of the sixteen. It is written out twice, not called: Go does
	// not inline a function this large, and the call with its sixteen
	// arguments cost about a tenth of a hash.
	for i := 0; i < blockWords; i += 16 {
		i &= 127 - 15
		v0, v1, v2, v3, v4, v5, v6, v7 := t[i], t[i+1], t[i+2], t[i+3], t[i+4], t[i+5], t[i+6], t[i+7]
		v8, v9, v10, v11, v12, v13, v14, v15 := t[i+8], t[i+9], t[i+10], t[i+11], t[i+12], t[i+13], t[i+14], t[i+15]
		v0 = blamka(v0, v4)
		v12 = bits.RotateLeft64(v12^v0, -32)
		v8 = blamka(v8, v12)
		v4 = bits.RotateLeft64(v4^v8, -24)
		v0 = blamka(v0, v4)
		v12 = bits.RotateLeft64(v12^v0, -16)
		v8 = blamka(v8, v12)
		v4 = bits.RotateLeft64(v4^v8, -63)
		v1 = blamka(v1, v5)
		v13 = bits.RotateLeft64(v13^v1, -32)
		v9 = blamka(v9, v13)
		v5 = bits.RotateLeft64(v5^v9, -24)
		v1 = blamka(v1, v5)
		v13 = bits.RotateLeft64(v13^v1, -16)
		v9 = blamka(v9, v13)
		v5 = bits.RotateLeft64(v5^v9, -63)
		v2 = blamka(v2, v6)
		v14 = bits.RotateLeft64(v14^v2, -32)
		v10 = blamka(v10, v14)
		v6 = bits.RotateLeft64(v6^v10, -24)
		v2 = blamka(v2, v6)
		v14 = bits.RotateLeft64(v14^v2, -16)
		v10 = blamka(v10, v14)
		v6 = bits.RotateLeft64(v6^v10, -63)
		v3 = blamka(v3, v7)
		v15 = bits.RotateLeft64(v15^v3, -32)
		v11 = blamka(v11, v15)
		v7 = bits.RotateLeft64(v7^v11, -24)
		v3 = blamka(v3, v7)
		v15 = bits.RotateLeft64(v15^v3, -16)
		v11 = blamka(v11, v15)
		v7 = bits.RotateLeft64(v7^v11, -63)
		v0 = blamka(v0, v5)
		v15 = bits.RotateLeft64(v15^v0, -32)
		v10 = blamka(v10, v15)
		v5 = bits.RotateLeft64(v5^v10, -24)
		v0 = blamka(v0, v5)
		v15 = bits.RotateLeft64(v15^v0, -16)
		v10 = blamka(v10, v15)
		v5 = bits.RotateLeft64(v5^v10, -63)
		v1 = blamka(v1, v6)
		v12 = bits.RotateLeft64(v12^v1, -32)
		v11 = blamka(v11, v12)
		v6 = bits.RotateLeft64(v6^v11, -24)
		v1 = blamka(v1, v6)
		v12 = bits.RotateLeft64(v12^v1, -16)
		v11 = blamka(v11, v12)
		v6 = bits.RotateLeft64(v6^v11, -63)
		v2 = blamka(v2, v7)
		v13 = bits.RotateLeft64(v13^v2, -32)
		v8 = blamka(v8, v13)
		v7 = bits.RotateLeft64(v7^v8, -24)
		v2 = blamka(v2, v7)
		v13 = bits.RotateLeft64(v13^v2, -16)
		v8 = blamka(v8, v13)
		v7 = bits.RotateLeft64(v7^v8, -63)
		v3 = blamka(v3, v4)
		v14 = bits.RotateLeft64(v14^v3, -32)
		v9 = blamka(v9, v14)
		v4 = bits.RotateLeft64(v4^v9, -24)
		v3 = blamka(v3, v4)
		v14 = bits.RotateLeft64(v14^v3, -16)
		v9 = blamka(v9, v14)
		v4 = bits.RotateLeft64(v4^v9, -63)
		t[i], t[i+1], t[i+2], t[i+3], t[i+4], t[i+5], t[i+6], t[i+7] = v0, v1, v2, v3, v4, v5, v6, v7
		t[i+8], t[i+9], t[i+10], t[i+11], t[i+12], t[i+13], t[i+14], t[i+15] = v8, v9, v10, v11, v12, v13, v14, v15
	}
	for c := 0; c < 16; c += 2 {
		c &= 14
		v0, v1, v2, v3, v4, v5, v6, v7 := t[c], t[c+1], t[c+16], t[c+17], t[c+32], t[c+33], t[c+48], t[c+49]
		v8, v9, v10, v11, v12, v13, v14, v15 := t[c+64], t[c+65], t[c+80], t[c+81], t[c+96], t[c+97], t[c+112], t[c+113]
		v0 = blamka(v0, v4)
		v12 = bits.RotateLeft64(v12^v0, -32)
		v8 = blamka(v8, v12)
		v4 = bits.RotateLeft64(v4^v8, -24)
		v0 = blamka(v0, v4)
		v12 = bits.RotateLeft64(v12^v0, -16)
		v8 = blamka(v8, v12)
		v4 = bits.RotateLeft64(v4^v8, -63)
		v1 = blamka(v1, v5)
		v13 = bits.RotateLeft64(v13^v1, -32)
		v9 = blamka(v9, v13)
		v5 = bits.RotateLeft64(v5^v9, -24)
		v1 = blamka(v1, v5)
		v13 = bits.RotateLeft64(v13^v1, -16)
		v9 = blamka(v9, v13)
		v5 = bits.RotateLeft64(v5^v9, -63)
		v2 = blamka(v2, v6)
		v14 = bits.RotateLeft64(v14^v2, -32)
		v10 = blamka(v10, v14)
		v6 = bits.RotateLeft64(v6^v10, -24)
		v2 = blamka(v2, v6)
		v14 = bits.RotateLeft64(v14^v2, -16)
		v10 = blamka(v10, v14)
		v6 = bits.RotateLeft64(v6^v10, -63)
		v3 = blamka(v3, v7)
		v15 = bits.RotateLeft64(v15^v3, -32)
		v11 = blamka(v11, v15)
		v7 = bits.RotateLeft64(v7^v11, -24)
		v3 = blamka(v3, v7)
		v15 = bits.RotateLeft64(v15^v3, -16)
		v11 = blamka(v11, v15)
		v7 = bits.RotateLeft64(v7^v11, -63)
		v0 = blamka(v0, v5)
		v15 = bits.RotateLeft64(v15^v0, -32)
		v10 = blamka(v10, v15)
		v5 = bits.RotateLeft64(v5^v10, -24)
		v0 = blamka(v0, v5)
		v15 = bits.RotateLeft64(v15^v0, -16)
		v10 = blamka(v10, v15)
		v5 = bits.RotateLeft64(v5^v10, -63)
		v1 = blamka(v1, v6)
		v12 = bits.RotateLeft64(v12^v1, -32)
		v11 = blamka(v11, v12)
		v6 = bits.RotateLeft64(v6^v11, -24)
		v1 = blamka(v1, v6)
		v12 = bits.RotateLeft64(v12^v1, -16)
		v11 = blamka(v11, v12)
		v6 = bits.RotateLeft64(v6^v11, -63)
		v2 = blamka(v2, v7)
		v13 = bits.RotateLeft64(v13^v2, -32)
		v8 = blamka(v8, v13)
		v7 = bits.RotateLeft64(v7^v8, -24)
		v2 = blamka(v2, v7)
		v13 = bits.RotateLeft64(v13^v2, -16)
		v8 = blamka(v8, v13)
		v7 = bits.RotateLeft64(v7^v8, -63)
		v3 = blamka(v3, v4)
		v14 = bits.RotateLeft64(v14^v3, -32)
		v9 = blamka(v9, v14)
		v4 = bits.RotateLeft64(v4^v9, -24)
		v3 = blamka(v3, v4)
		v14 = bits.RotateLeft64(v14^v3, -16)
		v9 = blamka(v9, v14)
		v4 = bits.RotateLeft64(v4^v9, -63)
		t[c], t[c+1], t[c+16], t[c+17], t[c+32], t[c+33], t[c+48], t[c+49] = v0, v1, v2, v3, v4, v5, v6, v7
		t[c+64], t[c+65], t[c+80], t[c+81], t[c+96], t[c+97], t[c+112], t[c+113] = v8, v9, v10, v11, v12, v13, v14, v15
	}
	if xor {
		for i := range out {
			out[i] ^= t[i] ^ r[i]
		}
		return
	}
	for i := range out {
		out[i] = t[i] ^ r[i]
	}
}

// blamka is the addition of argon2's GB: a + b + 2·lo(a)·lo(b).
func blamka(a, b uint64) uint64 {
	return a + b + 2*uint64(uint32(a))*uint64(uint32(b))
}
