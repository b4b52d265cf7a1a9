// Package phone plays the phone on the command line (`pforte app`): the
// reference app client (package appclient) driven by subcommands that bind a
// device with a letter or a (software) health card, log in with the
// Freigabe-PIN, list, approve and decline approvals, change the PIN, unlock
// a locked PIN with the card, unbind, read and write the Online-Postfach, and
// act for family members and represented persons, keeping the device's state in a
// file of mode 0600. It is a development and test tool, as the eID
// simulator is: a real phone keeps its device key in hardware.
//
// A letter is read from its PDF through the link its QR code carries
// (letter.ActivationLink), so the tool needs no renderer and no QR decoder.
//
// Exit codes: 0 success, 1 failure, 2 invalid usage, 3 wrong PIN, 4 PIN
// locked, 5 the approval was declined, answered already or has expired.
package phone

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
)

// Env is what the tool may touch of the process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Run runs `pforte app` with args (the subcommand first) and returns the
// exit code, after printing why on Stderr.
func Run(ctx context.Context, env Env, args []string) int {
	err := run(ctx, env, args)
	if err == nil || errors.Is(err, errFlagHelp) {
		return 0
	}
	var ae *appExit
	var ue *usageError
	switch {
	case errors.As(err, &ae):
		fmt.Fprintf(env.Stderr, "pforte app: %v\n", ae.err)
		return ae.code
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "pforte: %v\n", err)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "pforte app: %v\n", err)
		return 1
	}
}

// usageError is a wrong invocation; the tool exits with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errFlagHelp is returned when -h was given; usage has been printed.
var errFlagHelp = errors.New("help requested")

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(env Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: pforte %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and maps flag errors to usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errFlagHelp
		}
		return &usageError{msg: err.Error()}
	}
	return nil
}

// Exit codes of `pforte app` for the person's answers.
const (
	exitWrongPIN  = 3
	exitPINLocked = 4
	exitEnded     = 5 // declined, answered already or expired
)

// appExit ends `pforte app` with a code of its own after saying why.
type appExit struct {
	code int
	err  error
}

func (e *appExit) Error() string { return e.err.Error() }
func (e *appExit) Unwrap() error { return e.err }

type appSubcommand struct {
	name  string
	usage string
	run   func(ctx context.Context, env Env, args []string) error
}

func appSubcommands() []appSubcommand {
	return []appSubcommand{
		{"activate", "bind a new device with a letter", runAppActivate},
		{"login", "log in with the Freigabe-PIN", runAppLogin},
		{"approvals", "list pending approvals", runAppApprovals},
		{"approve", "approve a request", runAppApprove},
		{"decline", "decline a request", runAppDecline},
		{"change-pin", "change the Freigabe-PIN", runAppChangePIN},
		{"unbind", "remove this device's binding", runAppUnbind},
		{"unlock", "replace a locked Freigabe-PIN with a new letter or the health card", runAppUnlock},
		{"mailbox", "list the Online-Postfach", runAppMailbox},
		{"read", "read a thread of the Postfach (marks it read)", runAppRead},
		{"reply", "reply to a thread, with files", runAppReply},
		{"write", "write a new message to the insurer, with files", runAppWrite},
		{"attachment", "save an attachment", runAppAttachment},
		{"family", "list whom you may act for, and who acted for you", runAppFamily},
		{"family-address", "ask to change a represented person's address (approve it with approve)", runAppFamilyAddress},
		{"family-mailbox", "list a represented person's mailbox", runAppFamilyMailbox},
		{"family-write", "write from a represented person's mailbox", runAppFamilyWrite},
	}
}

func run(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 {
		for _, s := range appSubcommands() {
			if s.name == args[0] {
				return mapAppError(s.run(ctx, env, args[1:]))
			}
		}
	}
	var b strings.Builder
	b.WriteString("usage: pforte app <subcommand> [flags]\n\nSubcommands:\n")
	for _, s := range appSubcommands() {
		fmt.Fprintf(&b, "  %-11s %s\n", s.name, s.usage)
	}
	b.WriteString("\nRun 'pforte app <subcommand> -h' for its flags.")
	return &usageError{msg: b.String()}
}

