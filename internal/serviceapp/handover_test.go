package serviceapp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/internal/browsertest"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
)

// TestServiceAppHelpHandsOverByMailbox: logged in to the app, a question
// about the person's own case is handed over as a message to the service
// team; the message carries the masked question, never the KVNR typed into
// it, and lands in the staff inbox once.
func TestServiceAppHelpHandsOverByMailbox(t *testing.T) {
	needTool(t, "pdftoppm")
	needTool(t, "pdftotext")
	apptest.NeedAxe(t)
	ctx := browsertest.StartWith(t, browsertest.Options{Timeout: 6 * time.Minute, Flags: []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-device-for-media-stream", true)}})
	n := startAppNode(t)
	s := svc{t, ctx, n}
	p := n.others[0]
	watchConsole(t, ctx)
	s.activateWithPhoto(p)
	s.login(svcPIN)

	s.do("open the help", tap("Hilfe"))
	s.screen("Hilfe")
	s.do("ask about the own case", apptest.Fill("frage", "Wann wird mein Antrag bearbeitet? Meine Nummer ist "+p.KVNR),
		tap("Fragen"))
	s.wait("Als Nachricht an das Service-Team senden")
	apptest.A11y(t, ctx, "Hilfe with the mailbox offer")
	s.do("hand over", tap("Als Nachricht an das Service-Team senden"))
	s.wait("Die Antwort finden Sie in Ihrem Postfach.")
	if left, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("antworten").textContent`)); err != nil ||
		strings.Contains(left, "Als Nachricht an das Service-Team senden") {
		t.Errorf("the offer stays after the hand-over (%v):\n%s", err, left)
	}

	inbox, err := n.Mailbox.StaffInbox(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox) != 1 {
		t.Fatalf("staff inbox: %d threads, want the one hand-over", len(inbox))
	}
	th, err := n.Mailbox.StaffOpen(t.Context(), inbox[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, m := range th.Messages {
		all.WriteString(m.Text)
	}
	if text := all.String(); !strings.Contains(text, "Antrag") || strings.Contains(text, p.KVNR) {
		t.Errorf("the handed-over message: want the masked question without the KVNR:\n%s", text)
	}
}
