package approval_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

const addressText = "Neue Anschrift: Lindenweg 3, 04109 Leipzig"

var addressData = []byte(`{"street":"Lindenweg","house_number":"3","postal_code":"04109","city":"Leipzig"}`)

func (f *fixture) createAddressChange(t *testing.T) store.Approval {
	t.Helper()
	a, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionAddressChange, addressText, addressData, "", "session:ab12", session.LevelHigh)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestApproveAndExecute(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone := f.bind(t)
		dev := store.DeviceID(phone.ID)
		a := f.createAddressChange(t)
		if a.Status != store.ApprovalPending || a.Level != "substantial" || !a.ExpiresAt.Equal(f.clk.now().Add(5*time.Minute)) ||
			a.Number != 0 || len(a.Choices) != 0 {
			t.Errorf("created %+v", a)
		}
		if p, err := f.st.PersonByID(ctx, f.person.ID); err != nil || p.Version != f.person.Version {
			t.Errorf("a pending request changed the person: v%d (%v)", p.Version, err)
		}
		got, err := f.svc.Approve(ctx, a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "fpt", 0, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.ApprovalApproved || got.DeviceID != dev || got.Method != "fpt" || got.NotMe || got.UsedAt.IsZero() {
			t.Errorf("approved %+v", got)
		}
		// Carried out by the approval itself, before anyone reads a status.
		p, err := f.st.PersonByID(ctx, f.person.ID)
		if err != nil || p.Street != "Lindenweg" || p.City != "Leipzig" || p.Version != f.person.Version+1 {
			t.Errorf("person after the approval: %s, %s, version %d (%v)", p.Street, p.City, p.Version, err)
		}
		events, err := f.st.OutboxAfter(ctx, 0, 10)
		if err != nil || len(events) != 1 || events[0].ID != "approval:"+a.ID || events[0].PersonID != f.person.ID {
			t.Errorf("outbox %+v (%v)", events, err)
		}
		if _, err := f.svc.Approve(ctx, a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); !errors.Is(err, approval.ErrNotPending) {
			t.Errorf("second approve = %v, want ErrNotPending", err)
		}
		if st, err := f.svc.Status(ctx, a.ID, f.person.ID); err != nil || st.Status != store.ApprovalApproved {
			t.Errorf("Status = %+v, %v", st, err)
		}
		if _, err := f.svc.Status(ctx, a.ID, f.person.ID+1); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("Status for someone else = %v, want ErrNotFound", err)
		}
		// Reading changes nothing, and a change carried out is not redeemable.
		if p2, err := f.st.PersonByID(ctx, f.person.ID); err != nil || p2.Version != p.Version {
			t.Errorf("reading the status changed the person: v%d → v%d (%v)", p.Version, p2.Version, err)
		}
		if err := f.svc.Redeem(ctx, a.ID, f.person.ID, addressData); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("redeeming a carried-out change = %v, want ErrNotFound", err)
		}
		events2 := f.auditEvents(t)
		for _, want := range []string{"approval.requested", "approval.approved"} {
			if !slices.Contains(events2, want) {
				t.Errorf("audit trail %v lacks %s", events2, want)
			}
		}
	})
}

