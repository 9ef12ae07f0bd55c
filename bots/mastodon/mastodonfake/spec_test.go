package mastodonfake

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

var updateSpec = flag.Bool("update-spec", false, "regenerate spec.json from ../shared/spec/mastodon-openapi.json")

// usedOperations are the operations the client and the fake use; only
// these are extracted.
var usedOperations = [][2]string{
	{"GET", "/api/v1/instance"},
	{"GET", "/api/v2/instance"},
	{"GET", "/api/v1/accounts/verify_credentials"},
	{"GET", "/api/v1/apps/verify_credentials"},
	{"GET", "/api/v1/accounts/{id}/statuses"},
	{"POST", "/api/v1/statuses"},
	{"GET", "/api/v1/statuses/{id}"},
	{"PUT", "/api/v1/statuses/{id}"},
	{"POST", "/api/v2/media"},
	{"POST", "/api/v1/media"},
	{"GET", "/api/v1/media/{id}"},
	{"PUT", "/api/v1/media/{id}"},
}

// sharedSpec finds the OpenAPI description next to the repository, or
// skips: the fake must build and test without it.
func sharedSpec(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "spec", "mastodon-openapi.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present; spec.json is checked only where the shared folder exists", p)
	}
	return p
}

// TestSpecUpToDate regenerates the compact spec (with -update-spec) or
// checks that the embedded one matches the OpenAPI description. Only
// structure is taken: no description text.
func TestSpecUpToDate(t *testing.T) {
	path := sharedSpec(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	spec, err := extract(doc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if *updateSpec {
		if err := os.WriteFile("spec.json", out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out, specJSON) {
		t.Errorf("spec.json is stale; run go test -run TestSpecUpToDate -update-spec")
	}
}

func extract(doc map[string]any) (Spec, error) {
	info, _ := doc["info"].(map[string]any)
	spec := Spec{Source: fmt.Sprintf("mastodon-openapi %v (structure only)", info["version"])}
	paths, _ := doc["paths"].(map[string]any)
	schemas, _ := dig(doc, "components", "schemas").(map[string]any)
	resolve := func(v any) map[string]any {
		m, _ := v.(map[string]any)
		for m != nil {
			ref, ok := m["$ref"].(string)
			if !ok {
				break
			}
			m, _ = schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		}
		return m
	}
	for _, u := range usedOperations {
		op, _ := dig(paths, u[1], strings.ToLower(u[0])).(map[string]any)
		if op == nil {
			return Spec{}, fmt.Errorf("%s %s not in the description", u[0], u[1])
		}
		o := Operation{Method: u[0], Path: u[1]}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := resolve(p)
			name, _ := pm["name"].(string)
			in, _ := pm["in"].(string)
			req, _ := pm["required"].(bool)
			o.Params = append(o.Params, Param{Name: name, In: in, Type: typeOf(resolve(pm["schema"])), Required: req})
		}
		content, _ := dig(op, "requestBody", "content").(map[string]any)
		var bodySchema map[string]any
		for _, ct := range []string{"application/json", "multipart/form-data"} {
			if s := resolve(dig(content, ct, "schema")); s != nil {
				bodySchema = s
				break
			}
		}
		props := map[string]Param{}
		var collect func(s map[string]any, required bool) []string
		collect = func(s map[string]any, required bool) []string {
			var reqs []string
			for _, sub := range anySlice(s["allOf"]) {
				reqs = append(reqs, collect(resolve(sub), required)...)
			}
			pr, _ := s["properties"].(map[string]any)
			for name, v := range pr {
				ps := resolve(v)
				p := Param{Name: name, In: "body", Type: typeOf(ps)}
				for _, x := range anySlice(ps["enum"]) {
					p.Enum = append(p.Enum, fmt.Sprint(x))
				}
				props[name] = p
			}
			for _, r := range anySlice(s["required"]) {
				reqs = append(reqs, fmt.Sprint(r))
			}
			return reqs
		}
		if bodySchema != nil {
			if alts := anySlice(bodySchema["oneOf"]); len(alts) > 0 {
				for _, a := range alts {
					set := collect(resolve(a), false)
					sort.Strings(set)
					o.OneOf = append(o.OneOf, set)
				}
			} else {
				for _, r := range collect(bodySchema, true) {
					if p, ok := props[r]; ok {
						p.Required = true
						props[r] = p
					}
				}
			}
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			o.Params = append(o.Params, props[n])
		}
		spec.Operations = append(spec.Operations, o)
	}
	return spec, nil
}

func typeOf(s map[string]any) string {
	if s == nil {
		return "string"
	}
	if f, _ := s["format"].(string); f == "binary" {
		return "binary"
	}
	if t, ok := s["type"].(string); ok {
		return t
	}
	return "string"
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestSpecHasWhatTheClientSends(t *testing.T) {
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	op, vals := s.match("PUT", "/api/v1/statuses/123")
	if op == nil || vals["id"] != "123" {
		t.Fatalf("PUT statuses not matched: %v %v", op, vals)
	}
	post, _ := s.match("POST", "/api/v1/statuses")
	var names []string
	for _, p := range post.Params {
		names = append(names, p.Name)
	}
	for _, want := range []string{"status", "media_ids", "visibility", "language", "sensitive", "spoiler_text", "Idempotency-Key"} {
		if !slices.Contains(names, want) {
			t.Errorf("POST /api/v1/statuses lacks %q: %v", want, names)
		}
	}
}
