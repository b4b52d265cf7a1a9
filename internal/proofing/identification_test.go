package proofing

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pforte/pforte/internal/store"
)

func TestNewIdentification(t *testing.T) {
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	c := baseClaims()
	got, err := NewIdentification(42, "partner-a", c, Result{Matched: true}, at)
	if err != nil {
		t.Fatal(err)
	}
	want := Identification{
		PersonID: 42, Method: "eid", Level: "high", Partner: "partner-a",
		PartnerTransactionID: "txn-1", PartnerSubjectLink: "sub-1", At: at,
		MatchedAttributesHash: MatchedAttributesHash(c),
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Identification{}, "ID")); diff != "" {
		t.Errorf("NewIdentification (-want +got):\n%s", diff)
	}
	if len(got.ID) != 32 {
		t.Errorf("ID = %q, want 32 hex digits", got.ID)
	}
	other, _ := NewIdentification(42, "partner-a", c, Result{Matched: true}, at)
	if other.ID == got.ID {
		t.Error("two identifications got the same ID")
	}
	if s := got.LogValue().String(); strings.Contains(s, "sub-1") {
		t.Errorf("LogValue %s shows the subject", s)
	}
}

func TestNewIdentificationRefuses(t *testing.T) {
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	matched := Result{Matched: true}
	noSub, noTxn := baseClaims(), baseClaims()
	noSub.Subject, noTxn.TransactionID = "", ""
	tests := []struct {
		name    string
		person  store.PersonID
		partner string
		c       Claims
		r       Result
		at      time.Time
	}{
		{"not matched", 1, "p", baseClaims(), Result{Reasons: []MismatchReason{ReasonBirthDate}}, at},
		{"no person", 0, "p", baseClaims(), matched, at},
		{"no partner", 1, "", baseClaims(), matched, at},
		{"no subject", 1, "p", noSub, matched, at},
		{"no transaction", 1, "p", noTxn, matched, at},
		{"no time", 1, "p", baseClaims(), matched, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewIdentification(tc.person, tc.partner, tc.c, tc.r, tc.at); err == nil {
				t.Fatal("NewIdentification succeeded")
			}
		})
	}
	_, err := NewIdentification(1, "p", baseClaims(), Result{}, at)
	if !errors.Is(err, ErrNotMatched) {
		t.Errorf("err = %v, want ErrNotMatched", err)
	}
}

func TestMatchedAttributesHash(t *testing.T) {
	// The encoding written out independently of the implementation.
	var enc []byte
	for _, s := range []string{
		"pforte/proofing/matched-attributes/v1",
		"family_name", "mueller", "given_names", "juergen karl", "birth_name", "", "birth_date", "1970-03-14",
	} {
		enc = binary.BigEndian.AppendUint32(enc, uint32(len(s)))
		enc = append(enc, s...)
	}
	want := sha256.Sum256(enc)
	c := baseClaims()
	if got := MatchedAttributesHash(c); got != want {
		t.Errorf("MatchedAttributesHash = %x, want %x", got, want)
	}
	variant := c
	variant.FamilyName, variant.GivenNames, variant.Address = "MUELLER", "Dr. Jürgen  Karl", Address{}
	if MatchedAttributesHash(variant) != want {
		t.Error("spelling variants changed the hash")
	}
	// Moving bytes between fields must change the hash.
	shifted := c
	shifted.FamilyName, shifted.GivenNames = "Müller Jürgen", "Karl"
	if MatchedAttributesHash(shifted) == want {
		t.Error("hash does not separate fields")
	}
}