func TestCreateValidates(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	ctx := t.Context()
	if _, err := f.svc.Create(ctx, f.person.ID, approval.ActionAddressChange, addressText, addressData, "", "", session.LevelSubstantial); !errors.Is(err, approval.ErrNoDevice) {
		t.Errorf("without a device = %v, want ErrNoDevice", err)
	}
	f.bind(t)
	var inv *field.Error
	tests := []struct {
		name, action, text, level string
		data                      []byte
	}{
		{"unknown action", "account.delete", addressText, "", addressData},
		{"action without device approval", approval.ActionPersonalView, addressText, "", addressData},
		{"empty text", approval.ActionAddressChange, " ", "", addressData},
		{"text too long", approval.ActionAddressChange, strings.Repeat("ä", 501), "", addressData},
		{"control character", approval.ActionAddressChange, "a\x00b", "", addressData},
		{"data not JSON", approval.ActionAddressChange, addressText, "", []byte(`{"a":`)},
		{"data not an object", approval.ActionAddressChange, addressText, "", []byte(`["a"]`)},
		{"data naming a member twice", approval.ActionAddressChange, addressText, "", []byte(`{"city":"Halle","city":"Leipzig"}`)},
		{"data too large", approval.ActionAddressChange, addressText, "", []byte(`{"a":"` + strings.Repeat("x", 8<<10) + `"}`)},
		{"unknown level", approval.ActionAddressChange, addressText, "extreme", addressData},
	}
	for _, tt := range tests {
		if _, err := f.svc.Create(ctx, f.person.ID, tt.action, tt.text, tt.data, tt.level, "", session.LevelSubstantial); !errors.As(err, &inv) {
			t.Errorf("%s: %v, want *field.Error", tt.name, err)
		}
	}
	a, err := f.svc.Create(ctx, f.person.ID, approval.ActionAddressChange, strings.Repeat("ä", 500), addressData, "high", "", session.LevelSubstantial)
	if err != nil || a.Level != "high" {
		t.Errorf("500 characters, level high: %+v, %v", a, err)
	}
}

// TestNoRequestWhenEveryPINIsLocked: with every bound phone's PIN locked
// nobody could approve a request, so none is made (a CIBA client and the
// portal learn it at once); one usable phone is enough.
func TestNoRequestWhenEveryPINIsLocked(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	ctx := t.Context()
	first := store.DeviceID(f.bind(t).ID)
	second := store.DeviceID(f.bind(t).ID)
	lock := func(dev store.DeviceID) {
		t.Helper()
		if _, err := f.st.UpdateDevice(ctx, dev, func(d *store.Device) error {
			d.PINLockedAt = time.Now()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	lock(first)
	if _, err := f.svc.Create(ctx, f.person.ID, approval.ActionAddressChange, addressText, addressData, "", "", session.LevelSubstantial); err != nil {
		t.Errorf("with one usable phone: %v", err)
	}
	lock(second)
	for _, create := range []func() error{
		func() error {
			_, err := f.svc.Create(ctx, f.person.ID, approval.ActionAddressChange, addressText, addressData, "", "", session.LevelSubstantial)
			return err
		},
		func() error {
			_, err := f.svc.CreateForClient(ctx, f.person.ID, "Zahlung", []byte(`{}`), "", "client:kasse-app")
			return err
		},
	} {
		if err := create(); !errors.Is(err, approval.ErrDevicesLocked) {
			t.Errorf("every PIN locked: %v, want ErrDevicesLocked", err)
		}
	}
}

func TestWrongPIN(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		phone := f.bind(t)
		dev := store.DeviceID(phone.ID)
		a := f.createAddressChange(t)
		var wrong *device.WrongPINError
		if _, err := f.svc.Approve(t.Context(), a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, wrongPIN), "pin", 0, ""); !errors.As(err, &wrong) || wrong.Remaining != 2 {
			t.Fatalf("wrong PIN = %v, want 2 attempts left", err)
		}
		if st, _ := f.svc.Status(t.Context(), a.ID, f.person.ID); st.Status != store.ApprovalPending {
			t.Errorf("after a wrong PIN: %s", st.Status)
		}
		if _, err := f.svc.Approve(t.Context(), a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); err != nil {
			t.Errorf("right PIN after a wrong one: %v", err)
		}
	})
}

