package family

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// MaxActs bounds the acts on behalf a person's history shows.
const MaxActs = 50

// Act is one act another person did on the subject's behalf, as the
// subject's own history shows it.
type Act struct {
	At     time.Time
	By     string // the representative's name
	Basis  Basis
	Action string
	// Approval is the approval request an address change went through
	// (the representative's phone approved it or not).
	Approval string
}

// Acts returns what others did on the person's behalf, newest first: every
// "family.acted" entry of the audit trail whose subject is the person.
func (s *Service) Acts(ctx context.Context, subject store.PersonID) ([]Act, error) {
	entries, err := s.store.SearchAudit(ctx, store.AuditFilter{Subject: subject.Ref(), Event: "family.acted"}, MaxActs)
	if err != nil {
		return nil, fmt.Errorf("family: acts: %w", err)
	}
	names := map[store.PersonID]string{}
	out := make([]Act, 0, len(entries))
	for _, e := range entries {
		actor, err := store.ParsePersonRef(e.Actor)
		if err != nil || actor == subject {
			continue
		}
		var d struct {
			Action   string `json:"action"`
			Basis    string `json:"basis"`
			Approval string `json:"approval"`
		}
		if err := json.Unmarshal(e.Details, &d); err != nil {
			return nil, fmt.Errorf("family: acts: entry %d: %w", e.Seq, err)
		}
		name, ok := names[actor]
		if !ok {
			p, err := s.store.PersonByID(ctx, actor)
			switch {
			case errors.Is(err, store.ErrNotFound):
				name = ""
			case err != nil:
				return nil, fmt.Errorf("family: acts: %w", err)
			default:
				name = strings.TrimSpace(p.GivenNames + " " + p.FamilyName)
			}
			names[actor] = name
		}
		out = append(out, Act{At: e.Time, By: name, Basis: Basis(d.Basis), Action: d.Action, Approval: d.Approval})
	}
	return out, nil
}
