package config

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	durationType = reflect.TypeFor[Duration]()
	sizeType     = reflect.TypeFor[Size]()
	secretType   = reflect.TypeFor[Secret]()
)

// fileSuffix marks the sibling key that reads a Secret from a file.
const fileSuffix = "_file"

// decoder turns a YAML node tree into the config structs, reporting every
// problem instead of stopping at the first, and recording where each
// field was so that later checks can point at it.
type decoder struct {
	r        *report
	dir      string
	getenv   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	// budget bounds the nodes visited, so that aliases cannot make a small
	// file expand into an enormous amount of work.
	budget int
	// onKey, when set, sees every struct key decoded (tests use it to prove
	// the examples cover the schema).
	onKey func(t reflect.Type, key string)
	// secrets records where secrets come from.
	secrets *SecretSources
}

// field is one decodable struct field.
type field struct {
	index  int
	expand bool // "${VAR}" references are expanded (tag env:"expand")
}

func structFields(t reflect.Type) (map[string]field, []string) {
	fields := map[string]field{}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fields[name] = field{index: i, expand: f.Tag.Get("env") == "expand"}
		keys = append(keys, name)
		if f.Type == secretType {
			keys = append(keys, name+fileSuffix)
		}
	}
	sort.Strings(keys)
	return fields, keys
}

// decode fills v from n; path names v in problems.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, expand bool) {
	if !d.spend(1, n, path) {
		return
	}
	d.r.at[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if !knownTag(n.ShortTag()) {
		d.fail(n, path, "unsupported tag %s", n.Tag)
		return
	}
	d.value(n, v, path, expand, n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// value fills v from n, a node that is not an alias.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string, expand, null bool) {
	switch v.Type() {
	case durationType:
		d.decodeDuration(n, v, path, null)
		return
	case sizeType:
		d.decodeSize(n, v, path, null)
		return
	case secretType:
		d.decodeSecret(n, v, path, null)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if null && v.Type().Elem().Kind() != reflect.Struct {
			return // an explicit null leaves an optional value unset
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if !null { // "embedded:" alone means an empty block
			d.value(n, v.Elem(), path, expand, null)
		}
	case reflect.Struct:
		if !null {
			d.decodeStruct(n, v, path)
		}
	case reflect.Slice:
		if !null {
			d.decodeSlice(n, v, path, expand)
		}
	case reflect.Map:
		if !null {
			d.decodeMap(n, v, path)
		}
	case reflect.String:
		if null {
			return
		}
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, path, "a string")
			return
		}
		s := n.Value
		if expand {
			s = d.expand(n, path, s)
		}
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		if null {
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v.OverflowInt(i) {
			d.wrongType(n, path, "an integer")
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if null {
			return
		}
		tag := n.ShortTag()
		f, err := parseFloat(n.Value)
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || err != nil {
			d.wrongType(n, path, "a number")
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		if null {
			return
		}
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || err != nil {
			d.wrongType(n, path, "true or false")
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: cannot decode into %s", v.Type()))
	}
}

// parseFloat also reads YAML's ".inf" and ".nan", which checks reject
// with a clearer message than a type error.
func parseFloat(s string) (float64, error) {
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), nil
	case "-.inf":
		return math.Inf(-1), nil
	case ".nan":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

func knownTag(tag string) bool {
	switch tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!map", "!!seq", "!!merge":
		return true
	}
	return false
}

// spend takes n units of work from the budget and reports, once, when it
// runs out.
func (d *decoder) spend(n int, at *yaml.Node, path string) bool {
	if d.budget < 0 {
		return false
	}
	d.budget -= n
	if d.budget < 0 {
		d.fail(at, path, "document too complex (too many aliases expanded)")
		return false
	}
	return true
}

// fail reports that the value at path is wrong, which makes any later
// check of path or below redundant.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.r.bad[path] = true
	d.note(n, path, format, args...)
}

// note reports a problem at n that leaves the value at path usable.
func (d *decoder) note(n *yaml.Node, path, format string, args ...any) {
	d.r.addAt(pos{n.Line, n.Column}, path, format, args...)
}

// wrongType reports a node of the wrong kind. It never shows the node's
// value, which may be a secret written under the wrong key.
func (d *decoder) wrongType(n *yaml.Node, path, want string) {
	d.fail(n, path, "expected %s, got %s", want, kindName(n))
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a string"
}

func (d *decoder) expand(n *yaml.Node, path, s string) string {
	out, problems := expand(s, d.getenv)
	for _, p := range problems {
		d.fail(n, path, "%s", p)
	}
	return out
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string, null bool) {
	if null {
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!int" && n.Value != "0" {
		d.fail(n, path, "expected a duration with a unit (like 90s, 10m, 1h30m or 7d), got %s", kindName(n))
		return
	}
	dur, err := parseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "%q: %v (use a duration like 90s, 10m, 1h30m or 7d)", n.Value, err)
		return
	}
	v.Set(reflect.ValueOf(dur))
}

func (d *decoder) decodeSize(n *yaml.Node, v reflect.Value, path string, null bool) {
	if null {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a size (bytes, or like 512KiB, 10MiB, 10MB), got %s", kindName(n))
		return
	}
	size, err := parseSize(n.Value)
	if err != nil {
		d.fail(n, path, "%q: %v (use bytes, or a size like 512KiB, 10MiB, 1GiB, 10MB)", n.Value, err)
		return
	}
	v.Set(reflect.ValueOf(size))
}

