package backoffice

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/staff"
)

// Corporate configures the sign-in through the insurer's corporate OpenID
// provider: the authorization code flow with PKCE (S256), state and nonce;
// the ID token's groups give the role.
type Corporate struct {
	// Issuer is the provider's issuer URL (its discovery document is read
	// at the first sign-in).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is where the provider sends the browser back:
	// …/backoffice/anmelden/firma/rueckkehr.
	RedirectURL string
	// GroupsClaim names the ID token's claim with the groups (default
	// "groups").
	GroupsClaim string
	// Roles maps a group to the role it gives. Groups that map to more
	// than one role are refused, as are none.
	Roles map[string]staff.Role
	// AllowedSubjects, if not empty, are the only subjects admitted.
	AllowedSubjects []string
}

// corporateFlowTTL bounds a sign-in at the provider.
const corporateFlowTTL = 10 * time.Minute

// errCorporateOff: no corporate provider configured.
var errCorporateOff = errors.New("backoffice: no corporate provider")

// corporate runs the flow; its provider is discovered once.
type corporate struct {
	cfg      Corporate
	mu       sync.Mutex
	provider *gooidc.Provider
}

func (c *corporate) discover(ctx context.Context) (*gooidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := gooidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	c.provider = p
	return p, nil
}

func (c *corporate) oauth(p *gooidc.Provider) oauth2.Config {
	return oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: c.cfg.RedirectURL, Scopes: []string{gooidc.ScopeOpenID, "profile"}}
}

// flowCookieName is the cookie holding a sign-in's state, nonce and PKCE
// verifier between the redirect and the return; SameSite=Lax, because the
// provider sends the browser back from another site.
func (b *base) flowCookieName() string {
	if b.cfg.InsecureCookies {
		return "pforte_staff_oidc"
	}
	return "__Host-pforte_staff_oidc"
}

func random() string {
	var r [32]byte
	_, _ = rand.Read(r[:])
	return base64.RawURLEncoding.EncodeToString(r[:])
}

