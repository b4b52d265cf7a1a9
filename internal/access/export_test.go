package access

import (
	"context"
	"time"
)

// PadWith makes every answer of a take at least minTime, measured on the
// clock now and waited for with sleep.
func PadWith(a *Service, minTime time.Duration, now func() time.Time, sleep func(context.Context, time.Duration)) {
	a.cfg.MinTime, a.clock, a.sleep = minTime, now, sleep
}
