package syndicate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/feed"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// feedServer serves one feed document with its ETag and answers a
// matching If-None-Match with 304. A response cut in transit has the ETag
// of the whole document.
type feedServer struct {
	mu   sync.Mutex
	doc  string
	etag string
}

func (s *feedServer) set(doc, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc, s.etag = doc, etag
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	doc, etag := s.doc, s.etag
	s.mu.Unlock()
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	_, _ = w.Write([]byte(doc))
}

// rssFeed is a document with the given items (newest first, an hour
// apart before t0), cut after cut bytes of the last one when cut > 0.
func rssFeed(cut int, keys ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title><link>https://news.example.org/</link>`)
	for i, k := range keys {
		it := fmt.Sprintf("<item><title>%s</title><guid>%s</guid><link>https://news.example.org/%s</link><pubDate>%s</pubDate><description><![CDATA[<p>About %s.</p>]]></description></item>",
			k, k, k, t0.Add(-time.Duration(i+1)*time.Hour).Format(time.RFC1123Z), k)
		if i == len(keys)-1 && cut > 0 {
			b.WriteString(it[:cut])
			return b.String()
		}
		b.WriteString(it)
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// warnings returns the warning records logged to buf, as JSON objects.
func warnings(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == "WARN" {
			out = append(out, rec)
		}
	}
	buf.Reset()
	return out
}

// salvageHarness polls one feed served by a feedServer through the real
// feed source.
func salvageHarness(t *testing.T) (*harness, *feedServer, *syndicate.Engine, *bytes.Buffer) {
	t.Helper()
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	srv := &feedServer{}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	h.feeds[0].URL = ts.URL + "/feed.xml"
	var logs bytes.Buffer
	e, err := syndicate.New(syndicate.Options{
		Store: h.store, Feeds: h.feeds, Routes: h.routes, Clock: h.clock, Owner: "test",
		Source:       feed.New(feed.Options{Client: guard.New(guard.Options{AllowPrivate: true})}),
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
		Logger:       slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, srv, e, &logs
}

func once(t *testing.T, e *syndicate.Engine) {
	t.Helper()
	if _, err := e.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSalvagedFeedIsPosted: a truncated download has its complete items
// posted, the cut one not; the poll is no failure and logs one warning;
// the validators are not kept, so the next poll downloads the whole
// document and posts the item that was cut off.
func TestSalvagedFeedIsPosted(t *testing.T) {
	h, srv, e, logs := salvageHarness(t)
	srv.set(rssFeed(0, "old"), `"v1"`)
	once(t, e)
	equal(t, "posts after first sight", h.pubs["tg"].titles(), nil)
	warnings(t, logs)

	// "new3" is cut inside its CDATA section, like a real truncation.
	if doc := rssFeed(165, "new1", "new2", "new3"); !strings.Contains(doc[strings.LastIndex(doc, "<item>"):], "<![CDATA[") {
		t.Fatalf("the cut is not inside the last item's CDATA: %q", doc[strings.LastIndex(doc, "<item>"):])
	}
	srv.set(rssFeed(165, "new1", "new2", "new3"), `"v2"`)
	once(t, e)
	equal(t, "posts from the truncated document", h.pubs["tg"].titles(), []string{"new2", "new1"})
	w := warnings(t, logs)
	if len(w) != 1 || w[0]["msg"] != "feed document damaged; planning the complete items read from it" ||
		w[0]["feed"] != "en" || w[0]["items_kept"] != float64(2) || w[0]["rest_dropped"] != true ||
		!strings.Contains(fmt.Sprint(w[0]["error"]), "unexpected EOF in CDATA section") {
		t.Errorf("warnings %v; want one saying 2 items were kept and the rest dropped, with the parse error", w)
	}
	st, err := h.store.LoadFeed(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	if st.Failures != 0 || st.LastError != "" || st.ETag != "" || !st.Primed {
		t.Errorf("feed state %+v; want no failure, no ETag kept, primed", st)
	}

	srv.set(rssFeed(0, "new1", "new2", "new3"), `"v2"`)
	once(t, e)
	equal(t, "posts from the whole document", h.pubs["tg"].titles(), []string{"new2", "new1", "new3"})
	if w := warnings(t, logs); len(w) != 0 {
		t.Errorf("warnings for a whole document: %v", w)
	}
}

// TestSalvageDoesNotPrime: a feed whose first download is truncated is not
// primed by the part read (nothing recorded, nothing posted, no failure);
// the whole document primes it, so the items that were after the cut are
// not taken for new ones.
func TestSalvageDoesNotPrime(t *testing.T) {
	h, srv, e, logs := salvageHarness(t)
	srv.set(rssFeed(120, "a", "b", "c", "d"), `"v1"`)
	once(t, e)
	w := warnings(t, logs)
	if len(w) != 1 || w[0]["msg"] != "feed document damaged before the feed was primed; waiting for a whole one" || w[0]["items_readable"] != float64(3) {
		t.Errorf("warnings %v; want one saying the feed waits for a whole document", w)
	}
	st, err := h.store.LoadFeed(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	if st.Primed || st.Failures != 0 || st.ETag != "" {
		t.Errorf("feed state %+v; want not primed, no failure, no ETag", st)
	}

	srv.set(rssFeed(0, "a", "b", "c", "d"), `"v1"`)
	once(t, e)
	srv.set(rssFeed(0, "e", "a", "b", "c", "d"), `"v2"`)
	once(t, e)
	equal(t, "posts", h.pubs["tg"].titles(), []string{"e"})
}

// TestLastingDamagePrimes: a new feed whose every download is damaged the
// same way is primed with what can be read once the damage has lasted
// three polls, and its new items are posted from then on.
func TestLastingDamagePrimes(t *testing.T) {
	h, srv, e, logs := salvageHarness(t)
	srv.set(rssFeed(120, "a", "b", "c"), `"v1"`)
	for poll := 1; poll <= 3; poll++ {
		once(t, e)
		st, err := h.store.LoadFeed(context.Background(), "en")
		if err != nil {
			t.Fatal(err)
		}
		w := warnings(t, logs)
		if poll < 3 && (st.Primed || st.PartialPolls != poll || len(w) != 1 || w[0]["partial_polls"] != float64(poll)) {
			t.Errorf("poll %d: state %+v, warnings %v; want waiting for a whole document", poll, st, w)
		}
		if poll == 3 && (!st.Primed || st.PartialPolls != 0 || len(w) != 1 || w[0]["msg"] != "feed document damaged; planning the complete items read from it") {
			t.Errorf("poll 3: state %+v, warnings %v; want primed with what could be read", st, w)
		}
	}
	equal(t, "posts when primed", h.pubs["tg"].titles(), nil)
	srv.set(rssFeed(120, "new", "a", "b", "c"), `"v2"`)
	once(t, e)
	equal(t, "posts", h.pubs["tg"].titles(), []string{"new"})
}
