package serviceapp_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/email/smtptest"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/session"
)

// TestServiceAppMailbox: staff write to a person; the logged-in app says so
// live on its home screen (the count, never the subject) and a mail to the
// person's confirmed address says that a message waits (through a real SMTP
// server on loopback, never what it says); the person opens
// the message (the insurer's formatting kept, its script not), replies with
// a picture, and the staff side reads the reply and gets the same bytes. A
// file whose bytes are not what its name says is refused at the form and
// nothing reaches staff.
func TestServiceAppMailbox(t *testing.T) {
	needTool(t, "pdftoppm")
	needTool(t, "pdftotext")
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 6 * time.Minute, Flags: []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-device-for-media-stream", true)}})
	relay := smtptest.Start(t, smtptest.Options{})
	n := startAppNode(t, func(c *node.Config) {
		c.Mail = &email.SenderConfig{Relay: relay.Addr, From: "postfach@example.de", PortalURL: c.PublicURL, Timeout: 5 * time.Second}
		c.MailInterval = 100 * time.Millisecond
	})
	s := svc{t, ctx, n}
	p := n.others[0]
	watchConsole(t, ctx)
	s.activateWithPhoto(p)
	s.login(svcPIN)

	// The person gave an e-mail address and confirmed it.
	if err := n.Email.Add(t.Context(), p.ID, "versicherte@beispiel-mail.de", session.LevelSubstantial); err != nil {
		t.Fatal(err)
	}
	confirm := relay.Wait(1, 20*time.Second)[0]
	link := regexp.MustCompile(`/email/bestaetigen\?t=([A-Za-z0-9_-]+)`).FindStringSubmatch(mailText(t, confirm))
	if link == nil {
		t.Fatalf("no link in the confirmation mail:\n%s", confirm.Data)
	}
	if _, err := n.Email.Confirm(t.Context(), link[1]); err != nil {
		t.Fatal(err)
	}

	// The binding's notice is in the mailbox already.
	before, err := n.Mailbox.Unread(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.wait(fmt.Sprintf("Postfach (%d ungelesen)", before))
	id, err := n.Mailbox.Send(t.Context(), mailbox.Outgoing{KVNR: p.KVNR, Author: "staff:e.muster", Subject: "Ihre Bescheinigung",
		Text: "Guten Tag,\n\nbitte senden Sie uns **die Bescheinigung**. Mehr auf [unserer Seite](https://kasse.example/info).\n\n<script>window.boese = 1</script>"})
	if err != nil {
		t.Fatal(err)
	}
	unread := fmt.Sprintf("Postfach (%d ungelesen)", before+1)
	home := s.wait(unread)
	if strings.Contains(home, "Ihre Bescheinigung") {
		t.Errorf("the home screen shows the subject:\n%s", home)
	}
	// The notice by e-mail: that a message waits, never what it says.
	notice := relay.Wait(2, 20*time.Second)[1]
	if text := mailText(t, notice); !strings.Contains(text, "/postfach") || strings.Contains(text, "Bescheinigung") ||
		len(notice.To) != 1 || notice.To[0] != "versicherte@beispiel-mail.de" {
		t.Errorf("the notice mail to %v:\n%s", notice.To, text)
	}
	s.do("open the mailbox", tap(unread))
	s.screen("Postfach")
	s.wait(fmt.Sprintf("Ungelesene Nachrichten: %d", before+1))
	s.do("open the newest message", tap("Öffnen"))
	s.screen("Ihre Bescheinigung")
	got := s.wait("die Bescheinigung")
	if !strings.Contains(got, "https://kasse.example/info") {
		t.Errorf("the link's target is not shown:\n%s", got)
	}
	strong, err1 := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#nachrichten strong").length`))
	scripts, err2 := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#nachrichten script, #nachrichten [onerror], #nachrichten img").length`))
	boese, err3 := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.boese === 1`))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if strong != 1 || scripts != 0 || boese {
		t.Errorf("the message's formatting: %d strong (want 1), %d script or image elements, script ran: %v", strong, scripts, boese)
	}

	dir := t.TempDir()
	wrong := filepath.Join(dir, "falsch.png")
	if err := os.WriteFile(wrong, []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.do("reply with a file that is not what its name says", apptest.Fill("antwort", "Anbei meine Bescheinigung."),
		chromedp.SetUploadFiles(chromedp.ID("anhang"), []string{wrong}), tap("Antwort senden"))
	s.wait("Es gibt ein Problem")
	if inbox, err := n.Mailbox.StaffInbox(t.Context(), 0); err != nil || len(inbox) != 0 {
		t.Fatalf("after the refused reply the staff inbox holds %d threads (%v), want none", len(inbox), err)
	}

	picture := pngBytes(t)
	good := filepath.Join(dir, "bescheinigung.png")
	if err := os.WriteFile(good, picture, 0o600); err != nil {
		t.Fatal(err)
	}
	s.do("reply with a picture", chromedp.SetUploadFiles(chromedp.ID("anhang"), []string{good}), tap("Antwort senden"))
	s.wait("Ihre Antwort ist gesendet.")
	s.wait("Anhang speichern: bescheinigung.png")

	inbox, err := n.Mailbox.StaffInbox(t.Context(), 0)
	if err != nil || len(inbox) != 1 || inbox[0].ID != id {
		t.Fatalf("staff inbox: %+v (%v), want the thread %s", inbox, err, id)
	}
	th, err := n.Mailbox.StaffOpen(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := th.Messages[len(th.Messages)-1]
	if last.Text != "Anbei meine Bescheinigung." || len(last.Attachments) != 1 {
		t.Fatalf("the reply as staff read it: %q with %d attachments", last.Text, len(last.Attachments))
	}
	f, err := n.Mailbox.StaffAttachment(t.Context(), id, last.Attachments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Content, picture) || f.Type != "image/png" {
		t.Errorf("the attachment staff get: %d bytes of %s, want the %d bytes sent as image/png", len(f.Content), f.Type, len(picture))
	}

	s.do("back to the mailbox", tap("Zurück zum Postfach"))
	s.screen("Postfach")
	if before == 0 {
		s.wait("Keine ungelesenen Nachrichten.")
	} else {
		s.wait(fmt.Sprintf("Ungelesene Nachrichten: %d", before))
	}
}

// pngBytes is a small real PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := range 40 {
		img.Set(x, 10, color.RGBA{0, 80, 160, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestServiceAppMessageMarkup feeds the app's message builder markup the
// server's sanitiser would never let through: nothing of it may become an
// element that runs, loads or leads anywhere but an https address, and the
// kept formatting stays.
func TestServiceAppMessageMarkup(t *testing.T) {
	ctx := browsertest.Start(t)
	srv := newAppServer(t)
	apptest.Do(t, ctx, "open the app", chromedp.Navigate(srv.URL+"/app/"))
	apptest.Screen(t, ctx, "Willkommen")
	const hostile = `<p>Hallo <strong>fett</strong> <img src=x onerror="window.boese=1"><script>window.boese=2</script>` +
		`<a href="javascript:window.boese=3">klick</a> <a href="https://kasse.example/x" onclick="window.boese=4">gut</a>` +
		`<iframe src="https://evil.example"></iframe><svg onload="window.boese=5"></svg><form action="https://evil.example"><button>los</button></form></p>`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const { messageHTML } = await import("/app/app.js");
		const el = messageHTML(`+"`"+hostile+"`"+`);
		document.getElementById("inhalt").append(el);
		const links = [...el.querySelectorAll("a")].map((a) => a.getAttribute("href") + "|" + (a.getAttribute("onclick") || ""));
		return JSON.stringify({ tags: [...el.querySelectorAll("*")].map((e) => e.tagName).join(","), links, text: el.textContent,
			boese: window.boese || 0 });
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"tags":"P,STRONG,A,P"`, `"links":["https://kasse.example/x|"]`, `"boese":0`, "klick"} {
		if !strings.Contains(res, want) {
			t.Errorf("the built message lacks %s:\n%s", want, res)
		}
	}
}

// mailText is a mail's decoded body.
func mailText(t *testing.T, m smtptest.Mail) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(m.Message(t).Body))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
