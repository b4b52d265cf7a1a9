package audit

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// checkpointTag starts the MAC input of a checkpoint.
const checkpointTag = "pforte-audit-checkpoint-v1"

// maxCheckpointLine bounds one line of a checkpoint file.
const maxCheckpointLine = 4096

// ErrCheckpoint reports a checkpoint that is malformed or whose MAC does not
// hold: it was not written by a node with this audit key.
var ErrCheckpoint = errors.New("audit: bad checkpoint")

// ErrRewound reports that the chain no longer extends the checkpoint a
// Checkpointer published last: its head went back, or the entry at its head
// is not the one it signed, or not keyed. The Checkpointer then publishes
// nothing.
var ErrRewound = errors.New("audit: chain does not extend the last checkpoint")

// Checkpoint is a signed statement, published outside the database, that the
// chain reached entry Seq with Hash Head at Time. A later Verify with it
// detects a rewrite of any entry up to Seq and a truncation below Seq, which
// the database alone cannot show.
//
// On a line of a checkpoint file it is the JSON object
//
//	{"seq":N,"head":"<hex>","time":"<RFC 3339, UTC, microseconds>","mac":"<hex>"}
//
// with MAC = HMAC-SHA256 under the audit key's checkpoint key (HKDF info
// "pforte audit checkpoint v1") of field("pforte-audit-checkpoint-v1") ||
// field(Seq, 8 bytes big-endian) || field(Time in Unix microseconds, 8 bytes)
// || field(Head), field as in the chain's hash.
type Checkpoint struct {
	Seq  int64
	Head []byte
	Time time.Time
	MAC  []byte
}

type checkpointJSON struct {
	Seq  int64  `json:"seq"`
	Head string `json:"head"`
	Time string `json:"time"`
	MAC  string `json:"mac"`
}

// timeLayout is the checkpoint's time format: RFC 3339 in UTC with
// microseconds, which is what the MAC covers.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Sign returns the checkpoint for head at t, its MAC under k.
func (k Key) Sign(head store.AuditHead, t time.Time) Checkpoint {
	c := Checkpoint{Seq: head.Seq, Head: append([]byte(nil), head.Hash...), Time: t.UTC().Truncate(time.Microsecond)}
	c.MAC = k.checkpointMAC(c)
	return c
}

// CheckCheckpoint returns an error wrapping ErrCheckpoint unless c's MAC is
// valid under k.
func (k Key) CheckCheckpoint(c Checkpoint) error {
	if c.Seq < 1 || len(c.Head) != sha256.Size {
		return fmt.Errorf("%w: entry %d, head of %d bytes", ErrCheckpoint, c.Seq, len(c.Head))
	}
	if !hmac.Equal(k.checkpointMAC(c), c.MAC) {
		return fmt.Errorf("%w: MAC does not match (forged, altered, or another audit key)", ErrCheckpoint)
	}
	return nil
}

func (k Key) checkpointMAC(c Checkpoint) []byte {
	h := hmac.New(sha256.New, k.checkpoint)
	var n [8]byte
	writeField(h, []byte(checkpointTag))
	binary.BigEndian.PutUint64(n[:], uint64(c.Seq))
	writeField(h, n[:])
	binary.BigEndian.PutUint64(n[:], uint64(c.Time.UnixMicro()))
	writeField(h, n[:])
	writeField(h, c.Head)
	return h.Sum(nil)
}

// MarshalJSON writes the checkpoint file's line format (without newline).
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointJSON{Seq: c.Seq, Head: hex.EncodeToString(c.Head),
		Time: c.Time.UTC().Format(timeLayout), MAC: hex.EncodeToString(c.MAC)})
}

// UnmarshalJSON reads the line format. It does not check the MAC.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	var j checkpointJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	head, err := hex.DecodeString(j.Head)
	if err != nil {
		return errors.New("head: not hex")
	}
	mac, err := hex.DecodeString(j.MAC)
	if err != nil {
		return errors.New("mac: not hex")
	}
	t, err := time.Parse(time.RFC3339Nano, j.Time)
	if err != nil {
		return errors.New("time: not RFC 3339")
	}
	*c = Checkpoint{Seq: j.Seq, Head: head, Time: t.UTC(), MAC: mac}
	return nil
}

// ParseCheckpoints reads a checkpoint file, one JSON object per line (empty
// lines are skipped), and checks each one's MAC under k. Any bad line fails
// the whole file with an error naming the line: a checkpoint file is
// evidence, and a forged line in it is news.
func ParseCheckpoints(r io.Reader, k Key) ([]Checkpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxCheckpointLine)
	var out []Checkpoint
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrCheckpoint, line, err)
		}
		if err := k.CheckCheckpoint(c); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	return out, nil
}

// Checkpointer publishes signed checkpoints of the chain: each one as a
// structured log line ("audit checkpoint") and, if it has one, as a line
// appended to a file (for write-once storage). Before it signs, it checks
// that the head entry is keyed and still extends the checkpoint it published
// last; otherwise it publishes nothing and reports ErrRewound. Every node may
// run one; their checkpoints agree because they sign the one shared chain.
type Checkpointer struct {
	chain  Reader
	key    Key
	file   io.Writer // nil: log only
	now    func() time.Time
	logger *slog.Logger

	mu       sync.Mutex
	last     Checkpoint
	failures int64
}

