// Package feedyaml writes feed entries, and routes from them, as YAML that
// merges into a syndicate config: the output of the commands that find
// feeds for the operator (discover, import-opml).
package feedyaml

import (
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/syndicate-bot/syndicate/config"
)

// Feed is one entry of the config's feeds list.
type Feed struct {
	ID  string
	URL string
	// Language is left out when empty.
	Language string
	// PollInterval is left out when empty.
	PollInterval string
	// Comment goes on the line above the entry (a title, where it came
	// from); empty for none.
	Comment string
}

// Route is one entry of the config's routes list.
type Route struct {
	Feeds []string
	To    []string
}

// Doc is what a command prints: feeds and routes, with a comment on top.
type Doc struct {
	Comment string
	Feeds   []Feed
	Routes  []Route
}

// Write writes d as YAML with top-level feeds and routes keys, so that it
// can be pasted into (or appended to) a config without those keys.
func Write(w io.Writer, d Doc) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	feeds := &yaml.Node{Kind: yaml.SequenceNode}
	for _, f := range d.Feeds {
		m := &yaml.Node{Kind: yaml.MappingNode, HeadComment: comment(f.Comment)}
		m.Content = append(m.Content, str("id"), str(f.ID), str("url"), str(f.URL))
		if f.Language != "" {
			m.Content = append(m.Content, str("language"), str(f.Language))
		}
		if f.PollInterval != "" {
			m.Content = append(m.Content, str("poll_interval"), str(f.PollInterval))
		}
		feeds.Content = append(feeds.Content, m)
	}
	root.Content = append(root.Content, str("feeds"), feeds)
	if len(d.Routes) > 0 {
		routes := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range d.Routes {
			routes.Content = append(routes.Content, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
				str("feeds"), flow(r.Feeds), str("to"), flow(r.To),
			}})
		}
		root.Content = append(root.Content, str("routes"), routes)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: comment(d.Comment), Content: []*yaml.Node{root}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	return enc.Close()
}

// str is a string scalar; the tag makes the encoder quote values that
// would read back as numbers or booleans (an id like "1984").
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// flow is a list on one line ("[a, b]") while it is short, one item a
// line otherwise, so that a route from a big import stays readable.
func flow(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	width := 0
	for _, s := range ss {
		n.Content = append(n.Content, str(s))
		width += len(s) + 2
	}
	if width > 60 {
		n.Style = 0
	}
	return n
}

// comment keeps a comment to lines of text: a line break in a feed's title
// must not end the comment and start YAML.
func comment(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n")
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, "# "+l)
		}
	}
	return strings.Join(out, "\n")
}

// maxID is the longest id the config accepts.
const maxID = 64

// IDs hands out feed ids that are unique within one output and among the
// ids it was told are taken.
type IDs struct {
	used map[string]bool
}

// NewIDs returns an allocator that never hands out taken.
func NewIDs(taken ...string) *IDs {
	ids := &IDs{used: map[string]bool{}}
	for _, t := range taken {
		ids.used[t] = true
	}
	return ids
}

// Take returns base made valid as an id, with "-2", "-3"… appended when an
// earlier call (or a taken id) has it already.
func (ids *IDs) Take(base string) string {
	base = Clean(base)
	if !ids.used[base] {
		ids.used[base] = true
		return base
	}
	for n := 2; ; n++ {
		suffix := "-" + strconv.Itoa(n)
		id := strings.TrimRight(base[:min(len(base), maxID-len(suffix))], "-.") + suffix
		if !ids.used[id] {
			ids.used[id] = true
			return id
		}
	}
}

// Clean maps s onto the characters ids allow: lower-case letters and
// digits kept, "_", "." and "-" kept inside, anything else a "-", at most
// 64 characters; "feed" when nothing is left.
func Clean(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	id := b.String()
	if len(id) > maxID {
		id = id[:maxID]
	}
	id = strings.TrimLeft(strings.TrimRight(id, "-._"), "._")
	if !config.IsID(id) {
		return "feed"
	}
	return id
}

// feedWords are path parts that name the feed format rather than what the
// feed holds, left out of ids.
var feedWords = map[string]bool{
	"feed": true, "feeds": true, "rss": true, "rss2": true, "atom": true, "rdf": true,
	"json": true, "index": true, "xml": true,
}

// FromURL derives an id from a feed URL's host and path: the host without
// "www." and port, then the path's parts without those that only name a
// feed format ("https://www.example.org/ar/feed/" gives
// "example.org-ar"). It depends on the URL only, so an import of the same
// list gives the same ids.
func FromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Clean(raw)
	}
	parts := []string{strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")}
	for _, seg := range strings.Split(u.Path, "/") {
		seg = strings.ToLower(seg)
		if ext := path.Ext(seg); ext == ".xml" || ext == ".rss" || ext == ".atom" || ext == ".json" || ext == ".rdf" || ext == ".php" {
			seg = strings.TrimSuffix(seg, ext)
		}
		if seg == "" || feedWords[seg] {
			continue
		}
		parts = append(parts, seg)
	}
	return Clean(strings.Join(parts, "-"))
}