func TestDataChangedAfterSigning(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone := f.bind(t)
		dev := store.DeviceID(phone.ID)
		a := f.createAddressChange(t)
		// The phone signed other data (or other text) than the server stored.
		changed := []byte(`{"street":"Lindenweg","house_number":"5","postal_code":"04109","city":"Leipzig"}`)
		for _, p := range []device.Proof{
			f.approveProof(t, phone, a.ID, a.Action, a.Text, changed, pin),
			f.approveProof(t, phone, a.ID, a.Action, "Neue Anschrift: Lindenweg 5, 04109 Leipzig", a.Data, pin),
			f.approveProof(t, phone, a.ID, approval.ActionBankChange, a.Text, a.Data, pin),
		} {
			if _, err := f.svc.Approve(ctx, a.ID, dev, p, "pin", 0, ""); !errors.Is(err, device.ErrProof) {
				t.Errorf("proof over other content = %v, want ErrProof", err)
			}
		}
		if d, err := f.st.DeviceByID(ctx, dev); err != nil || d.PINFailures != 0 {
			t.Errorf("proofs over other content counted %d PIN attempts (%v)", d.PINFailures, err)
		}
		if _, err := f.svc.Approve(ctx, a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); err != nil {
			t.Fatal(err)
		}
		// What was carried out is exactly the data the phone signed.
		if p, err := f.st.PersonByID(ctx, f.person.ID); err != nil || p.HouseNumber != "3" || p.Version != f.person.Version+1 {
			t.Errorf("after approval the person has house number %q, version %d (%v); want 3, one change", p.HouseNumber, p.Version, err)
		}
	})
}

// TestParallelApprovalsCarryOutOnce: parallel approvals of one request on two
// nodes carry the change out once.
func TestParallelApprovalsCarryOutOnce(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone := f.bind(t)
		a := f.createAddressChange(t)
		nodes := []*approval.Service{f.svc, f.otherNode()}
		proofs := make([]device.Proof, 10)
		for i := range proofs {
			proofs[i] = f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin)
		}
		var ok, lost atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range proofs {
			wg.Go(func() {
				<-start
				_, err := nodes[i%2].Approve(ctx, a.ID, store.DeviceID(phone.ID), proofs[i], "pin", 0, "")
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, approval.ErrNotPending):
					lost.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		events, err := f.st.OutboxAfter(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.st.PersonByID(ctx, f.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok.Load() != 1 || lost.Load() != 9 || len(events) != 1 || p.Version != f.person.Version+1 {
			t.Errorf("10 parallel approvals: %d carried out, %d lost, %d outbox events, version %d → %d",
				ok.Load(), lost.Load(), len(events), f.person.Version, p.Version)
		}
	})
}

// TestNewerRequestWithdrawsTheOlder: two tabs ask for two address changes; the
// first is withdrawn (gone from the phone's list, not approvable) and only the
// second can be carried out.
func TestNewerRequestWithdrawsTheOlder(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone := f.bind(t)
		first := f.createAddressChange(t)
		second, err := f.svc.Create(ctx, f.person.ID, approval.ActionAddressChange, "Neue Anschrift: Ringstraße 9, 06108 Halle",
			[]byte(`{"street":"Ringstraße","house_number":"9","postal_code":"06108","city":"Halle"}`), "", "session:cd34", session.LevelSubstantial)
		if err != nil {
			t.Fatal(err)
		}
		pending, err := f.svc.Pending(ctx, f.person.ID)
		if err != nil || len(pending) != 1 || pending[0].ID != second.ID {
			t.Errorf("pending after a newer request: %v (%v), want only the newer", pending, err)
		}
		if st, err := f.svc.Status(ctx, first.ID, f.person.ID); err != nil || st.Status != store.ApprovalWithdrawn {
			t.Errorf("older request: %s (%v), want withdrawn", st.Status, err)
		}
		if _, err := f.svc.Approve(ctx, first.ID, store.DeviceID(phone.ID), f.approveProof(t, phone, first.ID, first.Action, first.Text, first.Data, pin), "pin", 0, ""); !errors.Is(err, approval.ErrNotPending) {
			t.Errorf("approving the withdrawn request = %v, want ErrNotPending", err)
		}
		if _, err := f.svc.Approve(ctx, second.ID, store.DeviceID(phone.ID), f.approveProof(t, phone, second.ID, second.Action, second.Text, second.Data, pin), "pin", 0, ""); err != nil {
			t.Fatal(err)
		}
		if p, err := f.st.PersonByID(ctx, f.person.ID); err != nil || p.City != "Halle" || p.Version != f.person.Version+1 {
			t.Errorf("person: %s v%d (%v), want Halle after one change", p.City, p.Version, err)
		}
	})
}