// mapAppError turns the server's answers about the PIN and approvals into
// their exit codes.
func mapAppError(err error) error {
	if err == nil {
		return nil
	}
	var api *appclient.APIError
	msg := err.Error()
	if errors.As(err, &api) && api.Message != "" {
		msg = api.Message
	}
	if n, ok := appclient.IsWrongPIN(err); ok {
		return &appExit{exitWrongPIN, fmt.Errorf("wrong PIN, %d attempt(s) remaining: %s", n, msg)}
	}
	if appclient.IsPINLocked(err) {
		return &appExit{exitPINLocked, fmt.Errorf("the PIN is locked; bind the device again with a new letter or eID: %s", msg)}
	}
	if appclient.IsDeclinedOrExpired(err) {
		return &appExit{exitEnded, fmt.Errorf("the request is no longer pending or has expired: %s", msg)}
	}
	return err
}

// appStateVersion is the version of the state file of `pforte app`.
const appStateVersion = 1

// maxStateBytes bounds the state file read.
const maxStateBytes = 1 << 20

// appState is what `pforte app` keeps between runs: the device (keys,
// secret, KDF parameters, server, device id, in appclient's format) and the
// last app session token, so that listing approvals needs no PIN.
type appState struct {
	Version      int             `json:"version"`
	Device       json.RawMessage `json:"device"`
	SessionToken string          `json:"session_token,omitempty"`

	device *appclient.Device
}

// readAppState reads the state file, refusing one that group or others may
// access: it holds the device key.
func readAppState(path string) (*appState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read state: %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read state: %s has mode %v, which lets others read the device key; run chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if len(b) > maxStateBytes {
		return nil, fmt.Errorf("read state: %s is larger than %d bytes", path, maxStateBytes)
	}
	var st appState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("read state %s: trailing data", path)
	}
	if st.Version != appStateVersion {
		return nil, fmt.Errorf("read state %s: version %d, want %d", path, st.Version, appStateVersion)
	}
	if st.device, err = appclient.LoadState(st.Device); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	return &st, nil
}

// writeAppState writes the state with appclient.WritePrivateFile (mode 0600,
// temporary file and rename).
func writeAppState(path string, st *appState) error {
	dev, err := st.device.MarshalState()
	if err != nil {
		return err
	}
	st.Version, st.Device = appStateVersion, dev
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return appclient.WritePrivateFile(path, append(b, '\n'))
}

// appFlags are the flags every subcommand shares.
type appFlags struct {
	state  *string
	asJSON *bool
}

func newAppFlags(env Env, name, synopsis string) (*appFlags, *flag.FlagSet) {
	fs := newFlagSet(env, "app "+name, "app "+name+" "+synopsis)
	return &appFlags{
		state:  fs.String("state", "", "device state file (mode 0600)"),
		asJSON: fs.Bool("json", false, "print JSON to stdout"),
	}, fs
}

// load reads the state of a bound device and returns it with its client.
func (f *appFlags) load() (*appState, *appclient.Client, error) {
	st, err := readAppState(*f.state)
	if err != nil {
		return nil, nil, err
	}
	if st.device.ID == "" {
		return nil, nil, fmt.Errorf("%s holds no bound device; run 'pforte app activate'", *f.state)
	}
	if err := appclient.CheckServerURL(st.device.Server); err != nil {
		return nil, nil, fmt.Errorf("read state %s: %w", *f.state, err)
	}
	return st, &appclient.Client{BaseURL: st.device.Server, UserAgent: userAgent()}, nil
}

// print writes v as JSON with --json, or the text lines otherwise.
func (f *appFlags) print(env Env, v any, lines ...string) error {
	if *f.asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	for _, l := range lines {
		fmt.Fprintln(env.Stdout, l)
	}
	return nil
}

