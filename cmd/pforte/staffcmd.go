package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/staff"
)

const staffSynopsis = "staff add LOGIN --name NAME --role clerk|supervisor|auditor | staff disable LOGIN | staff reset LOGIN | staff list"

// runStaff manages the back office's staff accounts: add one (printing its
// first password and the TOTP secret for the authenticator app), disable
// one, reset one (new password and secret), list them.
func runStaff(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "disable" && args[0] != "reset" && args[0] != "list") {
		return &usageError{msg: "usage: pforte " + staffSynopsis}
	}
	action := args[0]
	fs := newFlagSet(env, "staff "+action, staffSynopsis)
	cf := config.NewFlags(fs)
	name := fs.String("name", "", "the staff member's name as the back office shows it (add)")
	role := fs.String("role", "", "clerk, supervisor or auditor (add)")
	// The login may come before the flags or after them.
	rest, login := args[1:], ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		login, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if login == "" && fs.NArg() > 0 {
		login = fs.Arg(0)
		rest = fs.Args()[1:]
	} else {
		rest = fs.Args()
	}
	switch {
	case len(rest) > 0:
		return &usageError{msg: "staff " + action + ": unexpected arguments " + strings.Join(rest, " ")}
	case action == "list" && login != "":
		return &usageError{msg: "staff list takes no login"}
	case action != "list" && login == "":
		return &usageError{msg: "staff " + action + ": name the login"}
	case action == "add" && (strings.TrimSpace(*name) == "" || !staff.Role(*role).Valid()):
		return &usageError{msg: "staff add: --name and --role (clerk, supervisor or auditor) are required"}
	case action != "add" && (*name != "" || *role != ""):
		return &usageError{msg: "staff " + action + ": --name and --role belong to add"}
	}
	a, done, err := openNode(ctx, env, cf)
	if err != nil {
		return err
	}
	defer done()
	var cr staff.Credentials
	switch action {
	case "add":
		cr, err = a.Staff.Add(ctx, login, *name, staff.Role(*role))
	case "reset":
		cr, err = a.Staff.Reset(ctx, login)
	case "disable":
		if err = a.Staff.Disable(ctx, login); err == nil {
			fmt.Fprintf(env.stdout, "staff member %s disabled; their sessions have ended\n", login)
			return nil
		}
	case "list":
		list, err := a.Staff.List(ctx)
		if err != nil {
			return err
		}
		for _, m := range list {
			state := "active"
			if !m.DisabledAt.IsZero() {
				state = "disabled " + lang.Short(m.DisabledAt)
			}
			fmt.Fprintf(env.stdout, "%-24s %-10s %s (%s)\n", m.Login, m.Role, m.Name, state)
		}
		return nil
	}
	switch {
	case errors.Is(err, staff.ErrInvalid):
		return &usageError{msg: "staff add: the login takes 2–64 of a-z, 0-9, '.', '-', '_'; the name at most 100 characters"}
	case errors.Is(err, staff.ErrExists):
		return fmt.Errorf("staff add: the login %s exists", login)
	case errors.Is(err, staff.ErrCorporate):
		return fmt.Errorf("staff %s: %s signs in through the corporate OpenID provider; there is no password or code to reset", action, login)
	case errors.Is(err, staff.ErrUnknown):
		return fmt.Errorf("staff %s: no staff member %s", action, login)
	case err != nil:
		return err
	}
	fmt.Fprintf(env.stdout, "login:       %s\npassword:    %s\ntotp secret: %s\ntotp uri:    %s\n"+
		"Give these to the staff member in person; they are shown only now. The authenticator app takes the secret "+
		"(or the URI as a QR code); the back office asks for its six-digit code at every login.\n",
		cr.Login, string(cr.Password), cr.Secret.Base32(), cr.URI)
	if action == "reset" {
		fmt.Fprintln(env.stdout, "Every security key of the staff member was removed; they set up new ones after the login.")
	}
	return nil
}