// TestSessionMustMeetThePolicy: a session below the action's policy level
// cannot even ask (a password-only session cannot push bank changes).
func TestSessionMustMeetThePolicy(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	f.bind(t)
	for _, action := range []string{approval.ActionAddressChange, approval.ActionBankChange, approval.ActionDeviceRemove} {
		if _, err := f.svc.Create(t.Context(), f.person.ID, action, addressText, addressData, "", "api", session.LevelLow); !errors.Is(err, approval.ErrSessionLevel) {
			t.Errorf("%s from a low session = %v, want ErrSessionLevel", action, err)
		}
	}
	if pending, err := f.svc.Pending(t.Context(), f.person.ID); err != nil || len(pending) != 0 {
		t.Errorf("refused requests left %d pending (%v)", len(pending), err)
	}
	if _, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionPortalLogin, "Anmeldung", []byte(`{}`), "", "portal", session.LevelLow); err != nil {
		t.Errorf("a portal login step-up from a low session: %v", err)
	}
	if _, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionClientRequest, "x", []byte(`{}`), "", "client:x", session.LevelHigh); err == nil {
		t.Error("client.request created through Create, not CreateForClient")
	}
}

func TestExpired(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone := f.bind(t)
		dev := store.DeviceID(phone.ID)
		a := f.createAddressChange(t)
		f.clk.advance(5 * time.Minute)
		if _, err := f.svc.Approve(ctx, a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); !errors.Is(err, approval.ErrExpired) {
			t.Errorf("approve at expiry = %v, want ErrExpired", err)
		}
		if _, err := f.svc.Decline(ctx, a.ID, dev, f.declineProof(t, phone, a), false, ""); !errors.Is(err, approval.ErrExpired) {
			t.Errorf("decline at expiry = %v, want ErrExpired", err)
		}
		if st, _ := f.svc.Status(ctx, a.ID, f.person.ID); st.Status != store.ApprovalExpired {
			t.Errorf("Status after expiry: %s", st.Status)
		}
		if p, err := f.st.PersonByID(ctx, f.person.ID); err != nil || p.Version != f.person.Version {
			t.Errorf("an expired request changed the person: v%d (%v)", p.Version, err)
		}
		if n, err := f.svc.Expire(ctx); err != nil || n != 1 {
			t.Errorf("Expire = %d, %v", n, err)
		}
		if stored, _ := f.st.ApprovalByID(ctx, a.ID); stored.Status != store.ApprovalExpired {
			t.Errorf("stored after the sweep: %s", stored.Status)
		}
		if pending, err := f.svc.Pending(ctx, f.person.ID); err != nil || len(pending) != 0 {
			t.Errorf("%d pending after expiry (%v)", len(pending), err)
		}
	})
}

