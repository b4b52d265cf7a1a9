// Package email owns the person's e-mail channel: the optional address
// (added, confirmed by a single-use link, changed or removed only through a
// phone approval, shown masked), the person's choice to get notices by
// e-mail, and the sender that delivers the durable mail queue through the
// insurer's SMTP relay. It does not own the mailbox (package mailbox), the
// notices (package notice) or the approval's life (package approval).
//
// The address:
//
//	none ──Add──▶ pending (confirmation mail queued in the same transaction)
//	pending ──link followed in time, once──▶ confirmed (used for notices)
//	pending ──Add again──▶ pending (the old link stops working)
//	confirmed ──email.change approved on the phone──▶ confirmed (old) + pending (new)
//	          ──or removal approved──▶ none
//
// A link used twice, a replaced link and an unknown one are the same
// ErrLinkInvalid; a link used late is ErrLinkExpired. Neither changes
// anything.
//
// The mails (store.OutMail) carry no address and no text. Every message to
// the person queues one in the transaction that stores the message (the
// store keeps that promise); the Sender tells address and text when it
// sends:
//
//	queued ──relay took it──▶ sent
//	  │ ──relay failed──▶ queued, due after a backoff (1, 2, 4 … minutes, at most MaxBackoff)
//	  │ ──failed MaxAttempts times──▶ failed (logged and audited)
//	  └─ no confirmed address, notices off, link replaced or expired ──▶ dropped
//
// A mail says that a message waits in the Postfach, never its subject or
// content; it greets the person by salutation and family name only (or
// neutrally), and carries List-Unsubscribe for the notice setting. A
// confirmation mail greets neutrally: the address may be a stranger's.
package email
