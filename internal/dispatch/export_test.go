package dispatch

import "context"

// ExportToDirCrashing runs ExportToDir and stops it, as a kill would, at
// the first step for which crashAt is true.
func ExportToDirCrashing(ctx context.Context, s *Service, dir string, max int, crashAt func(step string) bool) (DirExport, error) {
	return dirExporter{s: s, crashAt: crashAt}.export(ctx, dir, max)
}

// LockDir is lockDir, for the test of two runs on one folder.
var LockDir = lockDir