func TestDeclineNotMe(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone, other := f.bind(t), f.bind(t)
		dev := store.DeviceID(phone.ID)
		a := f.createAddressChange(t)
		// A decline signed by another phone's key is refused.
		forged := f.declineProof(t, other, a)
		forged.ChallengeID = f.declineProof(t, phone, a).ChallengeID
		if _, err := f.svc.Decline(ctx, a.ID, dev, forged, true, ""); !errors.Is(err, device.ErrProof) {
			t.Errorf("decline with another device's signature = %v, want ErrProof", err)
		}
		// Declining needs no PIN and works with a locked PIN.
		if _, err := f.st.UpdateDevice(ctx, dev, func(d *store.Device) error { d.PINFailures, d.PINLockedAt = 3, f.clk.now(); return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Decline(ctx, a.ID, dev, f.declineProof(t, phone, a), true, "192.0.2.7")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.ApprovalDeclined || !got.NotMe || got.DeviceID != dev {
			t.Errorf("declined %+v", got)
		}
		if d, _ := f.st.DeviceByID(ctx, dev); d.PINFailures != 3 {
			t.Errorf("a decline touched the PIN counter: %d", d.PINFailures)
		}
		if !slices.Contains(f.auditEvents(t), "approval.not_me") {
			t.Errorf("no approval.not_me in the audit trail %v", f.auditEvents(t))
		}
		if _, err := f.svc.Approve(ctx, a.ID, store.DeviceID(other.ID), f.approveProof(t, other, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); !errors.Is(err, approval.ErrNotPending) {
			t.Errorf("approve after decline = %v, want ErrNotPending", err)
		}
		if p, err := f.st.PersonByID(ctx, f.person.ID); err != nil || p.Version != f.person.Version {
			t.Errorf("a declined request changed the person: v%d (%v)", p.Version, err)
		}
	})
}

func TestPortalLoginNumberMatching(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		phone := f.bind(t)
		dev := store.DeviceID(phone.ID)
		login := func() store.Approval {
			a, err := f.svc.Create(ctx, f.person.ID, approval.ActionPortalLogin, "Anmeldung im Versichertenportal", []byte(`{"ip":"192.0.2.1"}`), "", "session:cd34", session.LevelSubstantial)
			if err != nil {
				t.Fatal(err)
			}
			if a.Number < 10 || a.Number > 99 || len(a.Choices) != 3 || !slices.Contains(a.Choices, a.Number) ||
				a.Choices[0] == a.Choices[1] || a.Choices[1] == a.Choices[2] || a.Choices[0] == a.Choices[2] {
				t.Errorf("number %d, choices %v", a.Number, a.Choices)
			}
			return a
		}
		a := login()
		got, err := f.svc.Approve(ctx, a.ID, dev, f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "face", a.Number, "")
		if err != nil || got.Status != store.ApprovalApproved {
			t.Fatalf("right tap = %+v, %v", got, err)
		}
		level, err := f.svc.CompleteLogin(ctx, a.ID, f.person.ID)
		if err != nil || level != session.LevelSubstantial {
			t.Errorf("CompleteLogin = %q, %v", level, err)
		}
		if _, err := f.svc.CompleteLogin(ctx, a.ID, f.person.ID); !errors.Is(err, approval.ErrUsed) {
			t.Errorf("second CompleteLogin = %v, want ErrUsed", err)
		}

		b := login()
		wrongTap := b.Choices[0]
		if wrongTap == b.Number {
			wrongTap = b.Choices[1]
		}
		got, err = f.svc.Approve(ctx, b.ID, dev, f.approveProof(t, phone, b.ID, b.Action, b.Text, b.Data, pin), "pin", wrongTap, "")
		if !errors.Is(err, approval.ErrWrongNumber) || got.Status != store.ApprovalDeclined || got.NotMe ||
			got.DeclineReason != store.DeclineWrongNumber {
			t.Errorf("wrong tap = %+v, %v; want declined for the wrong number, not flagged as not me", got, err)
		}
		if _, err := f.svc.CompleteLogin(ctx, b.ID, f.person.ID); !errors.Is(err, approval.ErrNotApproved) {
			t.Errorf("CompleteLogin after a wrong tap = %v, want ErrNotApproved", err)
		}
		// A mistap is no report: only the explicit "Das war ich nicht" is.
		if slices.Contains(f.auditEvents(t), "approval.not_me") {
			t.Error("a wrong tap was recorded as approval.not_me")
		}
	})
}

