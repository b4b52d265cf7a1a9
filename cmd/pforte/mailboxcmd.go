package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/mailboxapi"
)

const mailboxSynopsis = "mailbox send --kvnr KVNR --subject TEXT --body FILE [--attach FILE]… [--reply-by YYYY-MM-DD] [--by NAME] [--database DSN] [--config FILE]"

// runMailbox sends a message from the insurer to a person's mailbox: the
// operators' way until the back office writes through the staff API.
func runMailbox(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "send" {
		return &usageError{msg: "usage: pforte " + mailboxSynopsis}
	}
	fs := newFlagSet(env, "mailbox send", mailboxSynopsis)
	cf := config.NewFlags(fs)
	kvnr := fs.String("kvnr", "", "the insured person's KVNR")
	subject := fs.String("subject", "", "the subject (at most 200 characters)")
	body := fs.String("body", "", "`file` with the text, in the mailbox's Markdown subset (UTF-8); - reads standard input")
	replyBy := fs.String("reply-by", "", "ask for an answer by this day (YYYY-MM-DD, German local date)")
	by := fs.String("by", "", "who sends it (kept with the message as operator:NAME)")
	var attach fileList
	fs.Var(&attach, "attach", "PDF, JPEG or PNG `file` to attach; may be repeated")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *kvnr == "" || *subject == "" || *body == "" || fs.NArg() != 0 {
		return &usageError{msg: "mailbox send: --kvnr, --subject and --body are required"}
	}
	o := mailbox.Outgoing{KVNR: *kvnr, Author: "operator", Subject: *subject}
	if *by != "" {
		o.Author = "operator:" + *by
	}
	if *replyBy != "" {
		d, err := mailboxapi.ParseDay(*replyBy)
		if err != nil {
			return &usageError{msg: "mailbox send: --reply-by: " + err.(*mailbox.InputError).Msg}
		}
		o.ReplyBy = d
	}
	text, err := readInput(env, *body)
	if err != nil {
		return fmt.Errorf("mailbox send: --body: %w", err)
	}
	o.Text = string(text)
	for _, path := range attach {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("mailbox send: --attach: %w", err)
		}
		o.Attachments = append(o.Attachments, mailbox.Upload{Name: filepath.Base(path), Content: b})
	}
	n, done, err := openNode(ctx, env, cf)
	if err != nil {
		return err
	}
	defer done()
	id, err := n.Mailbox.Send(ctx, o)
	var in *mailbox.InputError
	switch {
	case errors.As(err, &in):
		return fmt.Errorf("mailbox send: %s", in.Msg)
	case errors.Is(err, mailbox.ErrUnknownPerson):
		return errors.New("mailbox send: no insured person has this KVNR")
	case err != nil:
		return err
	}
	fmt.Fprintf(env.stdout, "message sent: thread %s\n", id)
	return nil
}

// readInput reads the file at path, or standard input for "-", at most
// 1 MiB.
func readInput(env *environment, path string) ([]byte, error) {
	const limit = 1 << 20
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = readAtMost(env.stdin, limit)
	} else {
		var f *os.File
		f, err = os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err = readAtMost(f, limit)
	}
	return b, err
}

// readAtMost reads r to its end, refusing more than limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("longer than %d bytes", limit)
	}
	return b, nil
}