func (d *decoder) decodeSecret(n *yaml.Node, v reflect.Value, path string, null bool) {
	if null {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.wrongType(n, path, "a string")
		return
	}
	if n.Value != "" && !strings.Contains(n.Value, "${") {
		d.secrets.Inline = append(d.secrets.Inline, path)
	}
	v.Set(reflect.ValueOf(NewSecret(d.expand(n, path, n.Value))))
}

// secretFile reads a Secret given by a "<key>_file" sibling.
func (d *decoder) secretFile(n *yaml.Node, v reflect.Value, path string) {
	d.r.at[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.wrongType(n, path, "a file name")
		return
	}
	if n.Value == "" {
		d.fail(n, path, "must name a file")
		return
	}
	name := n.Value
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.dir, name)
	}
	data, err := d.readFile(name)
	if err != nil {
		d.fail(n, path, "cannot read the secret: %v", err)
		return
	}
	d.secrets.Files = append(d.secrets.Files, name)
	v.Set(reflect.ValueOf(NewSecret(strings.TrimRight(string(data), "\r\n"))))
}

// entry is one key and its value in a mapping.
type entry struct{ key, val *yaml.Node }

// entries lists the keys of a mapping with "<<" merges applied; it
// reports duplicate and non-string keys.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	if !d.spend(len(n.Content)/2, n, path) {
		return nil
	}
	var out, merged []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeEntries(val, joinKey(path, "<<"))...)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.note(k, path, "keys must be strings, got %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.note(k, joinKey(path, k.Value), "duplicate key (first at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{k, val})
	}
	for _, e := range merged {
		if _, ok := seen[e.key.Value]; !ok {
			seen[e.key.Value] = e.key
			out = append(out, e)
		}
	}
	return out
}

// mergeEntries returns the entries a "<<" value brings in: a mapping, or a
// list of mappings where earlier ones win.
func (d *decoder) mergeEntries(n *yaml.Node, path string) []entry {
	if !d.spend(1+len(n.Content), n, path) {
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		var out []entry
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				continue // reported where the mapping itself is decoded
			}
			if k.ShortTag() == "!!merge" {
				out = append(out, d.mergeEntries(n.Content[i+1], path)...)
				continue
			}
			out = append(out, entry{k, n.Content[i+1]})
		}
		return out
	case yaml.SequenceNode:
		var out []entry
		for _, c := range n.Content {
			if c.Kind == yaml.AliasNode && c.Alias != nil {
				c = c.Alias
			}
			if c.Kind != yaml.MappingNode {
				d.note(c, path, "a merge needs mappings, got %s", kindName(c))
				continue
			}
			out = append(out, d.mergeEntries(c, path)...)
		}
		return out
	}
	d.note(n, path, "a merge needs a mapping or a list of mappings, got %s", kindName(n))
	return nil
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return
	}
	fields, keys := structFields(v.Type())
	type fileRef struct {
		base string
		e    entry
	}
	var files []fileRef
	given := map[string]bool{}
	for _, e := range d.entries(n, path) {
		key := e.key.Value
		if d.onKey != nil {
			d.onKey(v.Type(), key)
		}
		if f, ok := fields[key]; ok {
			given[key] = true
			d.decode(e.val, v.Field(f.index), joinKey(path, key), f.expand)
			continue
		}
		if base, ok := strings.CutSuffix(key, fileSuffix); ok {
			if f, ok := fields[base]; ok && v.Field(f.index).Type() == secretType {
				files = append(files, fileRef{base, e})
				continue
			}
		}
		if path == "" && strings.HasPrefix(key, "x-") {
			continue // extension keys hold anchors for aliases elsewhere
		}
		d.note(e.key, joinKey(path, key), "unknown key%s", suggest(key, keys))
	}
	for _, ref := range files {
		p := joinKey(path, ref.base+fileSuffix)
		if given[ref.base] {
			d.note(ref.e.key, p, "%s and %s are exclusive (give one)", ref.base, ref.base+fileSuffix)
			continue
		}
		d.secretFile(ref.e.val, v.Field(fields[ref.base].index), p)
		if d.r.bad[p] {
			d.r.bad[joinKey(path, ref.base)] = true // not also "required"
		}
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string, expand bool) {
	if n.Kind != yaml.SequenceNode {
		d.wrongType(n, path, "a list")
		return
	}
	if !d.spend(len(n.Content), n, path) {
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, s.Index(i), joinIndex(path, i), expand)
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, path, "a mapping")
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, e := range d.entries(n, path) {
		val := reflect.New(v.Type().Elem()).Elem()
		d.decode(e.val, val, joinKey(path, e.key.Value), false)
		m.SetMapIndex(reflect.ValueOf(e.key.Value).Convert(v.Type().Key()), val)
	}
	v.Set(m)
}

// suggest names the closest allowed key, or lists them all.
func suggest(key string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if dist := editDistance(key, a); dist < bestDist {
			best, bestDist = a, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (allowed: " + strings.Join(allowed, ", ") + ")"
}

// editDistance is the Levenshtein distance between two short keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
