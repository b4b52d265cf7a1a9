package phone

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pforte/pforte/appclient"
)

// The health card on the command line: a software card file (a key and
// certificate from a test CA, `pforte egk test-card`) plays the eGK a real
// app reads over NFC after the person typed the card's CAN and PIN.

// activateWithCard binds a new device with the card. The account is named
// by the letter's activation code, or by a password login (--kvnr and
// --password), whose session token the binding then carries.
func activateWithCard(ctx context.Context, env Env, af *appFlags, server, cardFile, letterPDF, codeURL, kvnr, password, pin, name, model string) error {
	if err := required("activate", map[string]string{"server": server, "state": *af.state, "pin": pin}); err != nil {
		return err
	}
	byLetter := letterPDF != "" || codeURL != ""
	if letterPDF != "" && codeURL != "" || byLetter == (kvnr != "" || password != "") {
		return &usageError{msg: "app activate --egk: name the account by the letter (--letter PDF or --code-url URL) or by --kvnr and --password, not both"}
	}
	if !byLetter && (kvnr == "" || password == "") {
		return &usageError{msg: "app activate --egk: --kvnr and --password go together"}
	}
	if err := appclient.CheckServerURL(server); err != nil {
		return &usageError{msg: fmt.Sprintf("app activate: --server: %v", err)}
	}
	if err := appclient.CheckNewPIN(pin); err != nil {
		return &usageError{msg: "app activate: --pin: want 6 digits, not all the same and not a run like 123456"}
	}
	if st, err := readAppState(*af.state); err == nil && st.device.ID != "" {
		return fmt.Errorf("%s already holds bound device %s; unbind it or choose another --state", *af.state, st.device.ID)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	card, err := appclient.ReadSoftwareCardFile(cardFile)
	if err != nil {
		return err
	}
	c := &appclient.Client{BaseURL: strings.TrimRight(server, "/")}
	var token, code string
	if byLetter {
		raw := codeURL
		if letterPDF != "" {
			if raw, err = readLetter(letterPDF); err != nil {
				return err
			}
		}
		if code, err = activationCode(raw); err != nil {
			return err
		}
	} else {
		if password == "-" {
			line, err := bufio.NewReader(env.Stdin).ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				return fmt.Errorf("read password from stdin: %w", err)
			}
			password = strings.TrimRight(line, "\r\n")
		}
		if token, err = c.PasswordLogin(ctx, kvnr, password); err != nil {
			return err
		}
	}
	d, err := appclient.NewDevice(nil)
	if err != nil {
		return err
	}
	id, level, s, err := c.BindWithCard(ctx, d, card, pin, name, model, token, code)
	if err != nil {
		return err
	}
	if err := writeAppState(*af.state, &appState{device: d, SessionToken: s.Token}); err != nil {
		return fmt.Errorf("device %s is bound but its state could not be saved: %w", id, err)
	}
	return af.print(env, map[string]string{"device_id": id, "level": level, "server": d.Server, "origin": "egk"},
		fmt.Sprintf("device %s bound with the health card at level %s", id, level),
		fmt.Sprintf("state saved to %s (logged in); next: pforte app approvals --state %s", *af.state, *af.state))
}

func runAppUnlock(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "unlock", "--state FILE ((--letter PDF | --code-url URL) --kvnr K --password P | --egk CARD.json) --new-pin NNNNNN [--name NAME] [--model M]")
	letterPDF := fs.String("letter", "", "a new letter's PDF whose QR code carries the activation URL")
	codeURL := fs.String("code-url", "", "activation URL from the new letter's QR code (instead of --letter)")
	kvnr := fs.String("kvnr", "", "Krankenversichertennummer (with the letter)")
	password := fs.String("password", "", "the account's password (with the letter); - reads it from the first line of stdin")
	cardFile := fs.String("egk", "", "software health card file of the device's person (instead of the letter)")
	newPIN := fs.String("new-pin", "", "new Freigabe-PIN, 6 digits")
	name := fs.String("name", "pforte app", "device name, signed with the new PIN key")
	model := fs.String("model", "pforte CLI", "device model")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("unlock", map[string]string{"state": *af.state, "new-pin": *newPIN}); err != nil {
		return err
	}
	byLetter := *letterPDF != "" || *codeURL != ""
	if byLetter == (*cardFile != "") {
		return &usageError{msg: "app unlock: give a new letter (--letter PDF or --code-url URL, with --kvnr and --password) or --egk CARD.json"}
	}
	if byLetter {
		if *letterPDF != "" && *codeURL != "" {
			return &usageError{msg: "app unlock: give exactly one of --letter PDF and --code-url URL"}
		}
		if err := required("unlock", map[string]string{"kvnr": *kvnr, "password": *password}); err != nil {
			return err
		}
	}
	if err := appclient.CheckNewPIN(*newPIN); err != nil {
		return &usageError{msg: "app unlock: --new-pin: want 6 digits, not all the same and not a run like 123456"}
	}
	st, c, err := af.load()
	if err != nil {
		return err
	}
	if byLetter {
		if *password == "-" {
			line, err := bufio.NewReader(env.Stdin).ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				return fmt.Errorf("read password from stdin: %w", err)
			}
			*password = strings.TrimRight(line, "\r\n")
		}
		raw := *codeURL
		if *letterPDF != "" {
			if raw, err = readLetter(*letterPDF); err != nil {
				return err
			}
		}
		code, err := activationCode(raw)
		if err != nil {
			return err
		}
		err = c.UnlockWithLetter(ctx, st.device, *kvnr, *password, code, *newPIN, *name, *model)
		if err != nil {
			return err
		}
	} else {
		card, err := appclient.ReadSoftwareCardFile(*cardFile)
		if err != nil {
			return err
		}
		if err := c.UnlockWithCard(ctx, st.device, card, *newPIN, *name, *model); err != nil {
			return err
		}
	}
	return af.print(env, map[string]string{"device_id": st.device.ID, "status": "pin_unlocked"},
		fmt.Sprintf("the Freigabe-PIN of device %s is replaced; log in with the new PIN", st.device.ID))
}
