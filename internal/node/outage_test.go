package node_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

// cuttable is a TCP proxy on loopback in front of PostgreSQL whose line can
// be cut: cut closes every open connection and turns new ones away (accepted
// and closed at once, as a server that is restarting does), mend lets them
// through again. It is a real fault on the wire, not a fake store.
type cuttable struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

func newCuttable(t *testing.T, target string) *cuttable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cuttable{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go c.serve()
	return c
}

func (c *cuttable) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		down := c.down
		c.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		c.conns[in], c.conns[out] = struct{}{}, struct{}{}
		c.mu.Unlock()
		go c.pipe(in, out)
		go c.pipe(out, in)
	}
}

func (c *cuttable) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (c *cuttable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for conn := range c.conns {
		conn.Close()
		delete(c.conns, conn)
	}
}

func (c *cuttable) mend() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = false
}

// TestDatabaseOutageAnswers503 cuts a node's line to PostgreSQL mid-service:
// every request that needs the database is answered 503 with Retry-After
// (never 500), /readyz says not ready, and once the line is back the same
// node serves again without a restart.
func TestDatabaseOutageAnswers503(t *testing.T) {
	dsn := sqltest.PostgresURL(t)
	sqltest.Open(t, dsn) // migrate over the direct line
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	line := newCuttable(t, u.Host)
	u.Host = line.ln.Addr().String()
	st := sqltest.Open(t, u.String())
	n := nodetest.Start(t, nodetest.Options{Store: st})
	p := n.Person(t, store.Person{KVNR: "X110411675", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	const pw = "Kastanienbaum im Herbstwind"
	n.GivePassword(t, p, pw)

	login := func() (int, string) {
		status, body := nodetest.CallAPI(t, http.MethodPost, n.URL+"/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": pw})
		return status, string(body)
	}
	if status, body := login(); status != http.StatusCreated {
		t.Fatalf("login before the cut: %d %s", status, body)
	}
	_, tok := login()
	token := strings.Split(strings.Split(tok, `"session_token":"`)[1], `"`)[0]

	line.cut()
	requests := []struct {
		name, method, path, token string
		body                      any
	}{
		{"password login", http.MethodPost, "/api/v1/sessions", "", map[string]string{"kvnr": p.KVNR, "password": pw}},
		{"mailbox", http.MethodGet, "/api/v1/mailbox", token, nil},
		{"access request", http.MethodPost, "/api/v1/access-requests", "", map[string]string{"kvnr": p.KVNR, "postal_code": "10115", "birth_date": "1970-03-14", "method": "letter"}},
	}
	for _, rq := range requests {
		req, err := http.NewRequestWithContext(t.Context(), rq.method, n.URL+rq.path, jsonBody(t, rq.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if rq.token != "" {
			req.Header.Set("Authorization", "Bearer "+rq.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: %d %s, want 503 (or a 4xx that changes nothing)", rq.name, resp.StatusCode, body)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", rq.name)
		}
		if rq.name == "password login" && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("password login during the outage: %d %s, want 503", resp.StatusCode, body)
		}
	}
	if got := readyz(t, n.URL); got != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d, want 503", got)
	}

	line.mend()
	if status, body := login(); status != http.StatusCreated {
		t.Fatalf("login after the line is back: %d %s", status, body)
	}
	if got := readyz(t, n.URL); got != http.StatusOK {
		t.Errorf("readyz after the outage: %d, want 200", got)
	}
}

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

func readyz(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// diskImage is a small ext4 file system in a file, mounted through a loop
// device with errors=remount-ro, as a server's data disk is: it can fill
// up, and an error of the file system turns it read-only under the running
// node (trigger_fs_error is the kernel's own switch for that). Tests skip
// where they may not mount (not root, no loop devices), unless
// PFORTE_TEST_REQUIRE_TOOLS is set.
type diskImage struct {
	t         *testing.T
	file, dir string
	mounted   bool
}

func newDiskImage(t *testing.T, size int64) *diskImage {
	t.Helper()
	base := t.TempDir()
	d := &diskImage{t: t, file: filepath.Join(base, "disk.img"), dir: filepath.Join(base, "disk")}
	if err := os.Mkdir(d.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(d.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", d.file).CombinedOutput(); err != nil {
		d.skip("mkfs.ext4", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop,errors=remount-ro", d.file, d.dir).CombinedOutput(); err != nil {
		d.skip("mount a loop device", err, out)
	}
	d.mounted = true
	t.Cleanup(d.unmount)
	return d
}

func (d *diskImage) skip(what string, err error, out []byte) {
	d.t.Helper()
	if os.Getenv("PFORTE_TEST_REQUIRE_TOOLS") != "" {
		d.t.Fatalf("%s: %v: %s", what, err, out)
	}
	d.t.Skipf("%s: %v: %s (the disk tests need root and loop devices)", what, err, bytes.TrimSpace(out))
}

func (d *diskImage) unmount() {
	if !d.mounted {
		return
	}
	if out, err := exec.Command("umount", d.dir).CombinedOutput(); err != nil {
		d.t.Errorf("umount: %v: %s", err, out)
	}
	d.mounted = false
}

// fail makes the kernel record an error of the file system, which
// errors=remount-ro answers by turning it read-only at once.
func (d *diskImage) fail() {
	d.t.Helper()
	out, err := exec.Command("findmnt", "-n", "-o", "SOURCE", d.dir).Output()
	if err != nil {
		d.t.Fatalf("findmnt: %v", err)
	}
	dev := filepath.Base(strings.TrimSpace(string(out)))
	if err := os.WriteFile("/sys/fs/ext4/"+dev+"/trigger_fs_error", []byte("pforte test"), 0o200); err != nil {
		d.t.Fatalf("trigger an ext4 error: %v", err)
	}
}

// repair unmounts, checks and mounts the file system again, as an operator
// does after an error turned it read-only.
func (d *diskImage) repair() {
	d.t.Helper()
	d.unmount()
	// e2fsck exits 1 when it corrected something (the recorded error).
	if out, err := exec.Command("e2fsck", "-f", "-y", d.file).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			d.t.Fatalf("e2fsck: %v: %s", err, out)
		}
	}
	if out, err := exec.Command("mount", "-o", "loop,errors=remount-ro", d.file, d.dir).CombinedOutput(); err != nil {
		d.t.Fatalf("mount again: %v: %s", err, out)
	}
	d.mounted = true
}

// noisePNG is a PNG of about n bytes that does not compress.
func noisePNG(t *testing.T, n int) []byte {
	t.Helper()
	side := int(math.Sqrt(float64(n / 4)))
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	if _, err := rand.Read(img.Pix); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// diskNode is a node on SQLite in dir with Jürgen Müller's phone bound and
// an app session (level substantial) to write to his mailbox with.
type diskNode struct {
	t     *testing.T
	n     *nodetest.Node
	st    *sqlstore.Store
	p     store.Person
	token string
}

const diskPassword = "Kastanienbaum im Herbstwind"

// startDiskNode starts the node; a node after the first (prev not nil)
// keeps prev's keys, as a restarted node of one installation does.
func startDiskNode(t *testing.T, dir string, prev *node.Config) *diskNode {
	t.Helper()
	st := sqltest.OpenWith(t, "sqlite:"+filepath.Join(dir, "pforte.db"), sqlstore.Options{MinFreeBytes: 1 << 20})
	n := nodetest.Start(t, nodetest.Options{Store: st, Config: func(c *node.Config) {
		if prev != nil {
			c.Keys, c.AuditKey = prev.Keys, prev.AuditKey
		}
	}})
	d := &diskNode{t: t, n: n, st: st}
	if prev == nil {
		d.p = n.Person(t, store.Person{KVNR: "X110411675", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
			Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
		n.GivePassword(t, d.p, diskPassword)
	} else {
		p, err := st.PersonByKVNR(t.Context(), "X110411675")
		if err != nil {
			t.Fatal(err)
		}
		d.p = p
	}
	phone := n.BindPhone(t, d.p, diskPassword, "482915")
	s, err := n.App().Login(t.Context(), phone.Device, phone.PIN, "pin")
	if err != nil {
		t.Fatal(err)
	}
	d.token = s.Token
	return d
}

// write posts a message with a 3 MB picture to the person's mailbox.
func (d *diskNode) write(subject string) *http.Response {
	d.t.Helper()
	picture := base64.StdEncoding.EncodeToString(noisePNG(d.t, 3<<20))
	req, err := http.NewRequestWithContext(d.t.Context(), http.MethodPost, d.n.URL+"/api/v1/mailbox/threads",
		jsonBody(d.t, map[string]any{"subject": subject, "text": "Anbei das Foto.",
			"attachments": []map[string]string{{"name": "foto.png", "content": picture}}}))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// refused checks that a write now is answered 503 with Retry-After and the
// node reports not ready.
func (d *diskNode) refused(when string) {
	d.t.Helper()
	resp := d.write("Abgelehnt " + when)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		d.t.Errorf("a write %s: %d Retry-After %q, want 503 with Retry-After", when, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := readyz(d.t, d.n.URL); got != http.StatusServiceUnavailable {
		d.t.Errorf("readyz %s: %d, want 503", when, got)
	}
}

// accepted waits until the node is ready again and checks that it takes
// the write.
func (d *diskNode) accepted(when string) {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for readyz(d.t, d.n.URL) != http.StatusOK {
		if time.Now().After(deadline) {
			d.t.Fatalf("the node is not ready again %s", when)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if resp := d.write("Gespeichert " + when); resp.StatusCode != http.StatusCreated {
		d.t.Errorf("the write %s: %d, want 201", when, resp.StatusCode)
	}
}

// intact runs SQLite's integrity check.
func (d *diskNode) intact(when string) {
	d.t.Helper()
	var res string
	if err := d.st.DB().QueryRowContext(d.t.Context(), "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		d.t.Errorf("integrity check %s: %q %v", when, res, err)
	}
}

// TestSQLiteDiskFullAndReadOnly runs a node on SQLite on a small ext4 disk.
// The disk fills up: a write that cannot be stored is answered 503 with
// Retry-After (never 500) and stores nothing, the node reports not ready,
// the database stays intact, and once space returns the same node takes
// the same write without a restart. Then a file system error turns the
// disk read-only under the node: 503 again; after the operator's repair
// (unmount, e2fsck, mount) a new node finds every accepted write and
// nothing else, and takes writes.
func TestSQLiteDiskFullAndReadOnly(t *testing.T) {
	disk := newDiskImage(t, 48<<20)
	var first node.Config
	t.Run("full, then read-only", func(t *testing.T) {
		d := startDiskNode(t, disk.dir, nil)
		first = d.n.Cfg
		filler := filepath.Join(disk.dir, "filler")
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 64<<10)
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
		f.Close()
		d.refused("on a full disk")
		d.intact("on a full disk")
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		d.accepted("after space returned")

		disk.fail()
		d.refused("on a read-only file system")
	})
	disk.repair()
	if t.Failed() {
		return
	}
	d := startDiskNode(t, disk.dir, &first)
	d.intact("after the repair")
	d.accepted("after the repair")
	mb, err := d.n.Mailbox.Overview(t.Context(), d.p.ID, session.LevelSubstantial, mailbox.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, th := range mb.Threads {
		if !th.Notice {
			subjects = append(subjects, th.Subject)
		}
	}
	slices.Sort(subjects)
	if want := []string{"Gespeichert after space returned", "Gespeichert after the repair"}; !slices.Equal(subjects, want) {
		t.Errorf("threads stored: %q, want exactly the accepted writes %q", subjects, want)
	}
}
