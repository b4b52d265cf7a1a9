package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/pforte/pforte/appclient"
)

// Scenarios, by name.
const (
	PasswordLogin = "password-login"
	WrongPassword = "wrong-password"
	AppLogin      = "app-login"
	WrongPIN      = "wrong-pin"
	AccessRequest = "access-request"
	Approval      = "approval"
)

// Scenarios lists every scenario in table order.
var Scenarios = []string{PasswordLogin, WrongPassword, AppLogin, WrongPIN, AccessRequest, Approval}

// Uses of one account by the scenarios that use accounts up: a wrong
// password stays below the default lock (5 failures), a wrong PIN below the
// default PIN limit (3), so every counted failure is answered 401 and the
// stored counters can be compared exactly.
const (
	wrongPasswordsPerAccount = 4
	wrongPINsPerDevice       = 2
)

// wrongPIN is the PIN the wrong-pin scenario signs with.
const wrongPIN = "000000"

// flows runs the scenarios' flows for one run.
type flows struct {
	target *Target
	client *http.Client
	rec    *recorder
	ledger *Ledger
	state  *State
	pools  map[string]*pool
	closed bool         // a closed-loop run: requests cut off by its end are not recorded
	next   atomic.Int64 // register entries handed out
	seq    atomic.Int64 // distinct house numbers for address changes
}

// run runs one flow of scenario name and returns the status of its last
// step.
func (f *flows) run(ctx context.Context, name string) (int, error) {
	switch name {
	case PasswordLogin:
		return f.passwordLogin(ctx)
	case WrongPassword:
		return f.wrongPassword(ctx)
	case AppLogin:
		return f.appLogin(ctx)
	case WrongPIN:
		return f.wrongPIN(ctx)
	case AccessRequest:
		return f.accessRequest(ctx)
	case Approval:
		return f.approval(ctx)
	}
	return 0, fmt.Errorf("loadtest: unknown scenario %q", name)
}

type loginBody struct {
	KVNR     string `json:"kvnr"`
	Password string `json:"password"`
}

func (f *flows) passwordLogin(ctx context.Context) (int, error) {
	a, err := f.pools[PasswordLogin].take(ctx)
	if err != nil {
		return 0, err
	}
	defer f.pools[PasswordLogin].give(a)
	ans, err := f.send(ctx, step{name: "POST /api/v1/sessions", method: http.MethodPost, path: "/api/v1/sessions",
		body: loginBody{a.kvnr, f.state.Password}, retry: idempotent})
	return ans.status, err
}

func (f *flows) wrongPassword(ctx context.Context) (int, error) {
	a, err := f.pools[WrongPassword].take(ctx)
	if err != nil {
		return 0, err
	}
	defer f.pools[WrongPassword].give(a)
	ans, err := f.send(ctx, step{name: "POST /api/v1/sessions", method: http.MethodPost, path: "/api/v1/sessions",
		body: loginBody{a.kvnr, f.state.Password + " falsch"}, retry: onlyBusy})
	switch {
	case errors.Is(err, errCutOff):
		f.ledger.add(KindPasswordFailure, a.kvnr, 0, 1)
	case err == nil && ans.status == http.StatusUnauthorized:
		f.ledger.add(KindPasswordFailure, a.kvnr, 1, 0)
	}
	return ans.status, err
}

// appSession logs a's phone in with the PIN key seed and returns the app
// session's token; a wrong seed is counted in the ledger.
func (f *flows) appSession(ctx context.Context, a *account, seed []byte, wrong bool) (string, int, error) {
	ch, err := f.challenge(ctx, a, appclient.PurposeLogin, "")
	if err != nil {
		return "", 0, err
	}
	proof, err := a.device.SignWithSeed(seed, ch, appclient.ContentHash(appclient.PurposeLogin, "", nil))
	if err != nil {
		return "", 0, err
	}
	body := map[string]string{"device_id": a.device.ID, "challenge_id": ch.ID, "method": "pin",
		"device_signature": appclient.B64(proof.DeviceSignature), "pin_signature": appclient.B64(proof.PINSignature)}
	r := idempotent
	if wrong {
		r = onlyBusy
	}
	ans, err := f.send(ctx, step{name: "POST /api/v1/app/sessions", method: http.MethodPost, path: "/api/v1/app/sessions", body: body, retry: r})
	if wrong {
		switch {
		case errors.Is(err, errCutOff):
			f.ledger.add(KindPINFailure, a.device.ID, 0, 1)
		case err == nil && ans.status == http.StatusUnauthorized:
			f.ledger.add(KindPINFailure, a.device.ID, 1, 0)
		}
	}
	if err != nil || ans.status != http.StatusCreated {
		return "", ans.status, err
	}
	var s struct {
		Token string `json:"session_token"`
	}
	if err := json.Unmarshal(ans.body, &s); err != nil || s.Token == "" {
		return "", ans.status, fmt.Errorf("loadtest: app session: no token")
	}
	return s.Token, ans.status, nil
}

