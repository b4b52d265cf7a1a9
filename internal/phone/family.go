package phone

import (
	"context"
	"fmt"
	"strings"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/lang"
)

// Acting for others on the command line, with the session of
// `pforte app login`: whom one may act for (and who acted for one), an
// address change that `pforte app approve` then approves on this device,
// and the represented person's mailbox.

func runAppFamily(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "family", "--state FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("family", map[string]string{"state": *af.state}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	members, acts, err := sc.Family(ctx)
	if err != nil {
		return af.ended(err)
	}
	lines := []string{fmt.Sprintf("%d person(s) you may act for", len(members))}
	for _, m := range members {
		line := fmt.Sprintf("  %s %s (%s)", m.GivenNames, m.FamilyName, m.Basis)
		if m.Refusal != "" {
			line += ": " + m.Refusal
		} else {
			line += ": " + strings.Join(m.Actions, ", ")
		}
		lines = append(lines, line, "    --handle "+m.Handle)
	}
	lines = append(lines, fmt.Sprintf("%d act(s) others did for you", len(acts)))
	for _, a := range acts {
		lines = append(lines, fmt.Sprintf("  %s  %s (%s): %s", a.At.In(lang.Berlin).Format("02.01.2006 15:04"), a.By, a.Basis, a.Action))
	}
	return af.print(env, struct {
		Members []appclient.FamilyMember
		Acts    []appclient.FamilyAct
	}{members, acts}, lines...)
}

func runAppFamilyAddress(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "family-address", "--state FILE --handle H --street S --house-number N --postal-code P --city C")
	handle := fs.String("handle", "", "the person, from 'pforte app family'")
	street := fs.String("street", "", "new street")
	number := fs.String("house-number", "", "new house number")
	postal := fs.String("postal-code", "", "new postal code")
	city := fs.String("city", "", "new city")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("family-address", map[string]string{"state": *af.state, "handle": *handle, "street": *street,
		"house-number": *number, "postal-code": *postal, "city": *city}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	id, text, err := sc.FamilyAddress(ctx, *handle, *street, *number, *postal, *city)
	if err != nil {
		return af.ended(err)
	}
	return af.print(env, map[string]string{"approval_id": id, "text": text},
		"requested; approve it with: pforte app approve --state "+*af.state+" --id "+id+" --pin …", "", text)
}

func runAppFamilyMailbox(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "family-mailbox", "--state FILE --handle H")
	handle := fs.String("handle", "", "the person, from 'pforte app family'")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("family-mailbox", map[string]string{"state": *af.state, "handle": *handle}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	threads, err := sc.FamilyMailbox(ctx, *handle)
	if err != nil {
		return af.ended(err)
	}
	lines := []string{fmt.Sprintf("%d thread(s)", len(threads))}
	for _, t := range threads {
		mark := " "
		if t.Unread > 0 {
			mark = "*"
		}
		lines = append(lines, fmt.Sprintf("%s %s  %s  %s", mark, t.ID, t.LastAt.In(lang.Berlin).Format("02.01.2006 15:04"), t.Subject))
	}
	return af.print(env, threads, lines...)
}

func runAppFamilyWrite(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "family-write", "--state FILE --handle H --subject S --text T")
	handle := fs.String("handle", "", "the person, from 'pforte app family'")
	subject := fs.String("subject", "", "the subject")
	text := fs.String("text", "", "the message")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("family-write", map[string]string{"state": *af.state, "handle": *handle, "subject": *subject, "text": *text}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	id, err := sc.FamilyWrite(ctx, *handle, *subject, *text)
	if err != nil {
		return af.ended(err)
	}
	return af.print(env, map[string]string{"id": id}, "sent: thread "+id)
}