func TestMaxPendingLogins(t *testing.T) {
	backends(t, approval.Config{}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		f.bind(t)
		create := func() (store.Approval, error) {
			return f.svc.Create(ctx, f.person.ID, approval.ActionPortalLogin, "Anmeldung im Versichertenportal", []byte(`{}`), "", "", session.LevelSubstantial)
		}
		for i := range 3 {
			if _, err := create(); err != nil {
				t.Fatalf("login request %d: %v", i+1, err)
			}
			f.clk.advance(time.Minute)
		}
		if _, err := create(); !errors.Is(err, approval.ErrTooManyPending) {
			t.Errorf("fourth login request = %v, want ErrTooManyPending", err)
		}
		// Other actions are not limited by the login requests.
		f.createAddressChange(t)
		// Expired and declined requests still count until the window has
		// passed: just after minute 10 the first one has left the window.
		f.clk.advance(7*time.Minute + time.Second)
		if _, err := create(); err != nil {
			t.Errorf("login request after the first left the window: %v", err)
		}
		if _, err := create(); !errors.Is(err, approval.ErrTooManyPending) {
			t.Errorf("login request with three in the window = %v, want ErrTooManyPending", err)
		}
	})
}

func TestMaxPendingClientRequests(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	ctx := t.Context()
	f.bind(t)
	create := func(action string) error {
		if action == approval.ActionClientRequest {
			_, err := f.svc.CreateForClient(ctx, f.person.ID, "Kasse-App bittet um Ihre Freigabe.", []byte(`{}`), "", "client:kasse-app")
			return err
		}
		_, err := f.svc.Create(ctx, f.person.ID, action, "Kasse-App bittet um Ihre Freigabe.", []byte(`{}`), "", "client:kasse-app", session.LevelLow)
		return err
	}
	for i := range 3 {
		if err := create(approval.ActionClientRequest); err != nil {
			t.Fatalf("client request %d: %v", i+1, err)
		}
	}
	if err := create(approval.ActionClientRequest); !errors.Is(err, approval.ErrTooManyPending) {
		t.Errorf("fourth client request = %v, want ErrTooManyPending", err)
	}
	if err := create(approval.ActionPortalLogin); err != nil {
		t.Errorf("a login request is counted apart from client requests: %v", err)
	}
}