// required returns a usage error naming the empty flags.
func required(sub string, flags map[string]string) error {
	var missing []string
	for name, v := range flags {
		if v == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return &usageError{msg: fmt.Sprintf("app %s: %s required", sub, strings.Join(missing, ", "))}
}

func checkPINFlag(sub, name, pin string) error {
	if err := appclient.CheckPINFormat(pin); err != nil {
		return &usageError{msg: fmt.Sprintf("app %s: --%s: want exactly 6 digits", sub, name)}
	}
	return nil
}

func runAppActivate(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "activate", "--server URL --state FILE (--letter PDF | --code-url URL) (--kvnr K --password P | --egk CARD.json) --pin NNNNNN [--name NAME] [--model M]")
	server := fs.String("server", "", "base URL of the Pforte server (https; http only on loopback)")
	letterPDF := fs.String("letter", "", "letter PDF whose QR code carries the activation URL")
	codeURL := fs.String("code-url", "", "activation URL from the letter's QR code (instead of --letter)")
	kvnr := fs.String("kvnr", "", "Krankenversichertennummer")
	password := fs.String("password", "", "the account's password; - reads it from the first line of stdin")
	pin := fs.String("pin", "", "new Freigabe-PIN, 6 digits")
	name := fs.String("name", "pforte app", "device name shown in the portal and the notice letter")
	model := fs.String("model", "pforte CLI", "device model")
	cardFile := fs.String("egk", "", "software health card file (a test card): the card signs the pairing instead of the password; "+
		"the account is named by the letter (--letter/--code-url) or by --kvnr and --password")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cardFile != "" {
		return activateWithCard(ctx, env, af, *server, *cardFile, *letterPDF, *codeURL, *kvnr, *password, *pin, *name, *model)
	}
	if err := required("activate", map[string]string{"server": *server, "state": *af.state, "kvnr": *kvnr,
		"password": *password, "pin": *pin}); err != nil {
		return err
	}
	if (*letterPDF == "") == (*codeURL == "") {
		return &usageError{msg: "app activate: give exactly one of --letter PDF and --code-url URL"}
	}
	if err := appclient.CheckServerURL(*server); err != nil {
		return &usageError{msg: fmt.Sprintf("app activate: --server: %v", err)}
	}
	if err := appclient.CheckNewPIN(*pin); errors.Is(err, appclient.ErrTrivialPIN) {
		return &usageError{msg: "app activate: --pin is too easy to guess (all digits the same or a run like 123456); choose another"}
	} else if err != nil {
		return &usageError{msg: "app activate: --pin: want exactly 6 digits"}
	}
	if st, err := readAppState(*af.state); err == nil && st.device.ID != "" {
		return fmt.Errorf("%s already holds bound device %s; unbind it or choose another --state", *af.state, st.device.ID)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if *password == "-" {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	raw := *codeURL
	if *letterPDF != "" {
		var err error
		if raw, err = readLetter(*letterPDF); err != nil {
			return err
		}
	}
	code, err := activationCode(raw)
	if err != nil {
		return err
	}
	d, err := appclient.NewDevice(nil)
	if err != nil {
		return err
	}
	c := &appclient.Client{BaseURL: strings.TrimRight(*server, "/"), UserAgent: userAgent()}
	id, level, err := c.Bind(ctx, d, *kvnr, *password, code, *pin, *name, *model)
	if err != nil {
		return err
	}
	if err := writeAppState(*af.state, &appState{device: d}); err != nil {
		return fmt.Errorf("device %s is bound but its state could not be saved: %w", id, err)
	}
	return af.print(env, map[string]string{"device_id": id, "level": level, "server": d.Server},
		fmt.Sprintf("device %s bound at level %s", id, level),
		fmt.Sprintf("state saved to %s; next: pforte app login --state %s --pin …", *af.state, *af.state))
}

// activationCode returns the code an activation URL carries in its fragment
// (https://portal…/app/activate#CODE), or s itself when it is no URL.
func activationCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		if s == "" {
			return "", errors.New("empty activation code")
		}
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("activation url: %w", err)
	}
	if u.Fragment == "" || !strings.HasSuffix(u.Path, "/app/activate") {
		return "", fmt.Errorf("activation url: want …/app/activate#CODE, got a URL to %s%s", u.Host, u.Path)
	}
	return u.Fragment, nil
}

// maxLetterBytes bounds a letter PDF read.
const maxLetterBytes = 16 << 20

