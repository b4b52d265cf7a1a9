package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/registry"
)

// OIDCWalkthrough tells how to try the OpenID provider.
func OIDCWalkthrough(w io.Writer, base, secretFile string, csv []byte) {
	kvnr := "X110411675"
	if s := Samples(csv, 1); len(s) > 0 {
		kvnr = s[0].KVNR
	}
	fmt.Fprintf(w, `OpenID provider (docs/oidc.md): %[1]s/oidc/.well-known/openid-configuration
  Sign in to the demo application (a relying party of Pforte): %[1]s/demo-app/
  With a phone bound (see above), "substantiell" asks the phone to confirm the login.
  Ask the phone to approve a payment through CIBA (client %[3]s, secret in %[2]s):
    curl -s -u %[3]s:"$(cat %[2]s)" %[1]s/oidc/bc-authorize -d scope=openid -d login_hint=%[4]s \
      -d binding_message=ZAHLUNG-4711 --data-urlencode 'authorization_details=[{"type":"payment_initiation","amount":"42.00","currency":"EUR","creditor":"Apotheke am Markt"}]'
    go run ./cmd/pforte app approvals --state phone.json      # shows the payment as the phone does
    go run ./cmd/pforte app approve --state phone.json --id APPROVAL_ID --pin 482915
    curl -s -u %[3]s:"$(cat %[2]s)" %[1]s/oidc/oauth/token \
      -d grant_type=urn:openid:params:grant-type:ciba -d auth_req_id=AUTH_REQ_ID

`, base, secretFile, ClientID, kvnr)
}

// Files are where the demo keeps its state, for the walkthrough to name.
type Files struct {
	Database, DataKeys, Persons, Letters, AuditKey, Checkpoints string
}

// Walkthrough tells a newcomer what to try next: the portal, the service
// app, the API, the phone on the command line, the audit trail, and a few
// of the synthetic insured persons of csv (the generated register).
func Walkthrough(w io.Writer, base string, f Files, csv []byte) {
	database, keyFile, csvPath, lettersDir, auditKeyFile, checkpointFile := f.Database, f.DataKeys, f.Persons, f.Letters, f.AuditKey, f.Checkpoints
	samples := Samples(csv, 5)
	kvnr, plz, birth := "X110411675", "10115", "1970-01-01"
	if len(samples) > 0 {
		kvnr, plz, birth = samples[0].KVNR, samples[0].PostalCode, samples[0].BirthDate
	}
	fmt.Fprintf(w, `
Pforte demo is running at %[1]s  (stop with Ctrl-C)

Open the portal in a browser: %[1]s/  (request access by letter or with the
simulated ID card, log in, choose a password, see your data and devices)

Open the service app (the phone) in a browser: %[1]s/app/  (register, activate it
with the letter's QR code: the camera, a photo of the letter PDF or the link
%[1]s/app/activate#CODE; choose the Freigabe-PIN; then confirm the portal's logins
and changes there). Use a separate browser profile to keep portal and phone apart.

Try:
  curl %[1]s/healthz          # the process is alive
  curl %[1]s/readyz           # the database answers
  curl -s %[1]s/metrics | grep pforte_http

Request access as an insured person (a password letter to the address on file):
  curl -s -X POST %[1]s/api/v1/access-requests -H 'Content-Type: application/json' \
    -d '{"kvnr":"%[6]s","postal_code":"%[7]s","birth_date":"%[8]s","method":"letter"}'
  The letter appears as a PDF in %[5]s/ ; its initial password follows "Initialpasswort:"
  (pdftotext %[5]s/L*.pdf - | grep -A1 Initialpasswort). Then log in and choose a password:
  curl -s -X POST %[1]s/api/v1/sessions -H 'Content-Type: application/json' \
    -d '{"kvnr":"%[6]s","password":"INITIAL PASSWORD FROM THE LETTER"}'
  curl -s -X POST %[1]s/api/v1/password -H 'Authorization: Bearer SESSION_TOKEN' \
    -H 'Content-Type: application/json' -d '{"current_password":"…","new_password":"…"}'
  API reference: %[1]s/api/openapi.json and docs/api.md

Bind a phone with the reference app client, which reads the activation link of the
letter's QR code from its PDF (or pass --code-url with the URL in the QR code):
  go run ./cmd/pforte app activate --server %[1]s --state phone.json \
    --letter %[5]s/L….pdf --kvnr %[6]s --password 'YOUR PASSWORD' --pin 482915 --name "Mein Telefon"
  go run ./cmd/pforte app login --state phone.json --pin 482915
Change the address (portal page %[1]s/daten/anschrift after confirming the login on
the "phone", or PUT /api/v1/me/address with the session_token in phone.json: a
password-only session may not ask), then approve it on the "phone" — the approval
carries the change out and a notice letter to the old address appears in %[5]s/:
  go run ./cmd/pforte app approvals --state phone.json
  go run ./cmd/pforte app approve --state phone.json --id APPROVAL_ID --pin 482915

The mailbox (Postfach): every notice above (phone bound, password or address changed)
is there as a message; read it on the portal page %[1]s/postfach after confirming
the login on the "phone" (a password-only login sees only the number of unread
messages). Write to the person as the insurer, with a PDF attached if you like:
  echo 'Guten Tag, bitte senden Sie uns **Ihre Bescheinigung**.' | \
    PFORTE_DATA_KEYS_FILE=%[3]s PFORTE_AUDIT_KEY_FILE=%[9]s go run ./cmd/pforte mailbox send \
    --database %[2]s --kvnr %[6]s --subject 'Ihr Antrag' --body - [--attach FILE.pdf] --reply-by 2099-12-31

In another terminal:
  PFORTE_AUDIT_KEY_FILE=%[9]s go run ./cmd/pforte audit verify --database %[2]s --checkpoints %[10]s
      # checks the keyed hash chain of the audit trail against the published checkpoints
  PFORTE_DATA_KEYS_FILE=%[3]s PFORTE_AUDIT_KEY_FILE=%[9]s go run ./cmd/pforte registry import --database %[2]s %[4]s
      # importing the same file again changes nothing
  go run ./cmd/pforte registry generate --count 5 --seed 7
      # more synthetic persons as CSV (docs/registry-csv.md)

Synthetic insured persons with verified addresses (KVNR, name, postal code, birth date):
`, base, database, keyFile, csvPath, lettersDir, kvnr, plz, birth, auditKeyFile, checkpointFile)
	for _, p := range samples {
		fmt.Fprintf(w, "  %s  %-30s %s  %s\n", p.KVNR, p.Name, p.PostalCode, p.BirthDate)
	}
	fmt.Fprintln(w)
}

// Sample is a synthetic insured person the walkthrough names.
type Sample struct{ KVNR, Name, PostalCode, BirthDate string }

// Samples picks the first n members with a full birth date and an address
// verified recently (so a letter to them is not held for review) from the
// generated CSV.
func Samples(csv []byte, n int) []Sample {
	r, err := registry.NewReader(bytes.NewReader(csv), registry.ReaderOptions{})
	if err != nil {
		return nil
	}
	var out []Sample
	for len(out) < n {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			continue
		}
		if row.Relation != "member" || len(row.BirthDate.String()) != len("2006-01-02") ||
			time.Since(row.AddressVerifiedAt) > 300*24*time.Hour {
			continue
		}
		out = append(out, Sample{row.KVNR, strings.TrimSpace(row.GivenNames + " " + row.FamilyName), row.PostalCode, row.BirthDate.String()})
	}
	return out
}