// corporateStart sends the browser to the provider.
func (b *loginPages) corporateStart(rw http.ResponseWriter, r *http.Request) error {
	if b.corp == nil {
		return errCorporateOff
	}
	p, err := b.corp.discover(r.Context())
	if err != nil {
		b.logger.Warn("backoffice: corporate provider unreachable", slog.Any("error", err))
		return b.corporateRefused(rw, http.StatusBadGateway, "Der Anmeldedienst der Krankenkasse antwortet gerade nicht. "+
			"Versuchen Sie es später erneut, oder melden Sie sich mit Kennung und Passwort an.")
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	http.SetCookie(rw, &http.Cookie{Name: b.flowCookieName(), Value: state + "." + nonce + "." + verifier, Path: "/",
		MaxAge: int(corporateFlowTTL.Seconds()), Secure: !b.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	conf := b.corp.oauth(p)
	return redirect(rw, r, conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// corporateReturn finishes the sign-in: state, issuer, code with PKCE, ID
// token with nonce, groups; any failure leaves no session.
func (b *loginPages) corporateReturn(rw http.ResponseWriter, r *http.Request) error {
	if b.corp == nil {
		return errCorporateOff
	}
	c, err := r.Cookie(b.flowCookieName())
	http.SetCookie(rw, &http.Cookie{Name: b.flowCookieName(), Value: "", Path: "/", MaxAge: -1, Secure: !b.cfg.InsecureCookies,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	const expired = "Die Anmeldung über das Firmenkonto ist abgelaufen oder wurde nicht hier begonnen. Bitte beginnen Sie sie neu."
	if err != nil {
		return b.corporateRefused(rw, http.StatusBadRequest, expired)
	}
	parts := strings.Split(c.Value, ".")
	q := r.URL.Query()
	if len(parts) != 3 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		return b.corporateRefused(rw, http.StatusBadRequest, expired)
	}
	if q.Get("error") != "" {
		return b.corporateRefused(rw, http.StatusForbidden, "Die Anmeldung beim Firmenkonto wurde abgebrochen oder abgelehnt.")
	}
	if iss := q.Get("iss"); iss != "" && iss != b.corp.cfg.Issuer {
		b.logger.Warn("backoffice: corporate return from another issuer", slog.String("iss", iss))
		return b.corporateRefused(rw, http.StatusBadRequest, "Die Antwort kam nicht vom Anmeldedienst der Krankenkasse.")
	}
	p, err := b.corp.discover(r.Context())
	if err != nil {
		return b.corporateRefused(rw, http.StatusBadGateway, "Der Anmeldedienst der Krankenkasse antwortet gerade nicht. "+
			"Versuchen Sie es später erneut, oder melden Sie sich mit Kennung und Passwort an.")
	}
	claims, err := b.corporateToken(r.Context(), p, q.Get("code"), parts[1], parts[2])
	if err != nil {
		b.logger.Warn("backoffice: corporate sign-in refused", slog.Any("error", err))
		return b.corporateRefused(rw, http.StatusForbidden, "Die Anmeldung über das Firmenkonto ließ sich nicht prüfen.")
	}
	if len(b.corp.cfg.AllowedSubjects) > 0 && !slices.Contains(b.corp.cfg.AllowedSubjects, claims.sub) {
		return b.corporateRefused(rw, http.StatusForbidden, "Ihr Firmenkonto ist für das Backoffice nicht freigeschaltet. "+
			"Wenden Sie sich an Ihre Teamleitung.")
	}
	role, ok := b.corp.role(claims.groups)
	if !ok {
		return b.corporateRefused(rw, http.StatusForbidden, "Ihr Firmenkonto ist keiner Rolle im Backoffice eindeutig zugeordnet "+
			"(Gruppen für Sachbearbeitung, Teamleitung oder Prüfung). Wenden Sie sich an Ihre Teamleitung.")
	}
	tok, _, err := b.svc.Staff.Corporate(r.Context(), b.corp.cfg.Issuer, claims.sub, claims.name, role, server.ClientIP(r), r.UserAgent())
	if errors.Is(err, staff.ErrDisabled) {
		return b.corporateRefused(rw, http.StatusForbidden, "Ihr Zugang zum Backoffice ist gesperrt. Wenden Sie sich an Ihre Teamleitung.")
	}
	if errors.Is(err, staff.ErrInvalid) {
		// What the provider sent does not fit a staff account (a subject
		// too long, say): refused, not a failure of ours.
		b.logger.Warn("backoffice: corporate sign-in refused", slog.Any("error", err))
		return b.corporateRefused(rw, http.StatusForbidden, "Die Angaben Ihres Firmenkontos passen nicht zu einem Zugang im Backoffice. "+
			"Wenden Sie sich an Ihre Teamleitung, oder melden Sie sich mit Kennung und Passwort an.")
	}
	if err != nil {
		return err
	}
	b.setCookie(rw, string(tok), 0)
	return redirect(rw, r, "/backoffice/")
}

// corporateClaims are what the sign-in takes from the ID token.
type corporateClaims struct {
	sub, name string
	groups    []string
}

// corporateToken redeems code with the PKCE verifier and verifies the ID
// token: signature, issuer, audience, expiry (go-oidc) and nonce.
func (b *loginPages) corporateToken(ctx context.Context, p *gooidc.Provider, code, nonce, verifier string) (corporateClaims, error) {
	if code == "" {
		return corporateClaims{}, errors.New("no code")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conf := b.corp.oauth(p)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return corporateClaims{}, fmt.Errorf("exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return corporateClaims{}, errors.New("no id token")
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: b.corp.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return corporateClaims{}, fmt.Errorf("id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return corporateClaims{}, errors.New("id token: wrong nonce")
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return corporateClaims{}, fmt.Errorf("id token: %w", err)
	}
	out := corporateClaims{sub: idt.Subject}
	if n, ok := all["name"].(string); ok {
		out.name = n
	} else {
		g, _ := all["given_name"].(string)
		f, _ := all["family_name"].(string)
		out.name = strings.TrimSpace(g + " " + f)
	}
	switch g := all[b.corp.cfg.GroupsClaim].(type) {
	case string:
		out.groups = []string{g}
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				out.groups = append(out.groups, s)
			}
		}
	}
	return out, nil
}

// role is the one role groups map to; ok false for none or several.
func (c *corporate) role(groups []string) (staff.Role, bool) {
	var found staff.Role
	for _, g := range groups {
		r, ok := c.cfg.Roles[g]
		if !ok {
			continue
		}
		if found != "" && found != r {
			return "", false
		}
		found = r
	}
	return found, found != ""
}

// corporateRefused is the page of a refused corporate sign-in, naming the
// ways back.
func (b *loginPages) corporateRefused(rw http.ResponseWriter, status int, line string) error {
	return b.render(rw, status, "message", view{Title: "Anmeldung nicht möglich", Message: &message{Heading: "Anmeldung nicht möglich",
		Lines: []string{line, "Es wurde keine Sitzung begonnen."},
		Links: []link{{"/backoffice/anmelden/firma", "Erneut mit dem Firmenkonto anmelden"}, {"/backoffice/anmelden", "Zur Anmeldung mit Kennung und Passwort"}},
		Alert: true}})
}
