package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// exampleEnv provides every variable the deploy examples reference.
var exampleEnv = map[string]string{
	"TELEGRAM_TOKEN":      "123456:example-telegram-token",
	"MASTODON_TOKEN":      "mastodon-token",
	"MASTODON_TOKEN_EN":   "mastodon-token-en",
	"MASTODON_TOKEN_FA":   "mastodon-token-fa",
	"MASTODON_TOKEN_SQ":   "mastodon-token-sq",
	"MASTODON_FA_HOST":    "fa.mastodon.example",
	"REDIS_URL":           "redis://redis:6379/0",
	"SENTINEL_2_HOST":     "sentinel-2.sentinel",
	"SENTINEL_PASSWORD":   "sentinel-secret",
	"UNUSED_BUT_HARMLESS": "x",
}

// exampleSecrets are the files the examples read secrets from.
var exampleSecrets = map[string]string{
	"/run/secrets/mastodon_ar_token": "mastodon-token-ar\n",
	"/run/secrets/redis_url":         "rediss://syndicate:from-url@ignored:6379/2\n",
	"/run/secrets/redis_password":    "redis-secret\n",
	"/run/secrets/telegram_token":    "654321:token-from-file\n",
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// exampleOptions serves the secret files from memory and everything else
// (the examples and their templates) from disk.
func exampleOptions() LoadOptions {
	return LoadOptions{
		Getenv: mapEnv(exampleEnv),
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := exampleSecrets[name]; ok {
				return []byte(s), nil
			}
			if strings.HasPrefix(name, "/run/") {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			return os.ReadFile(name)
		},
		Version: "1.2.3",
	}
}

func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "deploy", "config*.example.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("example configs not found: %v %v", files, err)
	}
	return files
}

func TestExamplesLoad(t *testing.T) {
	for _, file := range exampleFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := Load(file, exampleOptions())
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Path != file {
				t.Errorf("Path = %q, want %q", cfg.Path, file)
			}
		})
	}
}

func TestExampleEffectiveValues(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "deploy", "config.example.yaml"), exampleOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Store.Retention.D(); got != 90*24*time.Hour {
		t.Errorf("retention = %v", got)
	}
	en, ar, fa := cfg.Feed("en"), cfg.Feed("ar"), cfg.Feed("fa")
	if en == nil || ar == nil || fa == nil || cfg.Feed("nope") != nil {
		t.Fatalf("Feed lookups: en=%v ar=%v fa=%v", en, ar, fa)
	}
	if got := cfg.FeedPollInterval(en); got != 10*time.Minute {
		t.Errorf("en poll interval = %v, want the default 10m", got)
	}
	if got := cfg.FeedPollInterval(ar); got != 15*time.Minute {
		t.Errorf("ar poll interval = %v, want 15m", got)
	}
	if got := cfg.FeedMaxAge(fa); got != 48*time.Hour {
		t.Errorf("fa max age = %v, want 48h", got)
	}
	if got := cfg.Backfill(&cfg.Routes[3], fa); got != 3 {
		t.Errorf("fa backfill = %d, want the feed's 3", got)
	}
	if got := cfg.Backfill(&cfg.Routes[1], en); got != 1 {
		t.Errorf("newsletter route backfill = %d, want the route's 1", got)
	}
	if got := cfg.Backfill(&cfg.Routes[0], en); got != 0 {
		t.Errorf("en backfill = %d, want 0", got)
	}
	kind, tg, md := cfg.Destination("tg-ar")
	if kind != KindTelegram || tg == nil || md != nil {
		t.Fatalf("Destination(tg-ar) = %q %v %v", kind, tg, md)
	}
	if tg.Bot != "main" {
		t.Errorf("tg-ar bot = %q, want the only bot", tg.Bot)
	}
	if got := cfg.DeliveryPolicy("tg-ar"); got != (Delivery{MaxAttempts: 20, MaxAge: Duration(24 * time.Hour), OnAmbiguous: "resend"}) {
		t.Errorf("tg-ar delivery = %+v", got)
	}
	if got := cfg.DeliveryPolicy("tg-sq"); got != (Delivery{MaxAttempts: 10, MaxAge: Duration(12 * time.Hour), OnAmbiguous: "unknown"}) {
		t.Errorf("tg-sq delivery = %+v", got)
	}
	kind, tg, md = cfg.Destination("md-ar")
	if kind != KindMastodon || tg != nil || md == nil {
		t.Fatalf("Destination(md-ar) = %q %v %v", kind, tg, md)
	}
	if md.AccessToken.Value() != "mastodon-token-ar" {
		t.Error("md-ar token was not read from its file with the newline trimmed")
	}
	if k, _, _ := cfg.Destination("nope"); k != "" {
		t.Errorf("Destination(nope) kind = %q", k)
	}
	_, _, mdFa := cfg.Destination("md-fa")
	if mdFa.Server != "https://fa.mastodon.example" {
		t.Errorf("md-fa server = %q, want ${MASTODON_FA_HOST} expanded", mdFa.Server)
	}
	if !strings.Contains(mdFa.Format.Template, "{{.Title}}") {
		t.Errorf("md-fa template was not read from template_file: %q", mdFa.Format.Template)
	}
	bot := cfg.Bot("main")
	if bot == nil || bot.Token.Value() != exampleEnv["TELEGRAM_TOKEN"] || *bot.PerSecond != 30 {
		t.Errorf("bot main = %+v", bot)
	}
	_, tgSq, _ := cfg.Destination("tg-sq")
	if tgSq.Format.Buttons == nil || len(tgSq.Format.Buttons) != 0 {
		t.Errorf("tg-sq buttons = %#v, want an explicit empty list", tgSq.Format.Buttons)
	}
	_, tgFa, _ := cfg.Destination("tg-fa")
	if want := []string{"read", "telegram", "whatsapp", "x", "facebook"}; !reflect.DeepEqual(tgFa.Format.Buttons, want) {
		t.Errorf("tg-fa buttons = %v, want the default %v", tgFa.Format.Buttons, want)
	}
	if cfg.Network.Media.MaxBytes != 20<<20 || *cfg.Network.Feeds.AllowPrivate != true || *cfg.Network.Media.AllowPrivate != false {
		t.Errorf("network = %+v", cfg.Network)
	}
}

