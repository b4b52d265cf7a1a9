package access

import (
	"context"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// PadWith makes every answer of a take at least minTime, measured on the
// clock now and waited for with sleep.
func PadWith(a *Service, minTime time.Duration, now func() time.Time, sleep func(context.Context, time.Duration)) {
	a.cfg.MinTime, a.clock, a.sleep = minTime, now, sleep
}

// HandleIntake handles one claimed request, as DrainIntake does.
func HandleIntake(ctx context.Context, a *Service, in store.Intake) error {
	return a.handleIntake(ctx, in)
}

// WithStore makes a use st.
func WithStore(a *Service, st Store) { a.store = st }