// NewCheckpointer returns a Checkpointer reading chain, signing with key,
// appending to file (nil: none; each checkpoint is one Write of one line),
// stamping with now and logging to logger.
func NewCheckpointer(chain Reader, key Key, file io.Writer, now func() time.Time, logger *slog.Logger) *Checkpointer {
	if key.IsZero() {
		panic("audit: NewCheckpointer with the zero Key")
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Checkpointer{chain: chain, key: key, file: file, now: now, logger: logger}
}

// Last returns the checkpoint published last (zero before the first).
func (c *Checkpointer) Last() Checkpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Failures returns how many checkpoints could not be published.
func (c *Checkpointer) Failures() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failures
}

// Publish signs the current head and publishes it. With onlyIfMoved it skips
// a head that equals the last published checkpoint. It returns the
// checkpoint, or the zero Checkpoint when there was nothing to publish (an
// empty chain, or an unmoved head).
func (c *Checkpointer) Publish(ctx context.Context, onlyIfMoved bool) (Checkpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp, err := c.publish(ctx, onlyIfMoved)
	if err != nil {
		c.failures++
		c.logger.LogAttrs(ctx, slog.LevelError, "audit checkpoint failed", slog.String("error", err.Error()))
	}
	return cp, err
}

func (c *Checkpointer) publish(ctx context.Context, onlyIfMoved bool) (Checkpoint, error) {
	head, err := c.chain.AuditHead(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: read head: %w", err)
	}
	if head.Seq == 0 {
		if c.last.Seq > 0 {
			return Checkpoint{}, fmt.Errorf("%w: the chain is empty, the last checkpoint was at entry %d", ErrRewound, c.last.Seq)
		}
		return Checkpoint{}, nil
	}
	switch {
	case head.Seq < c.last.Seq:
		return Checkpoint{}, fmt.Errorf("%w: the head is at entry %d, the last checkpoint at %d", ErrRewound, head.Seq, c.last.Seq)
	case head.Seq == c.last.Seq && !hmac.Equal(head.Hash, c.last.Head):
		return Checkpoint{}, fmt.Errorf("%w: entry %d differs from the last checkpoint", ErrRewound, head.Seq)
	case head.Seq == c.last.Seq && onlyIfMoved:
		return Checkpoint{}, nil
	}
	entries, err := c.chain.AuditEntries(ctx, head.Seq-1, 1)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: read entry %d: %w", head.Seq, err)
	}
	if len(entries) != 1 || entries[0].Seq != head.Seq || !hmac.Equal(entries[0].Hash, head.Hash) ||
		!hmac.Equal(keyedHash(c.key, entries[0]), head.Hash) {
		return Checkpoint{}, fmt.Errorf("%w: the head entry %d is missing, differs from the head, or is not keyed", ErrRewound, head.Seq)
	}
	if c.last.Seq > 0 && head.Seq > c.last.Seq {
		// The entries since the last checkpoint must link up to it.
		if err := c.extends(ctx, head.Seq); err != nil {
			return Checkpoint{}, err
		}
	}
	cp := c.key.Sign(head, c.now())
	line, err := json.Marshal(cp)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	if c.file != nil {
		if _, err := c.file.Write(append(line, '\n')); err != nil {
			return Checkpoint{}, fmt.Errorf("audit: checkpoint: write file: %w", err)
		}
		if s, ok := c.file.(interface{ Sync() error }); ok {
			if err := s.Sync(); err != nil {
				return Checkpoint{}, fmt.Errorf("audit: checkpoint: sync file: %w", err)
			}
		}
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "audit checkpoint", slog.Int64("seq", cp.Seq),
		slog.String("head", hex.EncodeToString(cp.Head)), slog.String("time", cp.Time.Format(timeLayout)),
		slog.String("mac", hex.EncodeToString(cp.MAC)))
	c.last = cp
	return cp, nil
}

// extends checks that the entries after the last checkpoint up to seq are
// keyed and link up to it.
func (c *Checkpointer) extends(ctx context.Context, seq int64) error {
	prev := store.AuditHead{Seq: c.last.Seq, Hash: c.last.Head}
	res := Result{KeyedFrom: 1}
	for prev.Seq < seq {
		page, err := c.chain.AuditEntries(ctx, prev.Seq, min(pageSize, int(seq-prev.Seq)))
		if err != nil {
			return fmt.Errorf("audit: checkpoint: read entries after %d: %w", prev.Seq, err)
		}
		if len(page) == 0 {
			return fmt.Errorf("%w: entries after %d are missing", ErrRewound, prev.Seq)
		}
		for _, e := range page {
			if err := checkEntry(c.key, &res, prev, e); err != nil {
				return fmt.Errorf("%w: %w", ErrRewound, err)
			}
			prev = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
		}
	}
	return nil
}

// Run publishes a checkpoint every interval while the head moves, until ctx
// ends, and then a last one (on a context without ctx's cancellation, bounded
// by commitTimeout), so that a stopping node leaves the head it saw.
func (c *Checkpointer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
			c.Publish(final, false)
			cancel()
			return
		case <-t.C:
			c.Publish(ctx, true)
		}
	}
}
