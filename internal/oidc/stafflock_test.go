package oidc_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestStaffLockRefusesTokens: while staff lock the person's access, a
// refresh token gets no new tokens, a CIBA request reaches no phone, and a
// CIBA request the phone approved before the lock is refused; after the
// release the refresh token from before the lock stays revoked.
func TestStaffLockRefusesTokens(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		rp := nodetest.RPServer(t)
		redirect := rp.URL + "/callback"
		n := newOIDCNode(t, st, redirect)
		n.bindPhone(t)
		ctx := t.Context()
		party := nodetest.NewRelyingParty(t, n.issuer, redirect)
		b := nodetest.NewBrowserless(rp.URL)
		s := party.Start()
		tok, _, _ := party.Finish(t, s, n.loginWithPhone(t, b, s.URL))
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}
		// A CIBA request approved on the phone, before the lock.
		_, res := cibaStart(t, n, n.person.KVNR, "ZAHLUNG-1", cibaDetails)
		approved, _ := res["auth_req_id"].(string)
		a, _ := n.pending(t, approval.ActionClientRequest)
		if err := n.App().Approve(ctx, n.phone.Device, a, phonePIN, "pin", 0); err != nil {
			t.Fatal(err)
		}
		if err := st.LockPerson(ctx, store.PersonLock{PersonID: n.person.ID, LockedAt: time.Now(), LockedBy: "staff:1"}); err != nil {
			t.Fatal(err)
		}
		tokenURL := party.Provider.Endpoint().TokenURL
		status, body := nodetest.TokenPost(t, tokenURL, rpID, rpSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		wantError(t, "refresh during the lock", status, body, http.StatusBadRequest, "invalid_grant")
		ageLastPoll(t, st, approved, 11*time.Second)
		status, body = cibaPoll(t, n, approved)
		wantError(t, "an approved CIBA request polled during the lock", status, body, http.StatusBadRequest, "access_denied")
		status, res = cibaStart(t, n, n.person.KVNR, "ZAHLUNG-2", cibaDetails)
		if status != http.StatusOK {
			t.Fatalf("backchannel request during the lock: %d %v (want the answer any KVNR gets)", status, res)
		}
		if list, err := st.PendingApprovals(ctx, n.person.ID, time.Now()); err != nil || len(list) != 0 {
			t.Errorf("approvals on the phone during the lock: %d, %v; want none", len(list), err)
		}
		if err := st.UnlockPerson(ctx, n.person.ID); err != nil {
			t.Fatal(err)
		}
		// The lock revoked the tokens: the refresh token from before it
		// does not work again after the release (sign in anew).
		if _, err := party.Refresh(tok.RefreshToken); err == nil {
			t.Errorf("the refresh token from before the lock works again after the release")
		}
	})
}