func TestRedisExamples(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "deploy", "config.redis.example.yaml"), exampleOptions())
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Store.Redis
	if r == nil || cfg.Store.Embedded != nil || r.URL.Value() != "redis://redis:6379/0" || r.KeyPrefix != "syndicate" {
		t.Fatalf("redis store = %+v", cfg.Store)
	}
	if cfg.Network.UserAgent != "syndicate/1.2.3 (+https://github.com/syndicate-bot/syndicate)" {
		t.Errorf("user agent = %q, want the injected version", cfg.Network.UserAgent)
	}

	cfg, err = Load(filepath.Join("..", "deploy", "config.sentinel.example.yaml"), exampleOptions())
	if err != nil {
		t.Fatal(err)
	}
	r = cfg.Store.Redis
	if r.Password.Value() != "redis-secret" || r.Sentinel.Password.Value() != "sentinel-secret" {
		t.Error("sentinel example secrets not resolved")
	}
	if want := "sentinel-2.sentinel:26379"; r.Sentinel.Addrs[2] != want {
		t.Errorf("addrs[2] = %q, want %q", r.Sentinel.Addrs[2], want)
	}
	if r.DialTimeout.D() != 5*time.Second || r.OpTimeout.D() != 3*time.Second {
		t.Errorf("redis timeouts = %v %v", r.DialTimeout, r.OpTimeout)
	}
}

// commentedOnly are keys that cannot appear uncommented in the examples
// without breaking the deployments that use them or an exclusive pair;
// they must at least appear in a comment.
var commentedOnly = map[string]string{
	"Redis.password":         "password",
	"Redis.cluster":          "cluster",
	"Cluster.addrs":          "addrs",
	"Sentinel.password_file": "password_file",
	// Proxies depend on the network a deployment runs in.
	"Network.platforms": "platforms",
	"Limits.proxy":      "proxy",
	"Limits.proxy_file": "proxy_file",
	"Limits.no_proxy":   "no_proxy",
	"Proxy.proxy":       "proxy",
	"Proxy.proxy_file":  "proxy_file",
	"Proxy.no_proxy":    "no_proxy",
}

// TestExamplesCoverSchema proves that every key of the schema appears in
// an example, so the examples cannot fall behind the code.
func TestExamplesCoverSchema(t *testing.T) {
	want := map[string]bool{}
	schemaKeys(reflect.TypeFor[Config](), map[reflect.Type]bool{}, want)

	used := map[string]bool{}
	var text strings.Builder
	for _, file := range exampleFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(data)
		_, r := parse(file, data, exampleOptions().withDefaults(), func(st reflect.Type, key string) {
			used[st.Name()+"."+key] = true
		})
		if err := r.err(); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	var missing []string
	for k := range want {
		if used[k] {
			continue
		}
		if key, ok := commentedOnly[k]; ok {
			if regexp.MustCompile(`(?m)^\s*#\s*` + key + `:`).MatchString(text.String()) {
				continue
			}
		}
		missing = append(missing, k)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("keys missing from deploy/config*.example.yaml: %s", strings.Join(missing, ", "))
	}
	for k := range used {
		if !want[k] {
			t.Errorf("the examples use %s, which the schema walk does not know", k)
		}
	}
}

func schemaKeys(t reflect.Type, seen map[reflect.Type]bool, out map[string]bool) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		schemaKeys(t.Elem(), seen, out)
		return
	case reflect.Struct:
	default:
		return
	}
	if seen[t] || t == secretType {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[t.Name()+"."+name] = true
		if f.Type == secretType {
			out[t.Name()+"."+name+fileSuffix] = true
		}
		schemaKeys(f.Type, seen, out)
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load("/etc/syndicate/missing.yaml", LoadOptions{ReadFile: func(string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: "/etc/syndicate/missing.yaml", Err: fs.ErrNotExist}
	}})
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.Problems) != 1 || !strings.Contains(err.Error(), "file does not exist") {
		t.Fatalf("err = %v", err)
	}
}
