package appclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Acting for others (docs/api.md, "Family and representation"): the
// persons the session's person may act for, their data, an address change
// that the caller's own phone approves, and their mailbox.

// FamilyMember is a person the caller may act for.
type FamilyMember struct {
	Handle     string // names the person in the caller's own requests only
	GivenNames string
	FamilyName string
	Basis      string    // "parent", "bevollmaechtigt" or "betreuer"
	Actions    []string  // "data.view", "address.change", "mailbox.read", "mailbox.write"
	Until      time.Time // the last moment it holds; zero: no end set
	// Refusal is "representation_turned_15" for a child who acts alone now.
	Refusal string
}

// FamilyAct is something someone did on the caller's behalf.
type FamilyAct struct {
	At       time.Time
	By       string
	Basis    string
	Action   string
	Approval string
}

// Family lists whom the caller may act for, and who acted for the caller.
func (s *SessionClient) Family(ctx context.Context) ([]FamilyMember, []FamilyAct, error) {
	var resp struct {
		Members []struct {
			Handle     *string    `json:"handle"`
			GivenNames *string    `json:"given_names"`
			FamilyName *string    `json:"family_name"`
			Basis      *string    `json:"basis"`
			Actions    []string   `json:"actions"`
			Until      *time.Time `json:"until,omitempty"`
			Refusal    string     `json:"refusal"`
		} `json:"members"`
		Acts []struct {
			At       *time.Time `json:"at"`
			By       *string    `json:"by"`
			Basis    *string    `json:"basis"`
			Action   *string    `json:"action"`
			Approval string     `json:"approval"`
		} `json:"acts_for_you"`
	}
	if err := s.c.call(ctx, http.MethodGet, "/api/v1/family", s.token, nil, http.StatusOK, &resp); err != nil {
		return nil, nil, fmt.Errorf("family: %w", err)
	}
	var members []FamilyMember
	for _, m := range resp.Members {
		fm := FamilyMember{Handle: *m.Handle, GivenNames: *m.GivenNames, FamilyName: *m.FamilyName, Basis: *m.Basis,
			Actions: m.Actions, Refusal: m.Refusal}
		if m.Until != nil {
			fm.Until = *m.Until
		}
		members = append(members, fm)
	}
	var acts []FamilyAct
	for _, a := range resp.Acts {
		acts = append(acts, FamilyAct{At: *a.At, By: *a.By, Basis: *a.Basis, Action: *a.Action, Approval: a.Approval})
	}
	return members, acts, nil
}

// FamilyAddress asks to change the represented person's address; the
// request goes to the caller's phones as an approval (its id returned),
// with a text that names the person.
func (s *SessionClient) FamilyAddress(ctx context.Context, handle, street, houseNumber, postalCode, city string) (id, text string, err error) {
	body := map[string]string{"street": street, "house_number": houseNumber, "postal_code": postalCode, "city": city}
	var resp struct {
		ID   *string `json:"approval_id"`
		Text *string `json:"text"`
	}
	if err := s.c.call(ctx, http.MethodPost, "/api/v1/family/members/"+url.PathEscape(handle)+"/address", s.token, body,
		http.StatusAccepted, &resp); err != nil {
		return "", "", fmt.Errorf("family address: %w", err)
	}
	return *resp.ID, *resp.Text, nil
}

// FamilyMailbox lists the represented person's threads.
func (s *SessionClient) FamilyMailbox(ctx context.Context, handle string) ([]MailThread, error) {
	var resp struct {
		Threads []struct {
			ID           *string    `json:"id"`
			Subject      *string    `json:"subject"`
			Unread       int        `json:"unread"`
			MessageCount int        `json:"message_count"`
			LastAt       *time.Time `json:"last_at"`
		} `json:"threads"`
	}
	if err := s.c.call(ctx, http.MethodGet, "/api/v1/family/members/"+url.PathEscape(handle)+"/mailbox", s.token, nil, http.StatusOK, &resp); err != nil {
		return nil, fmt.Errorf("family mailbox: %w", err)
	}
	var out []MailThread
	for _, t := range resp.Threads {
		out = append(out, MailThread{ID: *t.ID, Subject: *t.Subject, Unread: t.Unread, MessageCount: t.MessageCount, LastAt: *t.LastAt})
	}
	return out, nil
}

// FamilyWrite writes from the represented person's mailbox to the insurer.
func (s *SessionClient) FamilyWrite(ctx context.Context, handle, subject, text string) (string, error) {
	var resp struct {
		ID *string `json:"id"`
	}
	if err := s.c.call(ctx, http.MethodPost, "/api/v1/family/members/"+url.PathEscape(handle)+"/mailbox", s.token,
		map[string]string{"subject": subject, "text": text}, http.StatusCreated, &resp); err != nil {
		return "", fmt.Errorf("family write: %w", err)
	}
	return *resp.ID, nil
}
