package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func testLoginEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := seedPerson(t, s, 1), seedPerson(t, s, 2)
	event := func(p store.PersonID, minute int, outcome string) store.LoginEvent {
		return store.LoginEvent{PersonID: p, At: at(minute), Kind: "browser", Method: "password", Outcome: outcome,
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", DeviceName: "", Place: ""}
	}
	all := []store.LoginEvent{event(a, 1, "failed"), event(a, 2, "ok"), event(b, 3, "ok"), event(a, 4, "locked"),
		{PersonID: a, At: at(5), Kind: "app", Method: "device", Outcome: "ok", UserAgent: "pforte-app", DeviceName: "Pixel 8", Place: "Berlin"}}
	for _, e := range all {
		if err := s.AddLoginEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PersonLoginEvents(ctx, a, at(2), 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.LoginEvent{all[4], all[3], all[1]}, got); diff != "" {
		t.Errorf("PersonLoginEvents since minute 2 (-want +got):\n%s", diff)
	}
	if got, err := s.PersonLoginEvents(ctx, a, at(0), 2); err != nil || len(got) != 2 || !got[0].At.Equal(at(5)) {
		t.Errorf("PersonLoginEvents limit 2 = %+v, %v", got, err)
	}
	if got, err := s.PersonLoginEvents(ctx, b, at(0), 10); err != nil || len(got) != 1 || got[0].PersonID != b {
		t.Errorf("another person's events = %+v, %v", got, err)
	}
	n, err := s.DeleteLoginEventsBefore(ctx, at(3))
	if err != nil || n != 2 {
		t.Errorf("DeleteLoginEventsBefore = %d, %v; want 2", n, err)
	}
	if got, err := s.PersonLoginEvents(ctx, a, time.Time{}, 10); err != nil || len(got) != 2 {
		t.Errorf("after the delete: %d events, %v; want 2", len(got), err)
	}
}
