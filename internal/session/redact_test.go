package session_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/session"
)

// TestTokenNeverPrintsItself guards the token's redaction: no way of printing
// or logging a session.Token shows its value.
func TestTokenNeverPrintsItself(t *testing.T) {
	const value = "q2Xr8vN4ZyWb7Tk1LmPa9Hs3Dc6Fg0Jn5Vx2Bq8Rt4E"
	tok := session.Token(value)
	type wrapper struct {
		Tok session.Token
	}
	printed := map[string]string{
		"String":     tok.String(),
		"LogValue":   tok.LogValue().String(),
		"%v":         fmt.Sprintf("%v", tok),
		"%+v":        fmt.Sprintf("%+v", tok),
		"%#v":        fmt.Sprintf("%#v", tok),
		"%s":         fmt.Sprintf("%s", tok),
		"%q":         fmt.Sprintf("%q", tok),
		"%x":         fmt.Sprintf("%x", tok),
		"%X":         fmt.Sprintf("%X", tok),
		"Sprint":     fmt.Sprint(tok),
		"Sprintln":   fmt.Sprintln(tok),
		"struct %v":  fmt.Sprintf("%v", wrapper{tok}),
		"struct %+v": fmt.Sprintf("%+v", wrapper{tok}),
		"struct %#v": fmt.Sprintf("%#v", wrapper{tok}),
		"pointer %v": fmt.Sprintf("%v", &tok),
		"slice %v":   fmt.Sprintf("%v", []session.Token{tok}),
		"error":      fmt.Errorf("session: end %v: %w", tok, errBoom).Error(),
	}
	// A verb that does not fit a string prints the value in Go's error
	// form (%!d(session.Token=…)); that must not show it either.
	for _, verb := range []string{"%d", "%t", "%v", "%10s", "%-v", "%U"} {
		printed["verb "+verb] = fmt.Sprintf(verb, tok)
	}
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		"text": func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	} {
		var buf bytes.Buffer
		l := slog.New(mk(&buf))
		l.Debug("token", "token", tok)
		l.Info("token", slog.Any("token", tok))
		l.With("token", tok).Warn("with")
		l.WithGroup("g").Error("group", "token", tok, "ptr", &tok)
		l.Info("attrs", slog.Group("sess", slog.Any("token", tok)))
		l.Info("formatted " + fmt.Sprint(tok))
		printed["slog "+name] = buf.String()
	}
	forms := []string{value, base64.StdEncoding.EncodeToString([]byte(value)), hex.EncodeToString([]byte(value)),
		strings.ToUpper(hex.EncodeToString([]byte(value)))}
	for name, out := range printed {
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("%s prints the token: %q", name, out)
			}
		}
		if !strings.Contains(out, "[session token]") {
			t.Errorf("%s = %q, want the redaction mark", name, out)
		}
	}
}

type boom struct{}

func (boom) Error() string { return "boom" }

var errBoom = boom{}
