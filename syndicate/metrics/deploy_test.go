package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// exposed returns every series name the worker's /metrics shows once each
// event happened, with the label names each carries; a histogram's
// _bucket, _sum and _count are listed under their own names.
func exposed(t *testing.T) map[string][]string {
	t.Helper()
	m, err := New(Options{Store: openStore(t), Destinations: []string{"tg"}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m.FeedPolled("news", "ok", time.Second)
	m.ItemsDiscovered("news", 1)
	m.Delivered("tg", "sent", time.Second)
	m.Parked("tg")
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string][]string{}
	for _, f := range families {
		var labels []string
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		names[f.GetName()] = labels
		if f.GetType().String() == "HISTOGRAM" {
			names[f.GetName()+"_sum"], names[f.GetName()+"_count"] = labels, labels
			names[f.GetName()+"_bucket"] = append(slices.Clone(labels), "le")
		}
	}
	return names
}

var (
	// seriesRef is a series named in PromQL, with its label matchers.
	seriesRef = regexp.MustCompile(`\b((?:syndicate|process|go)_[a-z0-9_]+)\b(\{[^}]*\})?`)
	matcher   = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)`)
	grouping  = regexp.MustCompile(`\b(?:by|on|without|ignoring)\s*\(([^)]*)\)`)
)

// checkExpr fails when expr names a series the worker does not expose, or a
// label that none of its series carries.
func checkExpr(t *testing.T, where, expr string, names map[string][]string) {
	t.Helper()
	refs := seriesRef.FindAllStringSubmatch(expr, -1)
	if len(refs) == 0 {
		t.Errorf("%s: %q names no series of the worker", where, expr)
	}
	var labels []string
	for _, r := range refs {
		l, ok := names[r[1]]
		if !ok {
			t.Errorf("%s: %s is not exposed by the worker", where, r[1])
			continue
		}
		labels = append(labels, l...)
		for _, m := range matcher.FindAllStringSubmatch(r[2], -1) {
			if !slices.Contains(l, m[1]) {
				t.Errorf("%s: %s has no label %q", where, r[1], m[1])
			}
		}
	}
	for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			// instance is added by Prometheus to every scraped series.
			if l = strings.TrimSpace(l); l != "" && l != "instance" && !slices.Contains(labels, l) {
				t.Errorf("%s: groups by %q, which none of its series carries", where, l)
			}
		}
	}
	if strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") {
		t.Errorf("%s: unbalanced brackets in %q", where, expr)
	}
}

// TestAlertRules: the shipped Prometheus rules are well formed and use
// only series and labels the worker exposes, and the alerts the operators
// rely on are there.
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	names := exposed(t)
	var alerts []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v lacks a name, expression, severity or summary", r)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			checkExpr(t, r.Alert, r.Expr, names)
		}
	}
	for _, want := range []string{"SyndicateDeliveryParked", "SyndicateDestinationPaused", "SyndicateQueueStale", "SyndicateFeedFailing", "SyndicateStoreDown"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s in %v", want, alerts)
		}
	}
}

// TestDashboard: every panel of the shipped Grafana dashboard queries the
// dashboard's data source with series and labels the worker exposes.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("../../deploy/grafana/syndicate.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string
		Panels []struct {
			Title   string
			Targets []struct {
				Expr       string
				Datasource struct{ UID string }
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	names := exposed(t)
	used := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q queries data source %q, want the dashboard's ${datasource}", p.Title, q.Datasource.UID)
			}
			checkExpr(t, p.Title, q.Expr, names)
			for _, r := range seriesRef.FindAllStringSubmatch(q.Expr, -1) {
				used[strings.TrimSuffix(r[1], "_bucket")] = true
			}
		}
	}
	// Every series of the worker's own is on the dashboard.
	for name := range names {
		if strings.HasPrefix(name, "syndicate_") && !strings.HasSuffix(name, "_sum") && !strings.HasSuffix(name, "_count") && !strings.HasSuffix(name, "_bucket") && !used[name] {
			t.Errorf("%s is on no panel", name)
		}
	}
}

// TestAlertRulesWithPromtool runs Prometheus's own checker and the rules'
// unit tests (deploy/prometheus/alerts_test.yaml), which evaluate each
// alert over sample series: CI installs promtool and sets
// SYNDICATE_REQUIRE_PROMTOOL=1; elsewhere the test is skipped without it.
func TestAlertRulesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("SYNDICATE_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool is required (SYNDICATE_REQUIRE_PROMTOOL=1) but not installed")
		}
		t.Skip("promtool not installed (Debian: apt-get install prometheus)")
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../deploy/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