// challenge asks for a challenge of purpose for a's phone.
func (f *flows) challenge(ctx context.Context, a *account, purpose, approvalID string) (appclient.Challenge, error) {
	body := map[string]string{"purpose": purpose, "device_id": a.device.ID}
	if approvalID != "" {
		body["approval_id"] = approvalID
	}
	ans, err := f.send(ctx, step{name: "POST /api/v1/app/challenges", method: http.MethodPost, path: "/api/v1/app/challenges",
		body: body, retry: idempotent})
	if err != nil {
		return appclient.Challenge{}, err
	}
	if ans.status != http.StatusCreated {
		return appclient.Challenge{}, fmt.Errorf("loadtest: challenge: status %d", ans.status)
	}
	var ch appclient.Challenge
	if err := json.Unmarshal(ans.body, &ch); err != nil {
		return appclient.Challenge{}, fmt.Errorf("loadtest: challenge: %w", err)
	}
	return ch, nil
}

func (f *flows) appLogin(ctx context.Context) (int, error) {
	a, err := f.pools[AppLogin].take(ctx)
	if err != nil {
		return 0, err
	}
	defer f.pools[AppLogin].give(a)
	_, status, err := f.appSession(ctx, a, a.seed, false)
	return status, err
}

func (f *flows) wrongPIN(ctx context.Context) (int, error) {
	a, err := f.pools[WrongPIN].take(ctx)
	if err != nil {
		return 0, err
	}
	defer f.pools[WrongPIN].give(a)
	key, err := a.device.PINKey(wrongPIN)
	if err != nil {
		return 0, err
	}
	_, status, err := f.appSession(ctx, a, key.Seed(), true)
	return status, err
}

func (f *flows) accessRequest(ctx context.Context) (int, error) {
	i := int(f.next.Add(1)) - 1
	if i >= len(f.state.Register) {
		return 0, errors.New("loadtest: no register entry left for an access request (loadtest setup --register)")
	}
	e := f.state.Register[i]
	ans, err := f.send(ctx, step{name: "POST /api/v1/access-requests", method: http.MethodPost, path: "/api/v1/access-requests",
		body: map[string]string{"kvnr": e.KVNR, "postal_code": e.PostalCode, "birth_date": e.BirthDate, "method": "letter"}, retry: onlyBusy})
	// A 503 that came because the database went away mid-request may
	// follow a letter stored all the same (the letter and its codes commit
	// in one transaction, but a commit's answer can be lost with the
	// connection); the resent request's letter supersedes it, and only one
	// is printed, but both are rows: each such 503 widens the bound like a
	// cut-off.
	switch {
	case errors.Is(err, errCutOff):
		f.ledger.add(KindLetter, e.KVNR, 0, 1+ans.busy)
	case err == nil && ans.status == http.StatusAccepted:
		f.ledger.add(KindLetter, e.KVNR, 1, ans.busy)
	case ans.busy > 0:
		f.ledger.add(KindLetter, e.KVNR, 0, ans.busy)
	}
	return ans.status, err
}

// approval logs the phone in, asks for an address change with its session
// (a password alone may not), reads the pending approval and approves it
// with the PIN.
func (f *flows) approval(ctx context.Context) (int, error) {
	a, err := f.pools[Approval].take(ctx)
	if err != nil {
		return 0, err
	}
	defer f.pools[Approval].give(a)
	token, status, err := f.appSession(ctx, a, a.seed, false)
	if err != nil || token == "" {
		return status, err
	}
	return f.roundTrip(ctx, a, token)
}

