package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// authRequest returns a pending request created at minute 0 that expires at
// minute expires: every field the /authorize call sets is set, none of the
// login's.
func authRequest(id string, expires int) store.AuthRequest {
	return store.AuthRequest{
		ID:            id,
		ClientID:      "kasse-app",
		RedirectURI:   "https://app.example/callback",
		State:         "state-" + id,
		Nonce:         "nonce-" + id,
		Scopes:        []string{"openid", "profile", "kvnr"},
		ResponseType:  "code",
		ResponseMode:  "query",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		ACRValues:     []string{"substantial", "high"},
		Prompt:        []string{"login", "consent"},
		MaxAge:        300,
		CreatedAt:     at(0),
		ExpiresAt:     at(expires),
	}
}

// completeAuthRequest sets the fields a finished login and an issued code set.
func completeAuthRequest(r *store.AuthRequest, code string) {
	r.PersonID = 7
	r.SessionHash = []byte("session-hash-0123456789abcdef012")
	r.AuthTime = at(1)
	r.ACR = "substantial"
	r.AMR = []string{"pwd", "otp"}
	r.DoneAt = at(2)
	r.CodeHash = []byte(code)
	r.CodeExpiresAt = at(3)
}

func testAuthRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.AuthRequestByID(ctx, "nope", at(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AuthRequestByID(unknown) = %v, want ErrNotFound", err)
	}
	full := authRequest("full", 10)
	completeAuthRequest(&full, "code-full")
	full.CodeUsedAt = at(4)
	// Nil lists, nil hashes and zero times come back as they went in.
	empty := store.AuthRequest{ID: "empty", MaxAge: -1, ExpiresAt: at(10)}
	pending, other := authRequest("pending", 10), authRequest("other", 20)
	for _, r := range []store.AuthRequest{full, empty, pending, other} {
		if err := s.CreateAuthRequest(ctx, r); err != nil {
			t.Fatalf("CreateAuthRequest(%s): %v", r.ID, err)
		}
	}
	dup := authRequest("pending", 30)
	dup.State = "another"
	if err := s.CreateAuthRequest(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateAuthRequest(existing id) = %v, want ErrConflict", err)
	}
	dupCode := authRequest("dup-code", 10)
	dupCode.CodeHash = full.CodeHash
	if err := s.CreateAuthRequest(ctx, dupCode); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateAuthRequest(existing code hash) = %v, want ErrConflict", err)
	}
	for _, want := range []store.AuthRequest{full, empty, pending, other} {
		got, err := s.AuthRequestByID(ctx, want.ID, at(0))
		if err != nil {
			t.Errorf("AuthRequestByID(%s): %v", want.ID, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AuthRequestByID(%s) (-want +got):\n%s", want.ID, diff)
		}
	}

	// ExpiresAt is exclusive: at that instant the request is gone.
	if _, err := s.AuthRequestByID(ctx, "pending", at(10).Add(-time.Microsecond)); err != nil {
		t.Errorf("AuthRequestByID just before expiry: %v", err)
	}
	for _, now := range []time.Time{at(10), at(11)} {
		if _, err := s.AuthRequestByID(ctx, "pending", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AuthRequestByID(expired) at %v = %v, want ErrNotFound", now, err)
		}
	}
	if _, err := s.AuthRequestByID(ctx, "other", at(11)); err != nil {
		t.Errorf("AuthRequestByID(other) at minute 11: %v", err)
	}

	// By code: used or not, expired or not.
	got, err := s.AuthRequestByCode(ctx, []byte("code-full"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full, got); diff != "" {
		t.Errorf("AuthRequestByCode (-want +got):\n%s", diff)
	}
	for _, code := range [][]byte{[]byte("code-unknown"), nil, {}} {
		if _, err := s.AuthRequestByCode(ctx, code); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AuthRequestByCode(%q) = %v, want ErrNotFound", code, err)
		}
	}
}

