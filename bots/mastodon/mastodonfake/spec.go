package mastodonfake

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// specJSON is the part of the Mastodon OpenAPI description the fake serves:
// paths, methods and parameter names, types and required flags only,
// extracted by TestSpecUpToDate. Embedded so the fake works in any binary.
//
//go:embed spec.json
var specJSON []byte

// Spec is a compact description of the operations the fake serves.
type Spec struct {
	Source     string      `json:"source"`
	Operations []Operation `json:"operations"`
}

// Operation is one method on one path.
type Operation struct {
	Method string  `json:"method"`
	Path   string  `json:"path"`
	Params []Param `json:"params"`
	// OneOf lists alternative sets of required body parameters (a status
	// needs text, media or a poll).
	OneOf [][]string `json:"one_of,omitempty"`
}

// Param is a parameter of an operation.
type Param struct {
	Name     string   `json:"name"`
	In       string   `json:"in"` // path, query, header, body
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Enum     []string `json:"enum,omitempty"`
}

func loadSpec() (Spec, error) {
	var s Spec
	if err := json.Unmarshal(specJSON, &s); err != nil {
		return Spec{}, fmt.Errorf("embedded spec: %w", err)
	}
	return s, nil
}

// match finds the operation for a method and path, with its path values.
func (s Spec) match(method, path string) (*Operation, map[string]string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := range s.Operations {
		op := &s.Operations[i]
		if op.Method != method {
			continue
		}
		tmpl := strings.Split(strings.Trim(op.Path, "/"), "/")
		if len(tmpl) != len(parts) {
			continue
		}
		vals := map[string]string{}
		ok := true
		for j, t := range tmpl {
			if strings.HasPrefix(t, "{") {
				vals[strings.Trim(t, "{}")] = parts[j]
				continue
			}
			if t != parts[j] {
				ok = false
				break
			}
		}
		if ok {
			return op, vals
		}
	}
	return nil, nil
}

// paramName reduces a Rails-style form name to the name in the spec:
// "media_ids[]" and "media_attributes[][id]" → "media_ids",
// "media_attributes".
func paramName(n string) string {
	if i := strings.IndexByte(n, '['); i >= 0 {
		return n[:i]
	}
	return n
}

// validate checks a request's query and body values against the
// operation: unknown names, missing required ones and wrong types are
// errors.
func (op *Operation) validate(query, body url.Values, files []string) []string {
	var errs []string
	known := map[string]Param{}
	for _, p := range op.Params {
		known[paramName(p.Name)] = p
	}
	check := func(in string, vals url.Values) {
		for name, vs := range vals {
			p, ok := known[paramName(name)]
			if !ok || (p.In != in && !(in == "body" && p.In == "query")) {
				errs = append(errs, fmt.Sprintf("unknown %s parameter %q", in, name))
				continue
			}
			for _, v := range vs {
				if e := checkType(p, v); e != "" {
					errs = append(errs, fmt.Sprintf("parameter %q: %s", name, e))
				}
			}
		}
	}
	check("query", query)
	check("body", body)
	present := func(n string) bool {
		for name := range body {
			if paramName(name) == paramName(n) {
				return true
			}
		}
		for name := range query {
			if paramName(name) == paramName(n) {
				return true
			}
		}
		return slices.Contains(files, paramName(n))
	}
	for _, f := range files {
		if p, ok := known[f]; !ok || p.Type != "binary" {
			errs = append(errs, fmt.Sprintf("unknown file parameter %q", f))
		}
	}
	for _, p := range op.Params {
		if p.Required && (p.In == "body" || p.In == "query") && !present(p.Name) {
			errs = append(errs, fmt.Sprintf("missing required parameter %q", p.Name))
		}
	}
	if len(op.OneOf) > 0 {
		any := false
		for _, set := range op.OneOf {
			all := true
			for _, n := range set {
				all = all && present(n)
			}
			any = any || all
		}
		if !any {
			errs = append(errs, fmt.Sprintf("one of %v is required", op.OneOf))
		}
	}
	return errs
}

func checkType(p Param, v string) string {
	switch p.Type {
	case "boolean":
		if _, err := strconv.ParseBool(v); err != nil {
			return "not a boolean: " + strconv.Quote(v)
		}
	case "integer":
		if _, err := strconv.Atoi(v); err != nil {
			return "not an integer: " + strconv.Quote(v)
		}
	case "binary":
		return "must be a file"
	}
	if len(p.Enum) > 0 && !slices.Contains(p.Enum, v) {
		return fmt.Sprintf("%q not one of %v", v, p.Enum)
	}
	return ""
}