// readLetter returns the activation URL of the letter PDF at path: the link
// its QR code carries.
func readLetter(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("letter: %w", err)
	}
	defer f.Close()
	pdf, err := io.ReadAll(io.LimitReader(f, maxLetterBytes+1))
	if err != nil {
		return "", fmt.Errorf("letter: %w", err)
	}
	if len(pdf) > maxLetterBytes {
		return "", fmt.Errorf("letter: %s is larger than %d bytes", path, maxLetterBytes)
	}
	link, err := letter.ActivationLink(pdf)
	if err != nil {
		return "", fmt.Errorf("letter %s: no activation link found; scan its QR code yourself and pass the URL with --code-url", path)
	}
	return link, nil
}

func runAppLogin(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "login", "--state FILE --pin NNNNNN [--method pin|fpt|face]")
	pin := fs.String("pin", "", "Freigabe-PIN")
	method := fs.String("method", appclient.AMRPIN, "what unlocked the PIN key: pin, fpt or face")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("login", map[string]string{"state": *af.state, "pin": *pin}); err != nil {
		return err
	}
	if err := checkPINFlag("login", "pin", *pin); err != nil {
		return err
	}
	switch *method {
	case appclient.AMRPIN, appclient.AMRFingerprint, appclient.AMRFace:
	default:
		return &usageError{msg: "app login: --method: want pin, fpt or face"}
	}
	st, c, err := af.load()
	if err != nil {
		return err
	}
	s, err := c.Login(ctx, st.device, *pin, *method)
	if err != nil {
		return err
	}
	st.SessionToken = s.Token
	if err := writeAppState(*af.state, st); err != nil {
		return err
	}
	return af.print(env, map[string]any{"level": s.Level, "amr": s.AMR},
		fmt.Sprintf("logged in at level %s (amr %s)", s.Level, strings.Join(s.AMR, " ")))
}

