// Command specgen extracts the method and type signatures (names, field
// names, types and required flags, but no prose) from a Bot API JSON
// description, so the fake can validate requests without shipping the
// documentation text.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
)

type field struct {
	Name     string   `json:"name"`
	Types    []string `json:"types"`
	Required bool     `json:"required"`
}

type entry struct {
	Name   string  `json:"name"`
	Fields []field `json:"fields"`
}

type source struct {
	Version string           `json:"version"`
	Methods map[string]entry `json:"methods"`
	Types   map[string]entry `json:"types"`
}

// Compact is the generated file: methods and types by name, each a list of fields.
type compact struct {
	Version string             `json:"version"`
	Methods map[string][]field `json:"methods"`
	Types   map[string][]field `json:"types"`
}

func main() {
	in := flag.String("in", "", "Bot API JSON description to read")
	out := flag.String("out", "spec.json", "compact spec to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	var src source
	if err := json.Unmarshal(data, &src); err != nil {
		return fmt.Errorf("decode spec %s: %w", in, err)
	}
	c := compact{Version: src.Version, Methods: strip(src.Methods), Types: strip(src.Types)}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode compact spec: %w", err)
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

func strip(m map[string]entry) map[string][]field {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	res := make(map[string][]field, len(m))
	for _, n := range names {
		fs := make([]field, 0, len(m[n].Fields))
		for _, f := range m[n].Fields {
			fs = append(fs, field{Name: f.Name, Types: f.Types, Required: f.Required})
		}
		res[n] = fs
	}
	return res
}
