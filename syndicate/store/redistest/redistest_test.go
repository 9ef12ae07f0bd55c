package redistest_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"

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