// approvalJSON is an approval as `pforte app` prints it.
type approvalJSON struct {
	ID        string    `json:"approval_id"`
	Action    string    `json:"action"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Choices   []int     `json:"number_choices,omitempty"`
}

// pendingApprovals lists the approvals with the stored app session.
func pendingApprovals(ctx context.Context, af *appFlags, st *appState, c *appclient.Client) ([]appclient.Approval, error) {
	relogin := fmt.Sprintf("run 'pforte app login --state %s --pin …' first", *af.state)
	if st.SessionToken == "" {
		return nil, fmt.Errorf("no app session; %s", relogin)
	}
	list, err := c.Approvals(ctx, st.SessionToken)
	var api *appclient.APIError
	if errors.As(err, &api) && api.Status == http.StatusUnauthorized {
		return nil, fmt.Errorf("the app session has ended; %s", relogin)
	}
	return list, err
}

func runAppApprovals(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "approvals", "--state FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("approvals", map[string]string{"state": *af.state}); err != nil {
		return err
	}
	st, c, err := af.load()
	if err != nil {
		return err
	}
	list, err := pendingApprovals(ctx, af, st, c)
	if err != nil {
		return err
	}
	out := make([]approvalJSON, len(list))
	lines := []string{fmt.Sprintf("%d pending approval(s)", len(list))}
	for i, a := range list {
		out[i] = approvalJSON{ID: a.ID, Action: a.Action, Text: a.Text, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, Choices: a.Choices}
		lines = append(lines, "", fmt.Sprintf("%s  %s  (expires %s)", a.ID, a.Action, a.ExpiresAt.In(lang.Berlin).Format("15:04:05")))
		for _, l := range strings.Split(a.Text, "\n") {
			lines = append(lines, "  "+l)
		}
		if len(a.Choices) > 0 {
			lines = append(lines, fmt.Sprintf("  tap the number the portal shows: %v (--number N)", a.Choices))
		}
	}
	return af.print(env, out, lines...)
}

func runAppApprove(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "approve", "--state FILE --id ID --pin NNNNNN [--number N] [--method pin|fpt|face]")
	id := fs.String("id", "", "approval id from 'pforte app approvals'")
	pin := fs.String("pin", "", "Freigabe-PIN")
	number := fs.Int("number", 0, "the number the portal shows (portal logins)")
	method := fs.String("method", appclient.AMRPIN, "what unlocked the PIN key: pin, fpt or face")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("approve", map[string]string{"state": *af.state, "id": *id, "pin": *pin}); err != nil {
		return err
	}
	if err := checkPINFlag("approve", "pin", *pin); err != nil {
		return err
	}
	st, c, err := af.load()
	if err != nil {
		return err
	}
	a, err := pendingApproval(ctx, af, st, c, *id)
	if err != nil {
		return err
	}
	if a.Action == appclient.ActionPortalLogin && *number == 0 {
		return &usageError{msg: fmt.Sprintf("app approve: this portal login needs --number, the one the portal shows: one of %v", a.Choices)}
	}
	if err := c.Approve(ctx, st.device, *a, *pin, *method, *number); err != nil {
		return err
	}
	return af.print(env, map[string]string{"approval_id": a.ID, "status": "approved"},
		fmt.Sprintf("approved %s: %s", a.ID, a.Text))
}

// pendingApproval finds the pending request id in the app session's list: the
// phone signs what it was shown, never what a caller typed. Not pending exits 5.
func pendingApproval(ctx context.Context, af *appFlags, st *appState, c *appclient.Client, id string) (*appclient.Approval, error) {
	list, err := pendingApprovals(ctx, af, st, c)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, &appExit{exitEnded, fmt.Errorf("approval %s is not pending (answered, expired or unknown)", id)}
}

func runAppDecline(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "decline", "--state FILE --id ID [--not-me]")
	id := fs.String("id", "", "approval id from 'pforte app approvals'")
	notMe := fs.Bool("not-me", false, "the request was not started by me (flags it for staff)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("decline", map[string]string{"state": *af.state, "id": *id}); err != nil {
		return err
	}
	st, c, err := af.load()
	if err != nil {
		return err
	}
	// A decline is signed by the device key alone, over what is declined:
	// the request comes from the pending list like an approval.
	a, err := pendingApproval(ctx, af, st, c, *id)
	if err != nil {
		return err
	}
	if err := c.Decline(ctx, st.device, *a, *notMe); err != nil {
		return err
	}
	return af.print(env, map[string]any{"approval_id": *id, "status": "declined", "not_me": *notMe},
		fmt.Sprintf("declined %s", *id))
}

func runAppChangePIN(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "change-pin", "--state FILE --pin OLD --new-pin NEW")
	pin := fs.String("pin", "", "current Freigabe-PIN")
	newPIN := fs.String("new-pin", "", "new Freigabe-PIN, 6 digits")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("change-pin", map[string]string{"state": *af.state, "pin": *pin, "new-pin": *newPIN}); err != nil {
		return err
	}
	if err := checkPINFlag("change-pin", "pin", *pin); err != nil {
		return err
	}
	if err := appclient.CheckNewPIN(*newPIN); err != nil {
		return &usageError{msg: "app change-pin: --new-pin: want 6 digits, not all the same and not a run like 123456"}
	}
	st, c, err := af.load()
	if err != nil {
		return err
	}
	if err := c.ChangePIN(ctx, st.device, *pin, *newPIN); err != nil {
		return err
	}
	if err := writeAppState(*af.state, st); err != nil {
		return fmt.Errorf("the PIN was changed but the state could not be saved: %w", err)
	}
	return af.print(env, map[string]string{"status": "pin_changed"}, "Freigabe-PIN changed")
}

func runAppUnbind(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "unbind", "--state FILE --pin NNNNNN")
	pin := fs.String("pin", "", "Freigabe-PIN")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("unbind", map[string]string{"state": *af.state, "pin": *pin}); err != nil {
		return err
	}
	if err := checkPINFlag("unbind", "pin", *pin); err != nil {
		return err
	}
	st, c, err := af.load()
	if err != nil {
		return err
	}
	id := st.device.ID
	if err := c.Unbind(ctx, st.device, *pin); err != nil {
		return err
	}
	st.SessionToken = ""
	if err := writeAppState(*af.state, st); err != nil {
		return fmt.Errorf("device %s was unbound but the state could not be saved: %w", id, err)
	}
	return af.print(env, map[string]string{"device_id": id, "status": "unbound"}, fmt.Sprintf("device %s unbound", id))
}

// userAgent names the command-line app and its system to the server, in
// the words browsers use for systems.
func userAgent() string {
	system := map[string]string{"linux": "Linux", "darwin": "Macintosh", "windows": "Windows"}[runtime.GOOS]
	if system == "" {
		system = runtime.GOOS
	}
	return "pforte-app/1 (" + system + ")"
}
