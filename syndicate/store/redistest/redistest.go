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
//
// Start, StartCluster, StartReplica and StartSentinel run real servers for
// tests that need a given topology: a one-node Cluster, or a master with a
// replica watched by a Sentinel that can fail it over.
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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// startTimeout bounds the wait for a started server to answer PING, and
// stopTimeout the wait for a terminated one to exit.
const (
	startTimeout = 10 * time.Second
	stopTimeout  = 15 * time.Second
)

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
	srv := server(t, ServerPath(t, "Redis Cluster"), "cluster")
	t.Logf("redis: using a one-node redis-server %s cluster at %s", srv.Version, srv.Addr)
	return []string{srv.Addr}
}

// ServerPath returns the path of redis-server for a test that needs a
// real one (what names the test in the messages): without one the test is
// skipped, or fails under SYNDICATE_REQUIRE_REDIS=1.
func ServerPath(t testing.TB, what string) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("redis: %s=1 but redis-server is not on PATH for the %s test", EnvRequire, what)
		}
		t.Skipf("redis-server not found: skipping the %s test", what)
	}
	return path
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
	path    string
	args    []string
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
	s, err := startOnFreePort(path, dir, func(dir string, port int) ([]string, error) {
		return append([]string{
			"--bind", "127.0.0.1",
			"--port", fmt.Sprint(port),
			"--save", "",
			"--appendonly", "no",
			"--dir", dir,
			"--logfile", "",
			"--loglevel", "warning",
		}, extra...), nil
	})
	if err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	return s, nil
}

// startOnFreePort runs path, with the arguments args gives for a free
// loopback port, in dir (a new temporary directory when empty), and waits
// until it answers PING. A free port can be taken between choosing and
// binding it, so it tries again with another.
func startOnFreePort(path, dir string, args func(dir string, port int) ([]string, error)) (*Server, error) {
	ownDir := false
	if dir == "" {
		d, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			return nil, err
		}
		dir, ownDir = d, true
	}
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		a, err := args(dir, port)
		if err != nil {
			lastErr = err
			break
		}
		s, err := start(path, dir, port, a)
		if err == nil {
			s.ownDir = ownDir
			return s, nil
		}
		lastErr = err
	}
	if ownDir {
		os.RemoveAll(dir)
	}
	return nil, lastErr
}

func start(path, dir string, port int, args []string) (*Server, error) {
	cmd := exec.Command(path, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), path: path, args: args, cmd: cmd, dir: dir, done: make(chan struct{})}
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

// Terminate stops the server with SIGTERM, as an operator or orchestrator
// does (it writes its AOF or RDB on the way out), and waits until it is
// gone; it is not safe for use concurrently with Restart or Stop.
func (s *Server) Terminate() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("terminate redis-server at %s: %w", s.Addr, err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("terminate redis-server at %s: still running %s after SIGTERM", s.Addr, stopTimeout)
	}
}

