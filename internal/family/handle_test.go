package family

import (
	"errors"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

func handleService(t testing.TB) *Service {
	t.Helper()
	k, err := seal.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{sealer: ring}
}

// TestHandle: a handle opens for the actor it was made for and for no one
// else, and an edited handle opens for no one.
func TestHandle(t *testing.T) {
	s := handleService(t)
	h, err := s.handle(1, 42)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.subjectOf(1, h); err != nil || got != 42 {
		t.Errorf("subjectOf(actor 1) = %d, %v, want 42", got, err)
	}
	if _, err := s.subjectOf(2, h); !errors.Is(err, ErrNotLinked) {
		t.Errorf("subjectOf(actor 2) = %v, want ErrNotLinked", err)
	}
	edited := h[:len(h)-2] + "AA"
	if edited == h {
		edited = h[:len(h)-2] + "BB"
	}
	if _, err := s.subjectOf(1, edited); !errors.Is(err, ErrNotLinked) {
		t.Errorf("subjectOf(edited) = %v, want ErrNotLinked", err)
	}
	if h2, _ := s.handle(1, 42); h2 == h {
		t.Error("two handles of the same person are equal: a handle would track the person across pages")
	}
}

// FuzzSubjectOf: no input panics, and nothing opens but to the person a
// handle of the actor names.
func FuzzSubjectOf(f *testing.F) {
	s := handleService(f)
	h, err := s.handle(1, 42)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{h, "", ".", "a.b", "azE.", strings.Repeat("A", 600), "azE.AAAA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := s.subjectOf(1, in)
		if err == nil && id != store.PersonID(42) {
			t.Errorf("subjectOf(%q) = %d, want a refusal", in, id)
		}
		if err != nil && !errors.Is(err, ErrNotLinked) {
			t.Errorf("subjectOf(%q) = %v, want ErrNotLinked", in, err)
		}
	})
}
