package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// buildNode builds a node of cfg on st for a command that uses its services
// without serving (letters, load set-up).
func buildNode(ctx context.Context, cfg config.Config, logger *slog.Logger, st store.Store) (*node.Node, error) {
	nc, err := cfg.NodeConfig(logger, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	nc.Version = version
	return node.Build(ctx, nc, st)
}

// openNode loads the configuration a command that acts through the node's
// services needs (data and audit keys), opens the database and builds the
// node on it; done closes the database.
func openNode(ctx context.Context, env *environment, cf *config.Flags) (n *node.Node, done func(), err error) {
	cfg, err := cf.Load(env.environ, config.Needs{Keys: true, Audit: true})
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	n, err = buildNode(ctx, cfg, cfg.Logger(env.stderr), st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return n, func() { st.Close() }, nil
}

// auditLog is the audit trail's writer for a command outside the node (the
// registry import), keyed with the configured audit key.
func auditLog(cfg config.Config, st *sqlstore.Store, logger *slog.Logger) (*audit.Log, error) {
	key, err := cfg.AuditKey()
	if err != nil {
		return nil, err
	}
	return audit.New(st, key, time.Now, logger), nil
}

// folderSink writes each letter as DIR/<id>.pdf (the demo).
type folderSink struct{ dir string }

func (f folderSink) Deliver(_ context.Context, id string, pdf []byte) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(f.dir, id+".pdf"), pdf, 0o600)
}
