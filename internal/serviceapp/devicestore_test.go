package serviceapp_test

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/serviceapp/apptest"
	"github.com/pforte/pforte/internal/store"
)

// storedDevice is what the app keeps in IndexedDB, as the test reads it.
type storedDevice struct {
	Keys            []string `json:"keys"`
	Fields          []string `json:"fields"`
	ID              string   `json:"id"`
	Extractable     bool     `json:"extractable"`
	Exported        bool     `json:"exported"`
	WrapExtractable bool     `json:"wrapExtractable"`
	WrapExported    bool     `json:"wrapExported"`
	PublicKey       string   `json:"pub"`
	Biometric       bool     `json:"biometric"`
	PINLocked       bool     `json:"pinLocked"`
}

// readStore reads the app's IndexedDB in the page.
func readStore(t *testing.T, ctx context.Context) storedDevice {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, apptest.StepTimeout)
	defer cancel()
	d, err := chromedp.Run(sctx, chromedp.Evaluate[storedDevice](`(async () => {
		const db = await new Promise((res, rej) => { const r = indexedDB.open("pforte-service-app"); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
		const req = (f) => new Promise((res, rej) => { const q = f(db.transaction("state").objectStore("state")); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
		const keys = await req((s) => s.getAllKeys());
		const d = await req((s) => s.get("device"));
		const b = await req((s) => s.get("biometric"));
		db.close();
		if (!d) return {keys, fields: [], biometric: !!b};
		const tryExport = (f, k) => crypto.subtle.exportKey(f, k).then(() => true, () => false);
		const pub = new Uint8Array(await crypto.subtle.exportKey("raw", d.publicKey));
		return {keys, fields: Object.keys(d).sort(), id: d.id, extractable: d.privateKey.extractable,
			exported: await tryExport("pkcs8", d.privateKey) || await tryExport("jwk", d.privateKey),
			wrapExtractable: d.wrapKey.extractable, wrapExported: await tryExport("raw", d.wrapKey),
			pub: btoa(String.fromCharCode(...pub)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
			biometric: !!b, pinLocked: d.pinLocked};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the app's store: %v", err)
	}
	return d
}

// checkStore checks the rules of what the app keeps: the device key and the
// key that encrypts s are not extractable, and nothing that tests a PIN
// (PIN key, seed) is kept outside the biometric record.
func checkStore(t *testing.T, n *appNode, d storedDevice) {
	t.Helper()
	if d.Extractable || d.Exported {
		t.Errorf("the device key is extractable (%v) or exported (%v)", d.Extractable, d.Exported)
	}
	if d.WrapExtractable || d.WrapExported {
		t.Errorf("the key that encrypts s is extractable (%v) or exported (%v)", d.WrapExtractable, d.WrapExported)
	}
	want := []string{"id", "kdf", "level", "model", "name", "pinLocked", "privateKey", "publicKey", "secretCT", "secretIV", "wrapKey"}
	if !slices.Equal(d.Fields, want) {
		t.Errorf("the app stores %v, want exactly %v", d.Fields, want)
	}
	dev, err := n.Store.DeviceByID(t.Context(), store.DeviceID(d.ID))
	if err != nil {
		t.Fatalf("the stored device %q is not bound: %v", d.ID, err)
	}
	if got := appclient.B64(dev.DeviceKey); got != d.PublicKey {
		t.Errorf("the server holds device key %s, the app %s", got, d.PublicKey)
	}
}
