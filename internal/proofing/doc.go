// Package proofing owns the decisions of identity proofing: whether attributes
// verified by an identification partner belong to an insured person of the
// register, and the immutable record that an identification took place. Letter
// codes (the activation codes of a Passwortbrief) belong here as well.
//
// It does not speak to the identification partner (package eid does, and hands
// over Claims), it does not persist anything (the store does), and it never
// tells anyone outside Pforte which attribute failed: Result.Reasons is for logs
// and tests, the pages show one uniform message.
//
// An eID identification flows through this package as:
//
//	partner's ID token / userinfo ─▶ ClaimsFromOIDC ─▶ Claims
//	                                                     │
//	register (store.Person) ─▶ Person ───────────────▶ Match ─▶ Result
//	                                                     │ Matched
//	                                                     ▼
//	                                             NewIdentification ─▶ Identification
//	                                             (kept unchanged for ever)
//
// # Name matching
//
// Names are compared in the form Normalize returns: Unicode NFKC, full case
// folding (ß and ẞ become "ss"), German transliteration of umlauts (ä→ae, ö→oe,
// ü→ue; also æ→ae, œ→oe, ø→oe), other diacritics removed (é→e, ł→l, ğ→g, ş→s,
// ć→c …), apostrophes removed, hyphens, dots and every other separator turned
// into one space, and academic titles (Dr., Prof. Dr., Dr. med., Dipl.-Ing.,
// Dr. h. c. …) dropped. Match also accepts the plain folding of umlauts (ä→a):
// "Müller" matches "Mueller" and "Muller", but "Mueller" does not match "Muller",
// since neither of those carries the umlaut. The slightly looser rule is
// accepted because a match also needs the KVNR the person typed, a given name
// and the birth date.
//
// The family name must match current to current: the eID shows the name the
// person bears today, and so should the register. Only when that fails is a
// birth name accepted as a fallback (the register's birth name against the
// claimed family name, the claimed birth name against the register's family
// name, or both birth names), which covers a marriage or divorce the register
// has not seen yet; Result.FamilyNameByBirthName then tells the caller that the
// register's name may be out of date. Name affixes (von, van, zu, de, Freiherr,
// Graf …) are ignored, and so are the spaces between the parts of a family name.
//
// Given names match when any given name of one side equals any given name of
// the other; hyphenated given names count as their parts ("Hans-Peter" has the
// given names "hans" and "peter"), and one-letter initials never count.
//
// Birth dates are compared on the part known on both sides
// (registry.BirthDate.Matches): full dates must be equal, a partial date in the
// register matches a full date of the eID when the known part is equal, and a
// partial date on the eID is compared at its own precision. The address is never
// required to match (people move) but Result.AddressMatched says whether it did.
package proofing
