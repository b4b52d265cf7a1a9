// Command pforte is the one Pforte binary: the identity platform's server, its
// demo, and the operator's tools (migrations, registry import, audit check).
//
// Configuration is parsed and the object graph is built by hand here and nowhere
// else. Exit codes: 0 success, 1 failure, 2 invalid usage or configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pforte/pforte/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand.
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, env *environment, args []string) error
}

// environment is what a command may touch of the process.
type environment struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
	// isTerminal reports whether stderr is a terminal (for progress lines).
	isTerminal bool
	// process is set when the environment is the whole process (not a
	// test): a server then also makes its logger the default one, through
	// which libraries (the OpenID provider) log.
	process bool
}

// useLogger makes logger the process's default logger, when env is the
// process.
func (env *environment) useLogger(logger *slog.Logger) {
	if env.process {
		slog.SetDefault(logger)
	}
}

// usageError is a wrong invocation; the command exits with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"demo", "run a local demo on SQLite with synthetic insured persons", runDemo},
		{"migrate", "bring the database schema to the latest version", runMigrate},
		{"registry", "insured master data: generate | import", runRegistry},
		{"letters", "letters: export a print batch | record a returned letter", runLetters},
		{"audit", "audit trail: verify", runAudit},
		{"staff", "back-office staff accounts: add | disable | reset | list", runStaff},
		{"app", "the reference phone app: activate | login | approvals | approve | decline | change-pin | unbind | unlock", runApp},
		{"egk", "test health cards: test-ca | test-card (tests and the demo only)", runEGK},
		{"mailbox", "the mailbox: send a message to an insured person", runMailbox},
		{"assistant", "the FAQ assistant: ask a question | check the knowledge base", runAssistant},
		{"load", "load measurement: setup | hash | login (loopback only)", runLoad},
		{"loadtest", "mixed load at a fixed rate: setup | run (loopback, or one named staging host)", runLoadtest},
		{"keygen", "print a new data key for data_keys (--subject: a key for oidc.subject_key)", runKeygen},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &environment{
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		environ:    os.Environ(),
		isTerminal: isTerminal(os.Stderr),
		process:    true,
	}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		return exitCode(env, err)
	}
	fmt.Fprintf(env.stderr, "pforte: unknown command %q\n\n", args[0])
	printUsage(env.stderr)
	return 2
}

func exitCode(env *environment, err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *config.Error
	var ue *usageError
	switch {
	case errors.Is(err, errFlagHelp):
		return 0
	case errors.As(err, &ce):
		fmt.Fprintf(env.stderr, "pforte: %v\n", err)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "pforte: %v\n", err)
		return 2
	case errors.Is(err, errSilentFailure):
		return 1
	default:
		fmt.Fprintf(env.stderr, "pforte: %v\n", err)
		return 1
	}
}

// errSilentFailure ends a command with exit code 1 after it has said why.
var errSilentFailure = errors.New("failed")

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: pforte <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'pforte <command> -h' for the flags of a command.")
}