func testUpdateAuthRequest(t *testing.T, s store.Store) {
	ctx := t.Context()
	called := false
	_, err := s.UpdateAuthRequest(ctx, "nope", func(*store.AuthRequest) error { called = true; return nil })
	if !errors.Is(err, store.ErrNotFound) || called {
		t.Errorf("UpdateAuthRequest(unknown) = %v (fn called: %v), want ErrNotFound", err, called)
	}
	r1, r2 := authRequest("r1", 10), authRequest("r2", 10)
	for _, r := range []store.AuthRequest{r1, r2} {
		if err := s.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	stored := func(id string) store.AuthRequest {
		t.Helper()
		r, err := s.AuthRequestByID(ctx, id, at(0))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	boom := errors.New("boom")
	_, err = s.UpdateAuthRequest(ctx, "r1", func(r *store.AuthRequest) error {
		completeAuthRequest(r, "code-1")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("UpdateAuthRequest with failing fn = %v, want boom", err)
	}
	if diff := cmp.Diff(r1, stored("r1")); diff != "" {
		t.Errorf("a failed update wrote (-want +got):\n%s", diff)
	}

	want := r1
	completeAuthRequest(&want, "code-1")
	got, err := s.UpdateAuthRequest(ctx, "r1", func(r *store.AuthRequest) error {
		if diff := cmp.Diff(r1, *r); diff != "" {
			t.Errorf("fn saw (-want +got):\n%s", diff)
		}
		completeAuthRequest(r, "code-1")
		r.ID = "renamed" // must be ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateAuthRequest result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, stored("r1")); diff != "" {
		t.Errorf("stored after update (-want +got):\n%s", diff)
	}
	if _, err := s.AuthRequestByID(ctx, "renamed", at(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the updater renamed the request: %v", err)
	}
	if byCode, err := s.AuthRequestByCode(ctx, []byte("code-1")); err != nil || byCode.ID != "r1" {
		t.Errorf("AuthRequestByCode after the update = %q, %v; want r1", byCode.ID, err)
	}

	// Another request cannot take the same code hash.
	_, err = s.UpdateAuthRequest(ctx, "r2", func(r *store.AuthRequest) error {
		r.State = "changed"
		r.CodeHash = []byte("code-1")
		return nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("UpdateAuthRequest to a taken code hash = %v, want ErrConflict", err)
	}
	if diff := cmp.Diff(r2, stored("r2")); diff != "" {
		t.Errorf("a conflicting update wrote (-want +got):\n%s", diff)
	}

	// Fields can be cleared again.
	want.CodeUsedAt, want.AMR, want.SessionHash, want.Prompt = at(5), nil, nil, nil
	got, err = s.UpdateAuthRequest(ctx, "r1", func(r *store.AuthRequest) error {
		r.CodeUsedAt, r.AMR, r.SessionHash, r.Prompt = at(5), nil, nil, nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clearing update result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, stored("r1")); diff != "" {
		t.Errorf("stored after clearing (-want +got):\n%s", diff)
	}
}

// gate widens the race window of an updater: each call of wait blocks until
// n calls are waiting at once, which happens only when nothing serialises the
// updaters, or until a short timeout. A missing lock then shows as several
// winners, not as luck.
type gate struct {
	n     int64
	calls atomic.Int64
	allIn chan struct{}
	once  sync.Once
}

func newGate(n int) *gate { return &gate{n: int64(n), allIn: make(chan struct{})} }

func (g *gate) wait() {
	if g.calls.Add(1) == g.n {
		g.once.Do(func() { close(g.allIn) })
	}
	select {
	case <-g.allIn:
	case <-time.After(5 * time.Millisecond):
	}
}

// race runs try(0) … try(n-1) in parallel goroutines released at once and
// returns how many returned nil and how many returned an error matching lose;
// any other error fails the test.
func race(t *testing.T, n int, lose error, try func(i int) error) (won, lost int64) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		w, l  atomic.Int64
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			switch err := try(i); {
			case err == nil:
				w.Add(1)
			case errors.Is(err, lose):
				l.Add(1)
			default:
				t.Errorf("goroutine %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return w.Load(), l.Load()
}

func testUpdateAuthRequestParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := authRequest("race", 10)
	completeAuthRequest(&r, "code-race")
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	const n = 50
	errUsed := errors.New("code used")
	g := newGate(n)
	var winner atomic.Int64
	won, lost := race(t, n, errUsed, func(i int) error {
		_, err := s.UpdateAuthRequest(ctx, "race", func(r *store.AuthRequest) error {
			used := r.CodeUsedAt.IsZero()
			g.wait()
			if !used {
				return errUsed
			}
			r.CodeUsedAt = at(5).Add(time.Duration(i) * time.Microsecond)
			return nil
		})
		if err == nil {
			winner.Store(int64(i))
		}
		return err
	})
	if won != 1 || lost != n-1 {
		t.Fatalf("%d parallel code exchanges: %d won, %d lost; want 1 and %d", n, won, lost, n-1)
	}
	got, err := s.AuthRequestByCode(ctx, []byte("code-race"))
	if err != nil {
		t.Fatal(err)
	}
	if want := at(5).Add(time.Duration(winner.Load()) * time.Microsecond); !got.CodeUsedAt.Equal(want) {
		t.Errorf("CodeUsedAt = %v, want the winner's %v", got.CodeUsedAt, want)
	}
}

func testDeleteAuthRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, expires := range []int{10, 20, 30} {
		r := authRequest(fmt.Sprintf("r%d", expires), expires)
		r.CodeHash = fmt.Appendf(nil, "code-%d", i)
		if err := s.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// r20 expires at 20, which is not before 20.
	if n, err := s.DeleteAuthRequestsBefore(ctx, at(20)); err != nil || n != 1 {
		t.Errorf("DeleteAuthRequestsBefore(20) = %d, %v; want 1", n, err)
	}
	if _, err := s.AuthRequestByCode(ctx, []byte("code-0")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted request still found by code: %v", err)
	}
	if n, err := s.DeleteAuthRequestsBefore(ctx, at(20)); err != nil || n != 0 {
		t.Errorf("second DeleteAuthRequestsBefore(20) = %d, %v; want 0", n, err)
	}
	if _, err := s.AuthRequestByCode(ctx, []byte("code-1")); err != nil {
		t.Errorf("r20 was deleted: %v", err)
	}
	if n, err := s.DeleteAuthRequestsBefore(ctx, at(31)); err != nil || n != 2 {
		t.Errorf("DeleteAuthRequestsBefore(31) = %d, %v; want 2", n, err)
	}
}

// accessToken returns an access token of family for person 1 at client-a,
// created at minute 1 and valid for 5 minutes.
func accessToken(id, family string) store.Token {
	return store.Token{
		ID:        id,
		Kind:      store.TokenAccess,
		Family:    family,
		ClientID:  "client-a",
		PersonID:  1,
		Subject:   "pairwise-sub-1",
		Scopes:    []string{"openid", "profile"},
		Audience:  []string{"client-a", "https://api.kasse.example"},
		AuthTime:  at(0),
		ACR:       "substantial",
		AMR:       []string{"pwd", "otp"},
		CreatedAt: at(1),
		ExpiresAt: at(6),
	}
}

// refreshToken returns a refresh token like accessToken, with a hash derived
// from id, valid until minute 60 in a family that ends at minute 600.
func refreshToken(id, family string) store.Token {
	k := accessToken(id, family)
	k.Kind = store.TokenRefresh
	k.Hash = []byte("refresh-hash-" + id)
	k.Audience = nil
	k.AuthorizationDetails = []byte(`[{"type":"kasse_address_change","locations":["https://api.kasse.example"]}]`)
	k.ExpiresAt = at(60)
	k.FamilyExpiresAt = at(600)
	return k
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.TokenByID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByID(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.RefreshTokenByHash(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RefreshTokenByHash(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.CreateTokens(ctx); err != nil {
		t.Errorf("CreateTokens() with no tokens: %v", err)
	}
	access, refresh := accessToken("a1", "f1"), refreshToken("r1", "f1")
	// Tokens are stored in whatever state they come.
	spent := refreshToken("r0", "f0")
	spent.UsedAt, spent.RevokedAt = at(2), at(3)
	bare := store.Token{ID: "bare", Kind: store.TokenAccess, ExpiresAt: at(6)}
	toks := []store.Token{access, refresh, spent, bare}
	if err := s.CreateTokens(ctx, toks...); err != nil {
		t.Fatal(err)
	}
	for _, want := range toks {
		got, err := s.TokenByID(ctx, want.ID)
		if err != nil {
			t.Errorf("TokenByID(%s): %v", want.ID, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TokenByID(%s) (-want +got):\n%s", want.ID, diff)
		}
	}
	for _, want := range []store.Token{refresh, spent} {
		got, err := s.RefreshTokenByHash(ctx, want.Hash)
		if err != nil {
			t.Errorf("RefreshTokenByHash(%s): %v", want.ID, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RefreshTokenByHash(%s) (-want +got):\n%s", want.ID, diff)
		}
	}
	if _, err := s.RefreshTokenByHash(ctx, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RefreshTokenByHash(nil) = %v, want ErrNotFound (access tokens have no hash)", err)
	}

	// A batch with one conflict stores nothing.
	dupID := accessToken("a1", "f2")
	dupHash := refreshToken("r2", "f2")
	dupHash.Hash = refresh.Hash
	for _, batch := range [][]store.Token{
		{accessToken("new1", "f2"), dupID},
		{accessToken("new1", "f2"), refreshToken("new2", "f2"), dupHash},
		{refreshToken("new2", "f2"), refreshToken("new2", "f3")},
	} {
		if err := s.CreateTokens(ctx, batch...); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateTokens with a conflict = %v, want ErrConflict", err)
		}
		for _, id := range []string{"new1", "new2"} {
			if _, err := s.TokenByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a conflicting batch stored %s: %v", id, err)
			}
		}
	}
	if got, err := s.TokenByID(ctx, "a1"); err != nil || got.Family != "f1" {
		t.Errorf("a conflicting batch changed a1: family %q, %v", got.Family, err)
	}
}

func testRotateRefreshToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	r1, r4, r5 := refreshToken("r1", "f1"), refreshToken("r4", "f4"), refreshToken("r5", "f5")
	if err := s.CreateTokens(ctx, r1, accessToken("a1", "f1"), r4, r5); err != nil {
		t.Fatal(err)
	}
	token := func(id string) store.Token {
		t.Helper()
		k, err := s.TokenByID(ctx, id)
		if err != nil {
			t.Fatalf("TokenByID(%s): %v", id, err)
		}
		return k
	}
	absent := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			if _, err := s.TokenByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("refused rotation stored %s: %v", id, err)
			}
		}
	}

	for _, hash := range [][]byte{[]byte("unknown"), nil} {
		if err := s.RotateRefreshToken(ctx, hash, at(5), refreshToken("x", "f1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RotateRefreshToken(%q) = %v, want ErrNotFound", hash, err)
		}
	}
	absent("x")

	r2, a2 := refreshToken("r2", "f1"), accessToken("a2", "f1")
	r2.CreatedAt, a2.CreatedAt = at(5), at(5)
	if err := s.RotateRefreshToken(ctx, r1.Hash, at(5), r2, a2); err != nil {
		t.Fatal(err)
	}
	want := r1
	want.UsedAt = at(5)
	if diff := cmp.Diff(want, token("r1")); diff != "" {
		t.Errorf("rotated token (-want +got):\n%s", diff)
	}
	for _, next := range []store.Token{r2, a2} {
		if diff := cmp.Diff(next, token(next.ID)); diff != "" {
			t.Errorf("next token %s (-want +got):\n%s", next.ID, diff)
		}
	}

	// A used token does not rotate again.
	if err := s.RotateRefreshToken(ctx, r1.Hash, at(6), refreshToken("r3", "f1")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second rotation = %v, want ErrConflict", err)
	}
	absent("r3")
	if got := token("r1"); !got.UsedAt.Equal(at(5)) {
		t.Errorf("second rotation moved UsedAt to %v", got.UsedAt)
	}

	// A revoked token does not rotate.
	if _, err := s.RevokeTokenFamily(ctx, "f4", at(6)); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateRefreshToken(ctx, r4.Hash, at(7), refreshToken("r4b", "f4")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rotating a revoked token = %v, want ErrConflict", err)
	}
	absent("r4b")
	if got := token("r4"); !got.UsedAt.IsZero() {
		t.Errorf("refused rotation marked r4 used at %v", got.UsedAt)
	}

	// ExpiresAt is exclusive.
	if err := s.RotateRefreshToken(ctx, r2.Hash, at(60), refreshToken("r2b", "f1")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rotating at expiry = %v, want ErrConflict", err)
	}
	absent("r2b")
	if got := token("r2"); !got.UsedAt.IsZero() {
		t.Errorf("refused rotation marked r2 used at %v", got.UsedAt)
	}
	if err := s.RotateRefreshToken(ctx, r2.Hash, at(60).Add(-time.Microsecond), refreshToken("r2b", "f1")); err != nil {
		t.Errorf("rotating just before expiry: %v", err)
	}

	// A next token that conflicts undoes the whole rotation.
	if err := s.RotateRefreshToken(ctx, r5.Hash, at(8), refreshToken("r5b", "f5"), accessToken("a1", "f5")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rotation to an existing id = %v, want ErrConflict", err)
	}
	absent("r5b")
	if got := token("r5"); !got.UsedAt.IsZero() {
		t.Errorf("rotation with a conflicting next token marked r5 used at %v", got.UsedAt)
	}
	if err := s.RotateRefreshToken(ctx, r5.Hash, at(8), refreshToken("r5b", "f5")); err != nil {
		t.Errorf("rotation after the refused one: %v", err)
	}
}

func testRotateRefreshTokenParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := refreshToken("old", "f1")
	if err := s.CreateTokens(ctx, old); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var winner atomic.Int64
	won, lost := race(t, n, store.ErrConflict, func(i int) error {
		err := s.RotateRefreshToken(ctx, old.Hash, at(5), refreshToken(fmt.Sprintf("next-%d", i), "f1"))
		if err == nil {
			winner.Store(int64(i))
		}
		return err
	})
	if won != 1 || lost != n-1 {
		t.Fatalf("%d parallel rotations: %d won, %d lost; want 1 and %d", n, won, lost, n-1)
	}
	var stored []string
	for i := range n {
		id := fmt.Sprintf("next-%d", i)
		_, err := s.TokenByID(ctx, id)
		switch {
		case err == nil:
			stored = append(stored, id)
		case !errors.Is(err, store.ErrNotFound):
			t.Fatal(err)
		}
	}
	if want := []string{fmt.Sprintf("next-%d", winner.Load())}; !cmp.Equal(want, stored) {
		t.Errorf("next tokens stored: %v, want only the winner's %v", stored, want)
	}
}

func testRevokeTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	pre := accessToken("f1-pre", "f1")
	pre.RevokedAt = at(1)
	otherClient := accessToken("f3-a", "f3")
	otherClient.ClientID = "client-b"
	otherPerson := accessToken("f4-a", "f4")
	otherPerson.PersonID = 2
	if err := s.CreateTokens(ctx, accessToken("f1-a", "f1"), refreshToken("f1-r", "f1"), pre,
		accessToken("f2-a", "f2"), otherClient, otherPerson); err != nil {
		t.Fatal(err)
	}
	revokedAt := func(id string) time.Time {
		t.Helper()
		k, err := s.TokenByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return k.RevokedAt
	}
	check := func(when string, want map[string]time.Time) {
		t.Helper()
		got := map[string]time.Time{}
		for id := range want {
			got[id] = revokedAt(id)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RevokedAt %s (-want +got):\n%s", when, diff)
		}
	}

	if n, err := s.RevokeTokenFamily(ctx, "f1", at(5)); err != nil || n != 2 {
		t.Errorf("RevokeTokenFamily(f1) = %d, %v; want 2 (not the revoked one)", n, err)
	}
	if n, err := s.RevokeTokenFamily(ctx, "f1", at(6)); err != nil || n != 0 {
		t.Errorf("second RevokeTokenFamily(f1) = %d, %v; want 0", n, err)
	}
	if n, err := s.RevokeTokenFamily(ctx, "unknown", at(6)); err != nil || n != 0 {
		t.Errorf("RevokeTokenFamily(unknown) = %d, %v; want 0", n, err)
	}
	check("after revoking f1", map[string]time.Time{"f1-a": at(5), "f1-r": at(5), "f1-pre": at(1),
		"f2-a": {}, "f3-a": {}, "f4-a": {}})

	if n, err := s.RevokeClientTokens(ctx, 1, "client-a", at(7)); err != nil || n != 1 {
		t.Errorf("RevokeClientTokens(1, client-a) = %d, %v; want 1 (f2-a)", n, err)
	}
	if n, err := s.RevokeClientTokens(ctx, 1, "client-a", at(8)); err != nil || n != 0 {
		t.Errorf("second RevokeClientTokens(1, client-a) = %d, %v; want 0", n, err)
	}
	check("after revoking client-a for person 1", map[string]time.Time{"f1-a": at(5), "f1-r": at(5),
		"f1-pre": at(1), "f2-a": at(7), "f3-a": {}, "f4-a": {}})

	if n, err := s.RevokeToken(ctx, "f3-a", at(9)); err != nil || n != 1 {
		t.Errorf("RevokeToken(f3-a) = %d, %v; want 1", n, err)
	}
	if n, err := s.RevokeToken(ctx, "f3-a", at(10)); err != nil || n != 0 {
		t.Errorf("second RevokeToken(f3-a) = %d, %v; want 0", n, err)
	}
	if n, err := s.RevokeToken(ctx, "unknown", at(10)); err != nil || n != 0 {
		t.Errorf("RevokeToken(unknown) = %d, %v; want 0", n, err)
	}
	check("after revoking f3-a", map[string]time.Time{"f1-a": at(5), "f1-r": at(5),
		"f1-pre": at(1), "f2-a": at(7), "f3-a": at(9), "f4-a": {}})
}

func testDeleteTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	var toks []store.Token
	for _, expires := range []int{10, 20, 30} {
		k := refreshToken(fmt.Sprintf("r%d", expires), "f1")
		k.ExpiresAt = at(expires)
		toks = append(toks, k)
	}
	if err := s.CreateTokens(ctx, toks...); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteTokensBefore(ctx, at(20)); err != nil || n != 1 {
		t.Errorf("DeleteTokensBefore(20) = %d, %v; want 1", n, err)
	}
	if _, err := s.RefreshTokenByHash(ctx, toks[0].Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted token still found: %v", err)
	}
	if n, err := s.DeleteTokensBefore(ctx, at(20)); err != nil || n != 0 {
		t.Errorf("second DeleteTokensBefore(20) = %d, %v; want 0", n, err)
	}
	if _, err := s.TokenByID(ctx, "r20"); err != nil {
		t.Errorf("r20 was deleted: %v", err)
	}
	if n, err := s.DeleteTokensBefore(ctx, at(31)); err != nil || n != 2 {
		t.Errorf("DeleteTokensBefore(31) = %d, %v; want 2", n, err)
	}
}

// cibaRequest returns a pending request for person 7 created at minute 0 that
// expires at minute expires.
func cibaRequest(id string, expires int) store.CIBARequest {
	return store.CIBARequest{
		Hash:                 []byte("auth-req-hash-" + id),
		ID:                   id,
		ClientID:             "kasse-callcenter",
		PersonID:             7,
		ApprovalID:           "approval-" + id,
		Scopes:               []string{"openid", "kasse.address"},
		ACR:                  "high",
		BindingMessage:       "Anruf 4711",
		AuthorizationDetails: []byte(`[{"type":"kasse_address_change"}]`),
		Interval:             5 * time.Second,
		CreatedAt:            at(0),
		ExpiresAt:            at(expires),
	}
}

// peekCIBA returns the stored request through an updater that changes nothing
// (the contract has no plain read).
func peekCIBA(t *testing.T, s store.Store, hash []byte) (store.CIBARequest, error) {
	t.Helper()
	return s.UpdateCIBARequest(t.Context(), hash, func(*store.CIBARequest) error { return nil })
}

func testCIBARequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	called := false
	_, err := s.UpdateCIBARequest(ctx, []byte("nope"), func(*store.CIBARequest) error { called = true; return nil })
	if !errors.Is(err, store.ErrNotFound) || called {
		t.Errorf("UpdateCIBARequest(unknown) = %v (fn called: %v), want ErrNotFound", err, called)
	}
	c := cibaRequest("c1", 5)
	// An unknown login_hint: no person, no approval, nothing optional.
	unknown := store.CIBARequest{Hash: []byte("auth-req-hash-c2"), ID: "c2", ClientID: "kasse-callcenter",
		Interval: 1500 * time.Millisecond, CreatedAt: at(0), ExpiresAt: at(10)}
	for _, r := range []store.CIBARequest{c, unknown} {
		if err := s.CreateCIBARequest(ctx, r); err != nil {
			t.Fatalf("CreateCIBARequest(%s): %v", r.ID, err)
		}
	}
	dupHash := cibaRequest("c3", 5)
	dupHash.Hash = c.Hash
	dupID := cibaRequest("c1", 5)
	dupID.Hash = []byte("auth-req-hash-other")
	for _, dup := range []store.CIBARequest{dupHash, dupID} {
		if err := s.CreateCIBARequest(ctx, dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateCIBARequest(%s, %q) = %v, want ErrConflict", dup.ID, dup.Hash, err)
		}
	}
	for _, want := range []store.CIBARequest{c, unknown} {
		got, err := peekCIBA(t, s, want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored %s (-want +got):\n%s", want.ID, diff)
		}
	}
	if _, err := peekCIBA(t, s, dupID.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a conflicting create stored its hash: %v", err)
	}

	boom := errors.New("boom")
	_, err = s.UpdateCIBARequest(ctx, c.Hash, func(r *store.CIBARequest) error {
		r.IssuedAt = at(1)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("UpdateCIBARequest with failing fn = %v, want boom", err)
	}
	if got, _ := peekCIBA(t, s, c.Hash); !cmp.Equal(c, got) {
		t.Errorf("a failed update wrote: %+v", got)
	}

	want := c
	want.LastPollAt, want.IssuedAt, want.Interval = at(1), at(2), 10*time.Second
	got, err := s.UpdateCIBARequest(ctx, c.Hash, func(r *store.CIBARequest) error {
		if diff := cmp.Diff(c, *r); diff != "" {
			t.Errorf("fn saw (-want +got):\n%s", diff)
		}
		r.LastPollAt, r.IssuedAt, r.Interval = at(1), at(2), 10*time.Second
		r.Hash, r.ID = []byte("renamed"), "renamed" // must be ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateCIBARequest result (-want +got):\n%s", diff)
	}
	if got, _ := peekCIBA(t, s, c.Hash); !cmp.Equal(want, got) {
		t.Errorf("stored after update: %+v", got)
	}
	if _, err := peekCIBA(t, s, []byte("renamed")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the updater renamed the request: %v", err)
	}

	// c1 expires at 5, c2 at 10, which is not before 10.
	if n, err := s.DeleteCIBARequestsBefore(ctx, at(10)); err != nil || n != 1 {
		t.Errorf("DeleteCIBARequestsBefore(10) = %d, %v; want 1", n, err)
	}
	if _, err := peekCIBA(t, s, c.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted request still updatable: %v", err)
	}
	if n, err := s.DeleteCIBARequestsBefore(ctx, at(10)); err != nil || n != 0 {
		t.Errorf("second DeleteCIBARequestsBefore(10) = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteCIBARequestsBefore(ctx, at(11)); err != nil || n != 1 {
		t.Errorf("DeleteCIBARequestsBefore(11) = %d, %v; want 1", n, err)
	}
	// The id is free again.
	if err := s.CreateCIBARequest(ctx, c); err != nil {
		t.Errorf("re-create after delete: %v", err)
	}
}

func testUpdateCIBARequestParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cibaRequest("race", 5)
	if err := s.CreateCIBARequest(ctx, c); err != nil {
		t.Fatal(err)
	}
	const n = 50
	errIssued := errors.New("tokens issued")
	g := newGate(n)
	var winner atomic.Int64
	won, lost := race(t, n, errIssued, func(i int) error {
		_, err := s.UpdateCIBARequest(ctx, c.Hash, func(r *store.CIBARequest) error {
			pending := r.IssuedAt.IsZero()
			g.wait()
			if !pending {
				return errIssued
			}
			r.IssuedAt = at(1).Add(time.Duration(i) * time.Microsecond)
			return nil
		})
		if err == nil {
			winner.Store(int64(i))
		}
		return err
	})
	if won != 1 || lost != n-1 {
		t.Fatalf("%d parallel token requests: %d issued, %d refused; want 1 and %d", n, won, lost, n-1)
	}
	got, err := peekCIBA(t, s, c.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if want := at(1).Add(time.Duration(winner.Load()) * time.Microsecond); !got.IssuedAt.Equal(want) {
		t.Errorf("IssuedAt = %v, want the winner's %v", got.IssuedAt, want)
	}
}
