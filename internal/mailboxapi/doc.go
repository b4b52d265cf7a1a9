// Package mailboxapi serves the Online-Postfach (package mailbox) over HTTP,
// for the insured person and for the insurer's staff:
//
//	GET  /api/v1/mailbox                          {"unread", "threads": [...]}: threads only at substantial or above
//	POST /api/v1/mailbox/threads                  a new thread from the person {"subject", "text", "attachments"?}
//	GET  /api/v1/mailbox/threads/{id}             a thread with its messages (marks them read)
//	POST /api/v1/mailbox/threads/{id}/messages    the person's reply {"text", "attachments"?}
//	POST /api/v1/mailbox/threads/{id}/archive     {"archived": true|false}
//	GET  /api/v1/mailbox/attachments/{id}         an attachment's bytes
//	GET  /api/v1/mailbox/search?q=               the person's threads that contain every word
//
//	POST /api/v1/staff/mailbox/threads            staff write to a person {"kvnr", "author", "subject", "text", "reply_by"?, "attachments"?}
//	GET  /api/v1/staff/mailbox/inbox              threads with messages from persons staff have not read
//	GET  /api/v1/staff/mailbox/threads/{id}       a thread (marks the person's messages read by staff)
//	POST /api/v1/staff/mailbox/threads/{id}/messages  staff answer {"author", "text", "attachments"?}
//	GET  /api/v1/staff/mailbox/threads/{id}/attachments/{att}
//
//	GET  /postfach, /postfach/archiv, /postfach/suche, /postfach/neu, /postfach/{id}, /postfach/anhang/{id}
//	POST /postfach/neu, /postfach/{id}/antwort, /postfach/{id}/archiv
//
// API serves the person's JSON routes (bearer session token), Staff the
// staff routes (a bearer token from the configuration, compared in constant
// time; without one they are not mounted), Pages the portal pages (the
// portal's session cookie; a plain form that works without JavaScript).
// Each lists its routes in Routes.
//
// The pages speak the portal's language (web.Browser.Language): their
// templates are parsed once per language with the catalogue (keys
// mailbox.page.*), <html lang> follows it, and the header carries the
// portal's switch (POST /sprache back to the page). Their problems and the
// mailbox's input errors come from the catalogue (lang.Text); what the
// insurer wrote stays German, marked lang="de" on an English page.
//
// A handler decodes strictly, calls one method of the mailbox and renders.
// Bad input is a 4xx with a German message (on the pages: in the page's
// language) that says what to change and changes nothing; a thread or attachment of another person is 404, exactly
// like one that does not exist; below substantial a person sees only the
// number of unread messages and is shown the way to confirm the session
// with the phone. Attachments arrive base64-encoded in JSON or as
// multipart form files, bounded by Limits; they are served with their
// sniffed type, as a download, under a sandboxing CSP.
package mailboxapi