func TestApprovedLoginsDoNotCount(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{MaxPendingLogins: 1})
	ctx := t.Context()
	phone := f.bind(t)
	for i := range 3 {
		a, err := f.svc.Create(ctx, f.person.ID, approval.ActionPortalLogin, "Anmeldung im Versichertenportal", []byte(`{}`), "", "", session.LevelSubstantial)
		if err != nil {
			t.Fatalf("login %d: %v", i+1, err)
		}
		if _, err := f.svc.Approve(ctx, a.ID, store.DeviceID(phone.ID), f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", a.Number, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLevelTooLow(t *testing.T) {
	policy := approval.DefaultPolicy()
	policy[approval.ActionAddressChange] = approval.Rule{Level: "high", Device: true}
	backends(t, approval.Config{Policy: policy}, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		letterPhone, eidPhone := f.bind(t), f.bindHigh(t)
		a := f.createAddressChange(t)
		if a.Level != "high" {
			t.Fatalf("required level %q, want high", a.Level)
		}
		if _, err := f.svc.Approve(ctx, a.ID, store.DeviceID(letterPhone.ID), f.approveProof(t, letterPhone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); !errors.Is(err, approval.ErrLevelTooLow) {
			t.Errorf("substantial device = %v, want ErrLevelTooLow", err)
		}
		got, err := f.svc.Approve(ctx, a.ID, store.DeviceID(eidPhone.ID), f.approveProof(t, eidPhone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, "")
		if err != nil || got.Status != store.ApprovalApproved {
			t.Errorf("high device = %+v, %v", got, err)
		}
	})
}

func TestForeignDeviceCannotAnswer(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	phone := f.bind(t)
	a := f.createAddressChange(t)
	// The device of another person: re-home the binding in the database.
	other := store.Person{KVNR: "A123456780", FamilyName: "Schmidt", GivenNames: "Anna", BirthDate: "1980", Street: "Weg",
		PostalCode: "10115", City: "Berlin", Relation: store.RelationMember, Digest: []byte("e"), UpdatedAt: f.clk.now()}
	if _, err := f.st.UpsertPersons(t.Context(), []store.Person{other}); err != nil {
		t.Fatal(err)
	}
	other, _ = f.st.PersonByKVNR(t.Context(), other.KVNR)
	if _, err := testdb.SQL(t, f.st).DB().ExecContext(t.Context(), "UPDATE devices SET person_id = $1 WHERE id = $2", int64(other.ID), phone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(t.Context(), a.ID, store.DeviceID(phone.ID), f.approveProof(t, phone, a.ID, a.Action, a.Text, a.Data, pin), "pin", 0, ""); !errors.Is(err, approval.ErrNotFound) {
		t.Errorf("another person's device = %v, want ErrNotFound", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	if errs := approval.DefaultPolicy().Validate(); len(errs) != 0 {
		t.Errorf("default policy: %v", errs)
	}
	bad := approval.Policy{
		"Address Change":            {Level: "substantial", Device: true},
		approval.ActionBankChange:   {Level: "extreme", Device: true},
		approval.ActionPortalLogin:  {},
		"application.submit":        {Level: "low", Device: true},
		approval.ActionPersonalView: {Level: "substantial"},
	}
	if errs := bad.Validate(); len(errs) != 4 {
		t.Errorf("bad policy: %d problems, want 4: %v", len(errs), errs)
	}
	if errs := (approval.Config{TTL: time.Second, MaxPendingLogins: 99, Policy: bad}).Validate(); len(errs) != 6 {
		t.Errorf("bad config: %d problems, want 6: %v", len(errs), errs)
	}
}

// TestTextAndDataSealedAtRest: the store holds neither the text nor the data in
// clear (a new bank account is personal data), and the service still works.
func TestTextAndDataSealedAtRest(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	f.bind(t)
	a, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionBankChange, "Neue IBAN: DE89 3704 0044 0532 0130 00",
		[]byte(`{"iban":"DE89370400440532013000"}`), "", "test", session.LevelSubstantial)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	var data []byte
	if err := testdb.SQL(t, f.st).DB().QueryRowContext(t.Context(), "SELECT text, data FROM approvals WHERE id = $1", a.ID).Scan(&text, &data); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "DE89") || strings.Contains(string(data), "DE89") {
		t.Errorf("stored in clear: %q %q", text, data)
	}
	got, err := f.svc.Status(t.Context(), a.ID, f.person.ID)
	if err != nil || got.Text != a.Text || string(got.Data) != string(a.Data) {
		t.Errorf("opened = %q %q, %v", got.Text, got.Data, err)
	}
}

// TestEveryActionIsCapped: unapproved requests are capped for every action,
// not only for portal logins: a session cannot push address changes without
// end (each newer one withdraws the older, and withdrawn ones count).
func TestEveryActionIsCapped(t *testing.T) {
	f := newFixture(t, testdb.Open(t), approval.Config{})
	f.bind(t)
	for i := range 3 {
		if _, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionAddressChange, addressText, addressData, "", "api", session.LevelHigh); err != nil {
			t.Fatalf("address change %d: %v", i+1, err)
		}
	}
	if _, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionAddressChange, addressText, addressData, "", "api", session.LevelHigh); !errors.Is(err, approval.ErrTooManyPending) {
		t.Errorf("fourth unapproved address change = %v, want ErrTooManyPending", err)
	}
	if _, err := f.svc.Create(t.Context(), f.person.ID, approval.ActionBankChange, "Neue IBAN", []byte(`{"iban":"DE89370400440532013000"}`), "", "api", session.LevelHigh); err != nil {
		t.Errorf("a bank change is counted apart: %v", err)
	}
}
