// Package assistant answers the insured persons' German questions about
// Pforte from a knowledge base written for it. So far it owns the privacy
// side of a question: neutralising hostile input (invalid UTF-8, HTML,
// control and format characters) and masking personal data (KVNR, IBAN,
// dates, PIN-like numbers, passwords, e-mail addresses) before anything
// uses or keeps the question.
package assistant
