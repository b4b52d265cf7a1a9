package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/assistantapi"
	"github.com/pforte/pforte/internal/config"
)

// runAssistant is `pforte assistant ask|check`.
func runAssistant(ctx context.Context, env *environment, args []string) error {
	const synopsis = "assistant ask [--json] [--level LEVEL] [--kb DIR] [--config FILE] QUESTION… | assistant check [--kb DIR] [--config FILE]"
	if len(args) == 0 || args[0] != "ask" && args[0] != "check" {
		return &usageError{msg: "usage: pforte " + synopsis}
	}
	sub := args[0]
	flags := newFlagSet(env, "assistant "+sub, synopsis)
	cf := config.NewFlags(flags)
	asJSON := flags.Bool("json", false, "print the answer as the API does (JSON)")
	level := flags.String("level", "", "ask as a session at this `level` (low, substantial, high): at substantial a hand-over offers the mailbox")
	kbDir := flags.String("kb", "", "read the knowledge base from this `directory` instead of the one built in (to try edits)")
	words, err := parseInterspersed(flags, args[1:])
	if err != nil {
		return err
	}
	switch *level {
	case "", "low", "substantial", "high":
	default:
		return &usageError{msg: fmt.Sprintf("--level %q: want low, substantial or high", *level)}
	}
	cfg, err := cf.Load(env.environ, config.Needs{})
	if err != nil {
		return err
	}
	kb := assistant.KnowledgeBase()
	if *kbDir != "" {
		if st, err := os.Stat(*kbDir); err != nil || !st.IsDir() {
			return &usageError{msg: fmt.Sprintf("--kb %s: not a directory", *kbDir)}
		}
		kb = os.DirFS(*kbDir)
	}
	start := time.Now()
	a, err := assistant.New(cfg.AssistantConfig(), kb, assistant.KeepNothing{}, time.Now)
	if err != nil {
		return knowledgeBaseError(err, *kbDir)
	}
	if sub == "check" {
		if len(words) > 0 {
			return &usageError{msg: "usage: pforte " + synopsis}
		}
		fmt.Fprintf(env.stdout, "knowledge base valid: %d entries, index built in %v\n", len(a.Entries()), time.Since(start).Round(time.Millisecond))
		return nil
	}
	question := strings.Join(words, " ")
	if strings.TrimSpace(question) == "" {
		return &usageError{msg: "usage: pforte " + synopsis}
	}
	ans, err := a.Ask(ctx, assistant.Question{Text: question, Level: *level})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(assistantapi.NewResponse(ans))
	}
	printAnswer(env, ans)
	return nil
}

// knowledgeBaseError lists a broken knowledge base's problems one per line,
// each with its file (in dir, when one was given) and line.
func knowledgeBaseError(err error, dir string) error {
	var le *assistant.LoadError
	if !errors.As(err, &le) {
		return &config.Error{Problems: []string{err.Error()}}
	}
	problems := make([]string, len(le.Problems))
	for i, p := range le.Problems {
		if dir != "" {
			p = strings.TrimRight(dir, "/") + "/" + p
		} else {
			p = "internal/assistant/kb/" + p
		}
		problems[i] = "knowledge base: " + p
	}
	return &config.Error{Problems: problems}
}

// printAnswer writes an answer for people.
func printAnswer(env *environment, a assistant.Answer) {
	w := env.stdout
	if a.Notice != "" {
		fmt.Fprintf(w, "Hinweis: %s\n\n", a.Notice)
	}
	switch {
	case a.Handover != nil:
		fmt.Fprintf(w, "Übergabe an das Service-Team (%s, %s", a.Handover.Reason, a.Handover.Channel)
		if a.Handover.EntryTried != "" {
			fmt.Fprintf(w, ", am nächsten: %s", a.Handover.EntryTried)
		}
		fmt.Fprintf(w, ", Sicherheit %.0f %%):\n%s\n", 100*a.Confidence, a.Text)
		if a.Handover.Reason == assistant.ReasonUnsure {
			for _, c := range a.Candidates {
				fmt.Fprintf(w, "  Vorschlag: %s (%s, %.0f %%)\n", c.Title, c.Entry, 100*c.Confidence)
			}
		}
	case a.Outcome == assistant.OutcomeAnswer:
		fmt.Fprintf(w, "Antwort (%s, Sicherheit %.0f %%):\n%s\n", a.Entry, 100*a.Confidence, a.Text)
		fmt.Fprintf(w, "Seite: %s (%s)\n", a.Link.Label, a.Link.Href)
	default:
		fmt.Fprintf(w, "%s\n", a.Text)
	}
	fmt.Fprintf(w, "\n%s\n", a.Disclaimer)
}

// parseInterspersed parses flags anywhere among the arguments ("ask
// 'Frage' --json" as well as "ask --json 'Frage'") and returns the others
// in order; everything after "--" is an argument.
func parseInterspersed(flags *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var rest []string
	for {
		if err := parseFlags(flags, args); err != nil {
			return nil, err
		}
		args = flags.Args()
		if len(args) == 0 {
			return append(rest, tail...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
