package session

import (
	"fmt"
	"io"
)

// Format redacts the token for every fmt verb. String alone does not cover
// %#v (which prints Go syntax) nor a verb that does not fit a string (%d
// prints "%!d(session.Token=…)" with the raw value).
func (Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[session token]") }
