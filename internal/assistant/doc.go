// Package assistant answers the insured persons' German questions about
// Pforte – access, letters, login, passwords, phones, the Freigabe-PIN,
// approvals, personal data, mailbox and family – from a knowledge base
// written for Pforte, and knows when not to answer.
//
// The knowledge base is YAML in kb/ (embedded; KnowledgeBase): one file per
// topic group, plus sprache.yaml (synonyms, word parts for compounds, filler
// words, the rules that recognise a request for a person and a question
// about the person's own case) and seiten.yaml (the pages answers link to).
// Staff edit them; New validates every file at start and reports every
// problem with its file and line (*LoadError). Answers name no limit
// themselves: placeholders such as {{.LetterDays}} or {{.PINAttempts}} are
// filled from the Config the node passes, which it takes from its own
// configuration.
//
// Retrieval is an in-memory bleve index of every way of asking and every
// answer. Its analyzer is built from bleve's German parts (stop words minus
// negations, umlaut and ß folding, light stemming) plus compound splitting
// (Passwortbrief → Passwort, Brief) and synonyms (Perso/Personalausweis,
// Handy/Smartphone/Gerät, Kennwort/Passwort, Kasse/Krankenkasse …). Before a
// question is analysed, separable verbs are joined again ("trage … ein" →
// eintragen); unknown words are read as a known inflection or corrected to
// the nearest known word (typos). bleve's scores are ranked again by how
// much of the question each candidate covers, each word weighted by how
// rare it is, and by the word pairs it shares with the question ("nicht
// angekommen"). The confidence, 0 to 1, is that coverage, lowered when the
// runner-up is close and when no word of the question is one the entry is
// about.
//
// What Ask does with a question:
//
//	question ─▶ neutralise (invalid UTF-8, HTML, control and format characters)
//	   │        longer than Config.MaxQuestionRunes ─▶ OutcomeTooLong
//	   ▼
//	mask (KVNR, IBAN, dates, PIN-like numbers, passwords, e-mail)
//	   │        something masked: Answer.Notice asks not to share such data
//	   │        nothing left to ask ─▶ OutcomeEmpty
//	   ▼
//	asks for a person ─────────────▶ hand-over (ReasonHuman)
//	own case (Antrag, Zahlung …) ──▶ hand-over (ReasonOwnCase)
//	confidence < MinConfidence ───▶ hand-over (ReasonUnsure)
//	otherwise ─────────────────────▶ the entry's answer (OutcomeAnswer)
//
// A hand-over names the service telephone and its hours; at level
// substantial or higher it offers a mailbox message to staff (ChannelMailbox),
// which Draft builds from the kept conversation (the node keeps it in its
// database and sends the draft through the mailbox). Without the mailbox
// hand-over (Config.NoMailbox, the command line) every hand-over names the
// telephone only, at every level, and nothing is kept. Every answer
// carries the Disclaimer: answers are not legally binding.
//
// The raw question is never kept, logged or repeated. Only the masked
// question is used, and only questions asked at level substantial or higher
// with the mailbox hand-over are kept (Conversations, a small interface; a
// node needs it backed by its database, since the question and the hand-over
// may reach different nodes), for at most Config.Retention; Sweep deletes
// older turns, and no read returns them.
//
// The package does not own HTTP (package assistantapi serves the API and the
// form page), the mailbox (the node sends a Draft through it), the storage
// of conversations (the node implements Conversations) or sessions (the
// caller passes the level and an opaque asker id).
package assistant
