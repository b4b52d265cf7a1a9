package phone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/lang"
)

// The Online-Postfach on the command line, with the app session of
// `pforte app login`: list, read (which marks read), reply, write, and save
// an attachment.

// maxSendBytes bounds a file read for sending (the server's default limit
// per file is 5 MB; it says so when a file is larger).
const maxSendBytes = 16 << 20

// files is a repeatable --attach flag.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

// readFiles reads the files to attach; the server checks names, types and sizes.
func readFiles(paths []string) ([]appclient.MailFile, error) {
	var out []appclient.MailFile
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("attach: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Size() > maxSendBytes {
			return nil, fmt.Errorf("attach %s: not a regular file of at most %d bytes", p, maxSendBytes)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("attach: %w", err)
		}
		out = append(out, appclient.MailFile{Name: filepath.Base(p), Content: b})
	}
	return out, nil
}

// sessionClient reads the state and returns the calls of its app session,
// or says how to get one.
func (f *appFlags) sessionClient() (*appclient.SessionClient, error) {
	st, c, err := f.load()
	if err != nil {
		return nil, err
	}
	if st.SessionToken == "" {
		return nil, fmt.Errorf("no app session; run 'pforte app login --state %s --pin …' first", *f.state)
	}
	return c.WithSession(st.SessionToken), nil
}

// ended turns an ended session into the way back.
func (f *appFlags) ended(err error) error {
	var api *appclient.APIError
	if errors.As(err, &api) && api.Status == http.StatusUnauthorized {
		return fmt.Errorf("the app session has ended; run 'pforte app login --state %s --pin …' first", *f.state)
	}
	return err
}

func runAppMailbox(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "mailbox", "--state FILE [--archived]")
	archived := fs.Bool("archived", false, "list the archive")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("mailbox", map[string]string{"state": *af.state}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	mb, err := sc.Mailbox(ctx, *archived)
	if err != nil {
		return af.ended(err)
	}
	lines := []string{fmt.Sprintf("%d unread message(s), %d thread(s)", mb.Unread, len(mb.Threads))}
	for _, t := range mb.Threads {
		mark := " "
		if t.Unread > 0 {
			mark = "*"
		}
		lines = append(lines, fmt.Sprintf("%s %s  %s  %s", mark, t.ID, t.LastAt.In(lang.Berlin).Format("02.01.2006 15:04"), t.Subject))
	}
	return af.print(env, mb, lines...)
}

func runAppRead(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "read", "--state FILE --id THREAD")
	id := fs.String("id", "", "thread id from 'pforte app mailbox'")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("read", map[string]string{"state": *af.state, "id": *id}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	t, msgs, canReply, err := sc.Thread(ctx, *id)
	if err != nil {
		return af.ended(err)
	}
	lines := []string{t.Subject}
	for _, m := range msgs {
		from := "insurer"
		if m.FromPerson {
			from = "you"
		}
		lines = append(lines, "", fmt.Sprintf("-- %s, %s", from, m.At.In(lang.Berlin).Format("02.01.2006 15:04")), m.Text)
		for _, a := range m.Attachments {
			lines = append(lines, fmt.Sprintf("   attachment %s: %s (%s, %d bytes)", a.ID, a.Name, a.Type, a.Size))
		}
	}
	if !canReply {
		lines = append(lines, "", "(a notice: it takes no reply)")
	}
	return af.print(env, struct {
		Thread   appclient.MailThread
		Messages []appclient.MailMessage
		CanReply bool
	}{t, msgs, canReply}, lines...)
}

func runAppReply(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "reply", "--state FILE --id THREAD --text TEXT [--attach FILE]…")
	id := fs.String("id", "", "thread id")
	text := fs.String("text", "", "the reply")
	var attach files
	fs.Var(&attach, "attach", "a PDF, JPEG or PNG file to attach (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("reply", map[string]string{"state": *af.state, "id": *id, "text": *text}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	up, err := readFiles(attach)
	if err != nil {
		return err
	}
	msg, err := sc.Reply(ctx, *id, *text, up)
	if err != nil {
		return af.ended(err)
	}
	return af.print(env, map[string]string{"id": msg}, "sent: "+msg)
}

func runAppWrite(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "write", "--state FILE --subject SUBJECT --text TEXT [--attach FILE]…")
	subject := fs.String("subject", "", "the subject")
	text := fs.String("text", "", "the message")
	var attach files
	fs.Var(&attach, "attach", "a PDF, JPEG or PNG file to attach (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("write", map[string]string{"state": *af.state, "subject": *subject, "text": *text}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	up, err := readFiles(attach)
	if err != nil {
		return err
	}
	id, err := sc.Write(ctx, *subject, *text, up)
	if err != nil {
		return af.ended(err)
	}
	return af.print(env, map[string]string{"id": id}, "sent: thread "+id)
}

func runAppAttachment(ctx context.Context, env Env, args []string) error {
	af, fs := newAppFlags(env, "attachment", "--state FILE --id ATTACHMENT --out FILE")
	id := fs.String("id", "", "attachment id from 'pforte app read'")
	out := fs.String("out", "", "file to write (must not exist)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("attachment", map[string]string{"state": *af.state, "id": *id, "out": *out}); err != nil {
		return err
	}
	sc, err := af.sessionClient()
	if err != nil {
		return err
	}
	f, err := sc.Attachment(ctx, *id)
	if err != nil {
		return af.ended(err)
	}
	w, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("attachment: %w", err)
	}
	if _, err := w.Write(f.Content); err != nil {
		w.Close()
		return fmt.Errorf("attachment: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("attachment: %w", err)
	}
	return af.print(env, map[string]any{"name": f.Name, "bytes": len(f.Content), "out": *out},
		fmt.Sprintf("saved %s (%d bytes) to %s", f.Name, len(f.Content), *out))
}