// Restart starts a terminated server again with the same arguments, so on
// the same port with the same directory and the data it persisted there,
// and waits until it answers PING.
func (s *Server) Restart() error {
	select {
	case <-s.done:
	default:
		return fmt.Errorf("restart redis-server at %s: still running", s.Addr)
	}
	_, p, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("restart redis-server: %w", err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("restart redis-server: port %q: %w", p, err)
	}
	n, err := start(s.path, s.dir, port, s.args)
	if err != nil {
		return fmt.Errorf("restart redis-server: %w", err)
	}
	s.cmd, s.done, s.Version = n.cmd, n.done, n.Version
	return nil
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

// StartReplica starts a server that replicates master and waits until its
// first synchronisation is done. It sets the master's diskless sync delay
// to zero, so that the synchronisation starts at once.
func StartReplica(path, dir string, master *Server) (*Server, error) {
	host, port, err := net.SplitHostPort(master.Addr)
	if err != nil {
		return nil, fmt.Errorf("start redis replica: master address: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	mc := redis.NewClient(&redis.Options{Addr: master.Addr})
	defer mc.Close()
	if err := mc.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		return nil, fmt.Errorf("start redis replica: configure master: %w", err)
	}
	srv, err := Start(path, dir, "--replicaof", host, port)
	if err != nil {
		return nil, err
	}
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rc.Close()
	for {
		info, err := rc.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return srv, nil
		}
		select {
		case <-ctx.Done():
			srv.Stop()
			return nil, fmt.Errorf("start redis replica: not in sync with %s within %s: %v", master.Addr, startTimeout, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Sentinel is a redis-server running as a Redis Sentinel that monitors
// one master.
type Sentinel struct {
	// Addr is the Sentinel's own address, the one clients are given.
	Addr       string
	MasterName string
	srv        *Server
	client     *redis.SentinelClient
}

var masterNameChars = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// StartSentinel runs redis-server from path as a Sentinel on a free
// loopback port, with its configuration file in dir (a new temporary
// directory when empty), monitoring master under masterName with a quorum
// of one, and waits until it is connected to the master and names it as
// the master.
func StartSentinel(path, dir string, master *Server, masterName string) (*Sentinel, error) {
	if !masterNameChars.MatchString(masterName) {
		return nil, fmt.Errorf("start redis sentinel: master name %q is not letters, digits, '.', '_' and '-'", masterName)
	}
	host, port, err := net.SplitHostPort(master.Addr)
	if err != nil {
		return nil, fmt.Errorf("start redis sentinel: master address: %w", err)
	}
	srv, err := startOnFreePort(path, dir, func(dir string, own int) ([]string, error) {
		// Sentinel rewrites its configuration file, so it must be its own.
		conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", own))
		text := fmt.Sprintf(`port %d
bind 127.0.0.1
protected-mode no
logfile ""
loglevel warning
sentinel resolve-hostnames no
sentinel monitor %s %s %s 1
sentinel down-after-milliseconds %s 2000
`, own, masterName, host, port, masterName)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return nil, err
		}
		return []string{conf, "--sentinel"}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("start redis sentinel: %w", err)
	}
	s := &Sentinel{
		Addr:       srv.Addr,
		MasterName: masterName,
		srv:        srv,
		client:     redis.NewSentinelClient(&redis.Options{Addr: srv.Addr}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		addr, err := s.MasterAddr(ctx)
		if err == nil && addr != master.Addr {
			err = fmt.Errorf("names %s as the master, not %s", addr, master.Addr)
		}
		if err == nil {
			var m map[string]string
			m, err = s.client.Master(ctx, masterName).Result()
			if err == nil && m["flags"] != "master" {
				err = fmt.Errorf("master flags %q", m["flags"])
			}
		}
		if err == nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			s.Stop()
			return nil, fmt.Errorf("start redis sentinel: not ready within %s: %v", startTimeout, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// MasterAddr returns the master's address as the Sentinel reports it,
// which is what clients connect to.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	hp, err := s.client.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return "", fmt.Errorf("sentinel master address: %w", err)
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel master address: got %q", hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// Failover makes the Sentinel promote a replica as if the master had
// failed, and returns the new master's address once the Sentinel reports
// it. Until the Sentinel has seen a replica it refuses, so Failover asks
// again until ctx ends.
func (s *Sentinel) Failover(ctx context.Context) (string, error) {
	old, err := s.MasterAddr(ctx)
	if err != nil {
		return "", err
	}
	for {
		err := s.client.Failover(ctx, s.MasterName).Err()
		if err == nil || strings.HasPrefix(err.Error(), "INPROG") {
			break
		}
		if !strings.HasPrefix(err.Error(), "NOGOODSLAVE") {
			return "", fmt.Errorf("sentinel failover: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("sentinel failover: no replica to promote: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for {
		addr, err := s.MasterAddr(ctx)
		if err == nil && addr != old {
			return addr, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("sentinel failover: master still %s: %w", old, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop kills the Sentinel and removes its directory if StartSentinel made
// it.
func (s *Sentinel) Stop() {
	s.client.Close()
	s.srv.Stop()
}