// roundTrip asks for an address change with a's app session token, reads
// the pending approval and approves it with the PIN; the change is carried
// out in the approving transaction, so a 204 means it is done.
func (f *flows) roundTrip(ctx context.Context, a *account, token string) (int, error) {
	house := strconv.FormatInt(f.seq.Add(1)%900+1, 10)
	// Asking twice is harmless: the newer request withdraws the older.
	ans, err := f.send(ctx, step{name: "PUT /api/v1/me/address", method: http.MethodPut, path: "/api/v1/me/address", token: token,
		body: map[string]string{"street": "Lastweg", "house_number": house, "postal_code": "10115", "city": "Berlin"}, retry: idempotent})
	if err != nil || ans.status != http.StatusAccepted {
		return ans.status, err
	}
	var pending struct {
		ID string `json:"approval_id"`
	}
	if err := json.Unmarshal(ans.body, &pending); err != nil || pending.ID == "" {
		return 0, errors.New("loadtest: address change: no approval id")
	}
	return f.approve(ctx, a, token, pending.ID)
}

// approve answers approval id from a's phone. A cut-off answer is looked up
// (GET /api/v1/approvals/{id}) before the approval is answered again, so it
// is confirmed once whatever the network did.
func (f *flows) approve(ctx context.Context, a *account, token, id string) (int, error) {
	ans, err := f.send(ctx, step{name: "GET /api/v1/app/approvals", method: http.MethodGet, path: "/api/v1/app/approvals", token: token, retry: idempotent})
	if err != nil || ans.status != http.StatusOK {
		return ans.status, err
	}
	var list []struct {
		ID     string `json:"approval_id"`
		Action string `json:"action"`
		Text   string `json:"text"`
		Data   string `json:"data"`
	}
	if err := json.Unmarshal(ans.body, &list); err != nil {
		return 0, fmt.Errorf("loadtest: approvals: %w", err)
	}
	var hash [appclient.ContentHashSize]byte
	found := false
	for _, x := range list {
		if x.ID == id {
			data, err := appclient.UnB64(x.Data)
			if err != nil {
				return 0, fmt.Errorf("loadtest: approval data: %w", err)
			}
			hash, found = appclient.ContentHash(x.Action, x.Text, data), true
		}
	}
	if !found {
		return 0, fmt.Errorf("loadtest: approval %s is not pending", id)
	}
	for range maxAttempts {
		ch, err := f.challenge(ctx, a, appclient.PurposeApprove, id)
		if err != nil {
			return 0, err
		}
		proof, err := a.device.SignWithSeed(a.seed, ch, hash)
		if err != nil {
			return 0, err
		}
		body := map[string]string{"device_id": a.device.ID, "challenge_id": ch.ID, "method": "pin",
			"device_signature": appclient.B64(proof.DeviceSignature), "pin_signature": appclient.B64(proof.PINSignature)}
		ans, err := f.send(ctx, step{name: "POST /api/v1/approvals/{id}/approve", method: http.MethodPost,
			path: "/api/v1/approvals/" + url.PathEscape(id) + "/approve", body: body, retry: onlyBusy})
		if err == nil {
			if ans.status == http.StatusNoContent {
				f.ledger.add(KindApproval, id, 1, 0)
			}
			return ans.status, nil
		}
		if !errors.Is(err, errCutOff) {
			return 0, err
		}
		// Cut off: did it happen? Read the status, then answer again if not.
		st, err := f.send(ctx, step{name: "GET /api/v1/approvals/{id}", method: http.MethodGet,
			path: "/api/v1/approvals/" + url.PathEscape(id), token: token, retry: idempotent})
		if err != nil || st.status != http.StatusOK {
			f.ledger.add(KindApproval, id, 0, 1)
			return st.status, errCutOff
		}
		var p struct {
			Status   string `json:"status"`
			Executed bool   `json:"executed"`
		}
		if err := json.Unmarshal(st.body, &p); err != nil {
			return 0, fmt.Errorf("loadtest: approval status: %w", err)
		}
		if p.Status == "approved" {
			if p.Executed {
				f.ledger.add(KindApproval, id, 1, 0)
			} else {
				f.ledger.add(KindApproval, id, 0, 1)
			}
			return http.StatusNoContent, nil
		}
	}
	f.ledger.add(KindApproval, id, 0, 1)
	return 0, errCutOff
}
