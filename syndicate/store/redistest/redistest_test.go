package redistest_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func ping(t *testing.T, url string) {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("URL %q: %v", url, err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Ping %s: %v", url, err)
	}
}

func TestURLUsesEnv(t *testing.T) {
	m := miniredis.RunT(t)
	want := "redis://" + m.Addr() + "/0"
	t.Setenv(redistest.EnvURL, want)
	if got := redistest.URL(t); got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

func TestURLServes(t *testing.T) {
	t.Setenv(redistest.EnvURL, "")
	url := redistest.URL(t)
	ping(t, url)
	if _, err := exec.LookPath("redis-server"); err != nil {
		// The fallback gives every test its own in-process server.
		return
	}
	if again := redistest.URL(t); again != url {
		t.Errorf("second URL under Main = %q, want the shared %q", again, url)
	}
}

func TestURLFallsBackToMiniredis(t *testing.T) {
	t.Setenv(redistest.EnvURL, "")
	t.Setenv(redistest.EnvRequire, "")
	t.Setenv("PATH", t.TempDir())
	ping(t, redistest.URL(t))
}

// fatalTB records Fatalf instead of ending the test.
type fatalTB struct {
	testing.TB
	fatal string
}

type fatalled struct{}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(fatalled{})
}

func TestURLRequireFails(t *testing.T) {
	t.Setenv(redistest.EnvURL, "")
	t.Setenv(redistest.EnvRequire, "1")
	t.Setenv("PATH", t.TempDir())
	tb := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatalled); !ok {
					panic(r)
				}
			}
		}()
		url := redistest.URL(tb)
		t.Errorf("URL returned %q instead of failing", url)
	}()
	if !strings.Contains(tb.fatal, redistest.EnvRequire) {
		t.Errorf("failure %q does not name %s", tb.fatal, redistest.EnvRequire)
	}
}

func TestPrefix(t *testing.T) {
	a, b := redistest.Prefix(t), redistest.Prefix(t)
	if a == b {
		t.Errorf("two prefixes are equal: %q", a)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_:-]+$`).MatchString(a) || strings.ContainsAny(a, "{}*?[]") {
		t.Errorf("prefix %q has unsafe characters", a)
	}
}

func TestPrefixKeysDeletedFromEnvServer(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv(redistest.EnvURL, "redis://"+m.Addr())
	var prefix string
	t.Run("user", func(t *testing.T) {
		prefix = redistest.Prefix(t)
		m.Set(prefix+":{d:x}:jobs", "1")
		m.Set(prefix+":feeds", "1")
	})
	m.Set("other:key", "1")
	if keys := m.Keys(); len(keys) != 1 || keys[0] != "other:key" {
		t.Errorf("keys after cleanup = %v, want only other:key", keys)
	}
}

func TestStartStop(t *testing.T) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found")
	}
	srv, err := redistest.Start(path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if srv.Version == "" || srv.Version == "unknown" {
		t.Errorf("version %q", srv.Version)
	}
	ping(t, srv.URL())
	srv.Stop()
	if c, err := net.Dial("tcp", srv.Addr); err == nil {
		c.Close()
		t.Errorf("server still answers at %s after Stop", srv.Addr)
	}
}

// TestTerminateRestart stops a server persisted with an AOF gracefully and
// starts it again: the same address answers and the written key survived,
// as the tests of a Redis outage need.
func TestTerminateRestart(t *testing.T) {
	path := redistest.ServerPath(t, "restart")
	srv, err := redistest.Start(path, t.TempDir(), "--appendonly", "yes")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer c.Close()
	if err := c.Set(ctx, "kept", "yes", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err == nil {
		t.Error("Restart of a running server succeeded")
	}
	if err := srv.Terminate(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", srv.Addr); err == nil {
		conn.Close()
		t.Fatalf("server still answers at %s after Terminate", srv.Addr)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "kept").Result()
	if err != nil || got != "yes" {
		t.Errorf("after the restart GET kept = %q, %v; want \"yes\"", got, err)
	}
}

func TestServerPathRequireFails(t *testing.T) {
	t.Setenv(redistest.EnvRequire, "1")
	t.Setenv("PATH", t.TempDir())
	tb := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatalled); !ok {
					panic(r)
				}
			}
		}()
		path := redistest.ServerPath(tb, "topology")
		t.Errorf("ServerPath returned %q instead of failing", path)
	}()
	if !strings.Contains(tb.fatal, redistest.EnvRequire) || !strings.Contains(tb.fatal, "topology") {
		t.Errorf("failure %q does not name %s and the test", tb.fatal, redistest.EnvRequire)
	}
}

// role returns what INFO replication says the server at addr is.
func role(t *testing.T, addr string) string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "replication").Result()
	if err != nil {
		t.Fatalf("INFO replication at %s: %v", addr, err)
	}
	for l := range strings.Lines(info) {
		if r, ok := strings.CutPrefix(strings.TrimSpace(l), "role:"); ok {
			return r
		}
	}
	t.Fatalf("INFO replication at %s has no role", addr)
	return ""
}

func TestStartSentinel(t *testing.T) {
	path := redistest.ServerPath(t, "Redis Sentinel")
	master, err := redistest.Start(path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(master.Stop)
	if _, err := redistest.StartSentinel(path, t.TempDir(), master, "bad name"); err == nil {
		t.Error("StartSentinel accepted a master name with a space")
	}
	s, err := redistest.StartSentinel(path, t.TempDir(), master, "mymaster")
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.MasterAddr(context.Background())
	if err != nil || addr != master.Addr {
		t.Errorf("MasterAddr = %q, %v; want %q", addr, err, master.Addr)
	}
	s.Stop()
	if c, err := net.Dial("tcp", s.Addr); err == nil {
		c.Close()
		t.Errorf("sentinel still answers at %s after Stop", s.Addr)
	}
}

func TestSentinelFailover(t *testing.T) {
	path := redistest.ServerPath(t, "Redis Sentinel failover")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	master, err := redistest.Start(path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(master.Stop)
	replica, err := redistest.StartReplica(path, t.TempDir(), master)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replica.Stop)
	if r := role(t, replica.Addr); r != "slave" {
		t.Fatalf("replica's role %q, want slave", r)
	}
	s, err := redistest.StartSentinel(path, t.TempDir(), master, "mymaster")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	addr, err := s.Failover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if addr != replica.Addr {
		t.Fatalf("master after failover %s, want the replica %s", addr, replica.Addr)
	}
	if r := role(t, replica.Addr); r != "master" {
		t.Errorf("promoted replica's role %q, want master", r)
	}
}
