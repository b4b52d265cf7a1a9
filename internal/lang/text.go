package lang

// Text is a catalogue text whose reader is not known where it is made: a
// domain package's field error, an answer's heading. The code that shows it
// prints it in the reader's language with In; APIs that speak German print
// it in German.
//
// Make one with Key and a literal key, so that the catalogue test sees the
// key as it sees one given to T.
type Text struct {
	key  string
	args []any
}

// Key returns the text of key with args, to be printed later.
func Key(key string, args ...any) Text { return Text{key: key, args: args} }

// In prints the text in l, as l.T(key, args...) does. The zero Text is "".
func (t Text) In(l Language) string {
	if t.key == "" {
		return ""
	}
	return l.T(t.key, t.args...)
}

// IsZero reports whether t is the zero Text (no key).
func (t Text) IsZero() bool { return t.key == "" }
