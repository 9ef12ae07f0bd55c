// Package redistest gives tests a Redis to talk to, preferring a real server
// so that the scripts meet the real Lua and cjson, and falling back to an
// in-process miniredis on machines without one.
//
// The choice, in order:
//
//  1. REDIS_URL, when set: a server the caller provides (keys stay under
//     Prefix, which is deleted at cleanup, so a shared server is safe).
//  2. redis-server on PATH: started on a free 127.0.0.1 port without
//     persistence, once per test binary when the package's TestMain calls
//     Main, else once per test.
//  3. miniredis, unless SYNDICATE_REQUIRE_REDIS=1, which makes the test
//     fail instead, so that CI cannot silently skip the real server.
//
// Every URL call logs which of them the test got.
package redistest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	// EnvURL names a Redis server to use instead of starting one.
	EnvURL = "REDIS_URL"
	// EnvRequire set to 1 forbids the miniredis fallback.
	EnvRequire = "SYNDICATE_REQUIRE_REDIS"
)

// startTimeout bounds the wait for a started server to answer PING.
const startTimeout = 10 * time.Second

// shared holds the servers of one test binary, started by the first call
// under Main and stopped when Main ends. A test binary is one process, so
// package state is the right scope here.
var shared struct {
	enabled bool
	mu      sync.Mutex
	servers map[string]*Server
}

// Main runs the tests of a package with one shared redis-server and stops
// it afterwards; call it from TestMain.
func Main(m *testing.M) {
	shared.enabled = true
	code := m.Run()
	shared.mu.Lock()
	for _, srv := range shared.servers {
		srv.Stop()
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// URL returns the URL of a Redis server for t.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		t.Logf("redis: using %s from %s", redact(u), EnvURL)
		return u
	}
	if path, err := exec.LookPath("redis-server"); err == nil {
		srv := server(t, path, "plain")
		t.Logf("redis: using redis-server %s at %s", srv.Version, srv.Addr)
		return srv.URL()
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("redis: %s=1 but neither %s is set nor redis-server is on PATH", EnvRequire, EnvURL)
	}
	m := miniredis.RunT(t)
	t.Logf("redis-server not found: using in-process miniredis at %s (set %s or install redis-server to test against real Redis)", m.Addr(), EnvURL)
	return "redis://" + m.Addr()
}

// server returns the server of the given kind ("plain" or "cluster"):
// the binary's shared one under Main, else one for this test.
func server(t testing.TB, path, kind string) *Server {
	t.Helper()
	startKind := func(dir string) (*Server, error) {
		if kind == "cluster" {
			return StartCluster(path, dir)
		}
		return Start(path, dir)
	}
	if !shared.enabled {
		srv, err := startKind(t.TempDir())
		if err != nil {
			t.Fatalf("redis: %v", err)
		}
		t.Cleanup(srv.Stop)
		return srv
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if srv := shared.servers[kind]; srv != nil {
		return srv
	}
	srv, err := startKind("")
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	if shared.servers == nil {
		shared.servers = map[string]*Server{}
	}
	shared.servers[kind] = srv
	return srv
}

// ClusterAddrs returns the seed address of a one-node Redis Cluster that
// serves every slot: Redis still refuses commands and scripts whose keys
// span slots, which is what tests of a Cluster-safe key layout need. It
// needs redis-server; without one the test is skipped (or fails under
// SYNDICATE_REQUIRE_REDIS=1).
func ClusterAddrs(t testing.TB) []string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("redis: %s=1 but redis-server is not on PATH for a cluster", EnvRequire)
		}
		t.Skip("redis-server not found: skipping the Redis Cluster test")
	}
	srv := server(t, path, "cluster")
	t.Logf("redis: using a one-node redis-server %s cluster at %s", srv.Version, srv.Addr)
	return []string{srv.Addr}
}

// StartCluster starts a one-node cluster that owns all 16384 slots and
// waits until it reports cluster_state:ok.
func StartCluster(path, dir string) (*Server, error) {
	srv, err := Start(path, dir, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if err := rdb.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("start redis cluster: add slots: %w", err)
	}
	for {
		info, err := rdb.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return srv, nil
		}
		select {
		case <-ctx.Done():
			srv.Stop()
			return nil, fmt.Errorf("start redis cluster: state not ok within %s: %v", startTimeout, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Prefix returns a key prefix unique to this call, so that tests can share
// a server and run in parallel. When the server came from REDIS_URL, the
// keys under the prefix are deleted at cleanup.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("redis prefix: %v", err)
	}
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	prefix := "test:" + name + ":" + hex.EncodeToString(b[:])
	if u := os.Getenv(EnvURL); u != "" {
		t.Cleanup(func() {
			if err := deleteKeys(u, prefix); err != nil {
				t.Errorf("redis: delete test keys: %v", err)
			}
		})
	}
	return prefix
}

func deleteKeys(rawURL, prefix string) error {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return fmt.Errorf("parse %s: invalid URL", EnvURL)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+":*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := rdb.Unlink(ctx, keys[:n]...).Err(); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// Server is a redis-server process started for tests.
type Server struct {
	Addr    string
	Version string
	cmd     *exec.Cmd
	dir     string
	ownDir  bool
	done    chan struct{}
}

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Start runs redis-server from path on a free loopback port, without
// persistence, in dir (a new temporary directory when empty), and waits
// until it answers PING. extra arguments are appended to its command line.
func Start(path, dir string, extra ...string) (*Server, error) {
	ownDir := false
	if dir == "" {
		d, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		dir, ownDir = d, true
	}
	var lastErr error
	// A free port can be taken between choosing and binding it: try again.
	for range 3 {
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		s, err := start(path, dir, port, extra)
		if err == nil {
			s.ownDir = ownDir
			return s, nil
		}
		lastErr = err
	}
	if ownDir {
		os.RemoveAll(dir)
	}
	return nil, fmt.Errorf("start redis-server: %w", lastErr)
}

func start(path, dir string, port int, extra []string) (*Server, error) {
	args := append([]string{
		"--bind", "127.0.0.1",
		"--port", fmt.Sprint(port),
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--logfile", "",
		"--loglevel", "warning",
	}, extra...)
	cmd := exec.Command(path, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		version, pid, err := ping(s.Addr)
		if err == nil && pid != cmd.Process.Pid {
			// Another server took the port first; ours will exit.
			err = fmt.Errorf("%s is served by process %d, not %d", s.Addr, pid, cmd.Process.Pid)
		}
		if err == nil {
			s.Version = version
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("redis-server exited: %s", strings.TrimSpace(out.String()))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("redis-server at %s did not answer within %s: %v", s.Addr, startTimeout, err)
		}
	}
}

// Stop kills the server and removes its directory if Start made it.
func (s *Server) Stop() {
	s.kill()
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}

func (s *Server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// ping sends PING and INFO server over a raw connection and returns the
// server's version and process id.
func ping(addr string) (version string, pid int, err error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\nINFO server\r\n")); err != nil {
		return "", 0, err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", 0, err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return "", 0, fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	line, err = r.ReadString('\n')
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
	if err != nil || !strings.HasPrefix(line, "$") {
		return "", 0, fmt.Errorf("INFO answered %q", strings.TrimSpace(line))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", 0, err
	}
	for l := range strings.Lines(string(body)) {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "redis_version:"); ok {
			version = v
		}
		if v, ok := strings.CutPrefix(l, "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	return version, pid, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener has no TCP address")
	}
	return addr.Port, nil
}

// redact hides the password of a URL for logs.
func redact(raw string) string {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return "redis at " + opt.Addr
}
