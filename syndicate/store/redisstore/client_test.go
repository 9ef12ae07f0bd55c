package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
)

func TestNewClientKinds(t *testing.T) {
	tests := []struct {
		name string
		opts redisstore.ClientOptions
		want string
	}{
		{"url", redisstore.ClientOptions{URL: "redis://localhost:6379/2"}, "*redis.Client"},
		{"sentinel", redisstore.ClientOptions{MasterName: "mymaster", Addrs: []string{"s1:26379", "s2:26379"}}, "*redis.Client"},
		{"cluster", redisstore.ClientOptions{Addrs: []string{"n1:6379", "n2:6379"}}, "*redis.ClusterClient"},
		{"cluster with credentials from url", redisstore.ClientOptions{URL: "redis://u:p@ignored:1", Addrs: []string{"n1:6379"}}, "*redis.ClusterClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := redisstore.NewClient(tt.opts)
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			defer c.Close()
			var got string
			switch c.(type) {
			case *redis.Client:
				got = "*redis.Client"
			case *redis.ClusterClient:
				got = "*redis.ClusterClient"
			default:
				got = "other"
			}
			if got != tt.want {
				t.Errorf("client type %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNewClientOptions(t *testing.T) {
	c, err := redisstore.NewClient(redisstore.ClientOptions{
		URL:         "redis://user:urlpass@localhost:6380/3",
		Password:    "override",
		TLS:         true,
		DialTimeout: 2 * time.Second,
		ReadTimeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.(*redis.Client).Options()
	if o.Addr != "localhost:6380" || o.DB != 3 || o.Username != "user" || o.Password != "override" {
		t.Errorf("addr %q db %d user %q password %q", o.Addr, o.DB, o.Username, o.Password)
	}
	if o.TLSConfig == nil || o.DialTimeout != 2*time.Second || o.ReadTimeout != 3*time.Second || o.WriteTimeout != 3*time.Second {
		t.Errorf("tls %v dial %v read %v write %v", o.TLSConfig != nil, o.DialTimeout, o.ReadTimeout, o.WriteTimeout)
	}
	c2, err := redisstore.NewClient(redisstore.ClientOptions{URL: "rediss://localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.(*redis.Client).Options().TLSConfig == nil {
		t.Error("rediss:// without TLS")
	}
}

func TestNewClientErrorsHidePassword(t *testing.T) {
	const secret = "s3cr3tPW"
	for _, tt := range []struct {
		name string
		opts redisstore.ClientOptions
	}{
		{"bad database", redisstore.ClientOptions{URL: "redis://user:" + secret + "@localhost/notanumber"}},
		{"bad scheme", redisstore.ClientOptions{URL: "http://user:" + secret + "@localhost"}},
		{"unparsable", redisstore.ClientOptions{URL: "redis://user:" + secret + "@local host:port/0"}},
		{"bad port", redisstore.ClientOptions{URL: "redis://user:" + secret[:4] + "/" + secret[4:] + "@localhost/0"}},
		{"control character", redisstore.ClientOptions{URL: "redis://user:" + secret + "\n@localhost"}},
		{"cluster with database", redisstore.ClientOptions{URL: "redis://user:" + secret + "@x/4", Addrs: []string{"n1:6379"}}},
		{"nothing", redisstore.ClientOptions{Password: secret}},
		{"sentinel without addresses", redisstore.ClientOptions{MasterName: "m", Password: secret}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := redisstore.NewClient(tt.opts)
			if err == nil {
				c.Close()
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, secret[:4]) || strings.Contains(msg, secret[4:]) {
				t.Errorf("error shows the password: %s", msg)
			}
			t.Log(msg)
		})
	}
}

func TestNewClientConnects(t *testing.T) {
	m := miniredis.RunT(t)
	m.RequireUserAuth("bot", "pw")
	c, err := redisstore.NewClient(redisstore.ClientOptions{URL: "redis://bot:pw@" + m.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Errorf("Ping with credentials from the URL: %v", err)
	}
	bad, err := redisstore.NewClient(redisstore.ClientOptions{URL: "redis://bot:pw@" + m.Addr(), Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Ping(context.Background()).Err(); err == nil {
		t.Error("Ping with an overriding wrong password succeeded")
	}
}
