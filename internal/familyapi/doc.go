// Package familyapi is the HTTP side of package family: the person's JSON
// routes under /api/v1/family (the family and the persons one represents,
// their data, an address change approved on one's own phone, their
// mailbox), the portal page /familie, and the staff routes that record
// and end appointed representatives (/api/v1/staff/representations, with
// the staff token of the mailbox's staff API). Every act on behalf goes
// through family.Service, which decides and audits it; a handler decodes,
// calls it, and renders. Refusals are answered from package answer's table
// (4xx, German); nothing a request contains produces a 5xx.
package familyapi
