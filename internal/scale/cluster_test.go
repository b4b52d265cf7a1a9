//go:build scale

package scale

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// tools are the programs the suite runs.
type tools struct {
	initdb, pgctl, nginx string
}

// findTools looks the programs up; a missing one skips the suite, or fails it
// under PFORTE_TEST_REQUIRE_TOOLS=1.
func findTools(t *testing.T) tools {
	t.Helper()
	pgDirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	find := func(name string, dirs ...string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range dirs {
			if p := filepath.Join(d, name); isExecutable(p) {
				return p
			}
		}
		msg := fmt.Sprintf("the reliability suite needs %s (PostgreSQL server binaries: Debian package postgresql; nginx: nginx-light)", name)
		if os.Getenv("PFORTE_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
		return ""
	}
	return tools{
		initdb: find("initdb", pgDirs...),
		pgctl:  find("pg_ctl", pgDirs...),
		nginx:  find("nginx", "/usr/sbin"),
	}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sharedDir returns a new directory others may enter (PostgreSQL may run as
// another user than the test), removed at the end.
func sharedDir(t *testing.T, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// postgres is a private PostgreSQL cluster on a loopback port.
type postgres struct {
	t     *testing.T
	pgctl string
	data  string
	log   string
	port  int
	runAs *user.User // nil: the test's own user
	DSN   string
}

// startPostgres creates and starts a cluster in a temporary directory.
// PostgreSQL refuses to run as root; as root it runs as user postgres.
func startPostgres(t *testing.T, tl tools) *postgres {
	t.Helper()
	dir := sharedDir(t, "pforte-scale-pg")
	pg := &postgres{t: t, pgctl: tl.pgctl, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "postgres.log"), port: freePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root and there is no user postgres to run PostgreSQL as: %v", err)
		}
		pg.runAs = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg.run(tl.initdb, "-D", pg.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.ctl("stop", "-m", "immediate") })
	base := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%%s?sslmode=disable", pg.port)
	db, err := sql.Open("pgx", fmt.Sprintf(base, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "CREATE DATABASE pforte"); err != nil {
		t.Fatal(err)
	}
	pg.DSN = fmt.Sprintf(base, "pforte")
	return pg
}

// run runs a PostgreSQL program as the cluster's user.
func (pg *postgres) run(name string, args ...string) {
	pg.t.Helper()
	if err := pg.runErr(name, args...); err != nil {
		pg.t.Fatal(err)
	}
}

// runErr is run returning its error, for use beside the test's goroutine.
func (pg *postgres) runErr(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if pg.runAs != nil {
		uid, _ := strconv.Atoi(pg.runAs.Uid)
		gid, _ := strconv.Atoi(pg.runAs.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(pg.data))
	}
	cmd.Dir = filepath.Dir(pg.data)
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(pg.log)
		return fmt.Errorf("%s %s: %v\n%s\n%s", filepath.Base(name), strings.Join(args, " "), err, out, log)
	}
	return nil
}

func (pg *postgres) ctl(args ...string) error {
	return pg.runErr(pg.pgctl, append([]string{"-D", pg.data, "-w", "-t", "60"}, args...)...)
}

// start starts the cluster on its port, listening on loopback only.
func (pg *postgres) start() error {
	return pg.ctl("start", "-l", pg.log, "-o", fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -c max_connections=200 -c fsync=off", pg.port, filepath.Dir(pg.data)))
}

// stop stops the cluster the fast way: open sessions are ended at once.
func (pg *postgres) stop() error { return pg.ctl("stop", "-m", "fast") }

// node is one `pforte serve` process.
type node struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  *os.File
}

func (n *node) url() string { return "http://" + n.addr }

// cluster is three nodes behind nginx on one database.
type cluster struct {
	t     *testing.T
	bin   string
	env   []string
	dsn   string
	nodes []*node
	lb    string // nginx's base URL
	dir   string
}

// startNode starts n's process and waits until it is ready. It may run
// beside the test's goroutine, so it returns its error.
func (c *cluster) startNode(n *node) error {
	cmd := exec.Command(c.bin, "serve", "--database", c.dsn, "--listen", n.addr)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = n.log, n.log
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd = cmd
	_, err := waitStatus(n.url()+"/readyz", http.StatusOK, 60*time.Second)
	return err
}

// kill kills n with SIGKILL and reaps it.
func (c *cluster) kill(n *node) error {
	if err := n.cmd.Process.Kill(); err != nil {
		return err
	}
	n.cmd.Wait()
	return nil
}

// stopAll ends every node that still runs.
func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		if n.cmd == nil || n.cmd.ProcessState != nil {
			continue
		}
		n.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			n.cmd.Process.Kill()
			<-done
		}
	}
}

// nginxConf is the load balancer: round robin over the nodes. A request
// moves to the next node when the connection fails before it was sent, and
// a GET also on a 503 or timeout; a POST, PUT or DELETE that reached a node
// is never sent to another (nginx's default without non_idempotent), so a
// node dying mid-request answers the client 502 rather than doing the work
// twice.
const nginxConf = `worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
daemon off;
%[4]s
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path %[1]s/tmp/body;
	proxy_temp_path %[1]s/tmp/proxy;
	fastcgi_temp_path %[1]s/tmp/fastcgi;
	uwsgi_temp_path %[1]s/tmp/uwsgi;
	scgi_temp_path %[1]s/tmp/scgi;
	upstream pforte {
%[2]s		keepalive 32;
	}
	server {
		listen 127.0.0.1:%[3]d;
		location / {
			proxy_pass http://pforte;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_next_upstream error timeout http_503;
			proxy_next_upstream_tries 3;
			proxy_connect_timeout 2s;
			proxy_read_timeout 60s;
			proxy_buffering off;
		}
	}
}
`

// startNginx starts nginx in front of the nodes and returns its base URL.
func (c *cluster) startNginx(nginx string) {
	c.t.Helper()
	prefix := sharedDir(c.t, "pforte-scale-nginx")
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		c.t.Fatal(err)
	}
	var upstream strings.Builder
	for _, n := range c.nodes {
		fmt.Fprintf(&upstream, "\t\tserver %s max_fails=1 fail_timeout=2s;\n", n.addr)
	}
	userLine := ""
	if os.Geteuid() == 0 {
		userLine = "user root;"
	}
	port := freePort(c.t)
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, prefix, upstream.String(), port, userLine), 0o644); err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", prefix, "-c", conf, "-e", filepath.Join(prefix, "error.log"))
	out, err := os.Create(filepath.Join(prefix, "nginx.out"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	c.lb = fmt.Sprintf("http://127.0.0.1:%d", port)
	if _, err := waitStatus(c.lb+"/readyz", http.StatusOK, 30*time.Second); err != nil {
		c.t.Fatal(err)
	}
}

// waitStatus polls url until it answers want and returns how long that took,
// or an error after d.
func waitStatus(url string, want int, d time.Duration) (time.Duration, error) {
	start := time.Now()
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < d {
		if readyStatus(client, url) == want {
			return time.Since(start), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s did not answer %d within %v", url, want, d)
}

// readyStatus returns url's status, 0 when it does not answer.
func readyStatus(client *http.Client, url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
