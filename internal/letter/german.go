package letter

import (
	"strings"
)

// groupPassword splits p into groups of four characters separated by one
// space: "ABCD EFGH JKLM".
func groupPassword(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p[i:min(i+4, len(p))])
	}
	return b.String()
}
