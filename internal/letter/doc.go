// Package letter owns the layout and the text of every letter Pforte prints,
// in German and English, renders letters to PDF, and assembles batches for the
// print service: one PDF holding all letters of a batch and a CSV manifest
// describing them.
//
// It does not own who gets a letter, in which language (package dispatch
// decides), how initial passwords and activation codes are made, how many
// letters a person may receive, or where letters and their states are stored. The caller passes finished values; this package only turns
// them into bytes. The states a letter goes through are tracked by its caller:
//
//	queued ──Render/RenderBatch──▶ rendered ──print service takes batch──▶ handed over
//	                                                                          │
//	                                                     returned undeliverable (codes voided)
//
// # Kinds
//
// KindPassword is the Passwortbrief: an initial password and a QR code that
// binds the phone. KindActivation carries only the QR code. KindDeviceBound,
// KindPasswordChanged, KindAddressChanged (sent to the old address; it never
// prints the new one) and KindPINLocked are notices without secrets.
//
// # Languages
//
// A Letter's Language (German when empty) picks its words: every text and
// every label on the page comes from package lang's catalogue under the keys
// letter.*, dates in the language's form and German local time (English
// letters say "German time" where they give a time). The letter's values,
// the sender, names and addresses print as given, never translated. A label
// that is longer in one language than the layout planned for is set smaller
// (the initial password's label); a text that does not fit is an error the
// tests find for every kind in every language. A batch may mix languages.
//
// # Layout
//
// Letters follow DIN 5008 form B on A4. All positions are in millimetres from
// the top left corner of the page and live in one place, the layout value
// pageLayout:
//
//	  0 ─ 45   letterhead: insurer name, sender address
//	 45 ─ 90   address field at x 20 ─ 105 (the envelope window): return line
//	           (Rücksendeangabe, 7 pt) above up to six address lines (10 pt);
//	           info block at x 125: date, letter number, phone, web address
//	 98.46     subject (bold), then salutation and body text
//	132 ─ 182  secret block (Passwortbrief and activation letter only): initial
//	           password in a monospaced font, validity, QR code of at least 25 mm
//	           with a quiet zone of four modules
//	 ...       steps, validity, fraud notice, closing
//	281 ─ 297  footer: sender and the letter number for the print service
//
// Fold marks are drawn at 105 and 210 mm and the hole mark at 148.5 mm. Nothing
// secret is ever drawn inside the envelope window, and the QR code never
// crosses a fold. Every letter fits on one page; text that would not fit flows
// onto a second page, which is counted in BatchResult.
//
// # Recipient addresses
//
// A Recipient has one to six non-empty lines of at most 40 characters each,
// the postal limit most address systems keep. Longer lines are rejected, not
// wrapped: a wrapped street or city line would no longer be read correctly by
// the post's sorting machines, so the caller must abbreviate. A line of at most
// 40 characters that is still too wide for the window (many wide letters) is
// set in a smaller size, down to 8 pt.
//
// # Determinism
//
// Rendering reads no clock and no randomness: the PDF's creation and
// modification dates are the letter's Date (a batch uses the latest Date of its
// letters), producer and creator are fixed strings, and fpdf's catalogs are
// sorted. The same letters therefore always give the same bytes, which the
// golden test in testdata/ checks.
//
// # Personal data
//
// Letters and manifests contain personal data (names, addresses, KVNR) and, in
// the case of the Passwortbrief, secrets. Letter and Recipient redact
// themselves when formatted with fmt or logged with slog; the PDF and the
// manifest must be stored and transferred like the data they contain.
package letter
