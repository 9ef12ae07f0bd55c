package telegramfake

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entity is a formatting span of a parsed message, in UTF-16 code units as
// the Bot API reports them.
type Entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
	// Language is set for pre blocks with a code language.
	Language string `json:"language,omitempty"`
}

// tagKinds maps each tag Telegram accepts in HTML mode to its entity type.
var tagKinds = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"span": "spoiler", "tg-spoiler": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
	"tg-time":    "date_time",
}

type openTag struct {
	name   string
	entity Entity
	start  int // UTF-16 offset where the entity starts
}

// ParseHTML parses text in Telegram's HTML parse mode and returns the
// visible text and its entities, or an error worded like Telegram's
// "can't parse entities" answers. It is stricter than Telegram where
// Telegram silently tolerates mistakes: a bare '&' or '<', an unknown
// attribute, or a link to a scheme other than http, https or tg is an error,
// so that code tested against it never relies on leniency.
func ParseHTML(s string) (string, []Entity, error) {
	var (
		out      strings.Builder
		units    int // UTF-16 length of out
		stack    []openTag
		entities []Entity
	)
	if !utf8.ValidString(s) {
		return "", nil, fmt.Errorf("text must be encoded in UTF-8")
	}
	emit := func(r rune) {
		out.WriteRune(r)
		units += utf16.RuneLen(r)
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch c {
		case '&':
			r, n, err := decodeEntity(s, i)
			if err != nil {
				return "", nil, err
			}
			emit(r)
			i += n
		case '>':
			return "", nil, fmt.Errorf("Unexpected character '>' at byte offset %d", i)
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", i)
			}
			raw := s[i+1 : i+end]
			if strings.HasPrefix(raw, "/") {
				name := strings.ToLower(strings.TrimSpace(raw[1:]))
				if len(stack) == 0 {
					return "", nil, fmt.Errorf("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.name {
					return "", nil, fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				if units > top.start {
					e := top.entity
					e.Offset, e.Length = top.start, units-top.start
					entities = append(entities, e)
				}
				i += end + 1
				continue
			}
			tag, err := parseStartTag(raw, i)
			if err != nil {
				return "", nil, err
			}
			if err := checkNesting(stack, tag.name, i); err != nil {
				return "", nil, err
			}
			tag.start = units
			stack = append(stack, tag)
			i += end + 1
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			emit(r)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	// Telegram lists entities by offset, enclosing ones first.
	// Entities are appended as they close, inner before outer; reversing
	// first makes a stable sort put an enclosing entity of the same span
	// before the one it encloses.
	for i, j := 0, len(entities)-1; i < j; i, j = i+1, j-1 {
		entities[i], entities[j] = entities[j], entities[i]
	}
	sort.SliceStable(entities, func(i, j int) bool {
		if entities[i].Offset != entities[j].Offset {
			return entities[i].Offset < entities[j].Offset
		}
		return entities[i].Length > entities[j].Length
	})
	return out.String(), entities, nil
}

// checkNesting enforces Telegram's rules: nothing formats inside code or
// pre (except code directly in pre), links and blockquotes do not nest.
func checkNesting(stack []openTag, name string, at int) error {
	for _, o := range stack {
		switch o.name {
		case "code":
			return fmt.Errorf("Unsupported start tag \"%s\" inside \"code\" at byte offset %d", name, at)
		case "pre":
			if name != "code" {
				return fmt.Errorf("Unsupported start tag \"%s\" inside \"pre\" at byte offset %d", name, at)
			}
		case "a":
			if name == "a" {
				return fmt.Errorf("Nested links are not allowed at byte offset %d", at)
			}
		case "blockquote":
			if name == "blockquote" {
				return fmt.Errorf("Nested blockquotes are not allowed at byte offset %d", at)
			}
		}
	}
	return nil
}

func parseStartTag(raw string, at int) (openTag, error) {
	nameEnd := strings.IndexAny(raw, " \t\n\r")
	if nameEnd < 0 {
		nameEnd = len(raw)
	}
	name := strings.ToLower(raw[:nameEnd])
	kind, ok := tagKinds[name]
	if !ok || name == "" {
		return openTag{}, fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, at)
	}
	attrs, err := parseAttributes(raw[nameEnd:], at)
	if err != nil {
		return openTag{}, err
	}
	t := openTag{name: name, entity: Entity{Type: kind}}
	allowed := map[string]bool{}
	switch name {
	case "a":
		allowed["href"] = true
		href, ok := attrs["href"]
		if !ok {
			return openTag{}, fmt.Errorf("Tag \"a\" must have attribute \"href\" at byte offset %d", at)
		}
		if !validLinkURL(href) {
			return openTag{}, fmt.Errorf("Wrong URL in tag \"a\" at byte offset %d", at)
		}
		t.entity.URL = href
	case "span":
		allowed["class"] = true
		if attrs["class"] != "tg-spoiler" {
			return openTag{}, fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", at)
		}
	case "code":
		allowed["class"] = true
		if c, ok := attrs["class"]; ok && !strings.HasPrefix(c, "language-") {
			return openTag{}, fmt.Errorf("Unsupported class of tag \"code\" at byte offset %d", at)
		}
	case "tg-emoji":
		allowed["emoji-id"] = true
		if _, err := strconv.ParseInt(attrs["emoji-id"], 10, 64); err != nil {
			return openTag{}, fmt.Errorf("Invalid custom emoji identifier specified at byte offset %d", at)
		}
	case "tg-time":
		allowed["unix"], allowed["format"] = true, true
		if _, err := strconv.ParseInt(attrs["unix"], 10, 64); err != nil {
			return openTag{}, fmt.Errorf("Invalid date in tag \"tg-time\" at byte offset %d", at)
		}
	case "blockquote":
		allowed["expandable"] = true
		if _, ok := attrs["expandable"]; ok {
			t.entity.Type = "expandable_blockquote"
		}
	}
	for a := range attrs {
		if !allowed[a] {
			return openTag{}, fmt.Errorf("Unsupported attribute \"%s\" in tag \"%s\" at byte offset %d", a, name, at)
		}
	}
	return t, nil
}

func parseAttributes(s string, at int) (map[string]string, error) {
	attrs := map[string]string{}
	i := 0
	for {
		for i < len(s) && strings.IndexByte(" \t\n\r", s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			return attrs, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && strings.IndexByte(" \t\n\r", s[i]) < 0 {
			i++
		}
		name := strings.ToLower(s[start:i])
		if name == "" || strings.ContainsAny(name, "\"'<&") {
			return nil, fmt.Errorf("Invalid attribute name at byte offset %d", at)
		}
		if i >= len(s) || s[i] != '=' {
			attrs[name] = ""
			continue
		}
		i++
		var val string
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return nil, fmt.Errorf("Unclosed attribute value at byte offset %d", at)
			}
			val = s[i+1 : i+1+end]
			i += end + 2
		} else {
			start := i
			for i < len(s) && strings.IndexByte(" \t\n\r", s[i]) < 0 {
				i++
			}
			val = s[start:i]
		}
		dec, err := decodeAll(val)
		if err != nil {
			return nil, fmt.Errorf("%v in attribute value of tag at byte offset %d", err, at)
		}
		attrs[name] = dec
	}
}

func decodeAll(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			r, n, err := decodeEntity(s, i)
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			i += n
			continue
		}
		if s[i] == '<' {
			return "", fmt.Errorf("Unexpected '<'")
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), nil
}

var namedEntities = map[string]rune{"lt": '<', "gt": '>', "amp": '&', "quot": '"'}

// decodeEntity decodes the character reference at s[i] (which is '&').
func decodeEntity(s string, i int) (rune, int, error) {
	end := strings.IndexByte(s[i:], ';')
	if end < 0 || end > 12 {
		return 0, 0, fmt.Errorf("Character entity expected at byte offset %d", i)
	}
	name := s[i+1 : i+end]
	if r, ok := namedEntities[name]; ok {
		return r, end + 1, nil
	}
	if strings.HasPrefix(name, "#") {
		num := name[1:]
		base := 10
		if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
			num, base = num[1:], 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err == nil && v > 0 && v <= utf8.MaxRune && !(v >= 0xD800 && v <= 0xDFFF) {
			return rune(v), end + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("Unsupported HTML entity \"&%s;\" at byte offset %d", name, i)
}

// validLinkURL accepts the link targets we allow in text links.
func validLinkURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "tg":
		return true
	}
	return false
}

// Length is the length of visible text as the fake counts it against the
// limits: UTF-16 code units, never fewer than Telegram's code points.
func Length(text string) int {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n
}
