//go:build !unix

package dispatch

// lockDir does not lock where there is no flock: run one export per folder.
func lockDir(string) (func(), error) { return func() {}, nil }
