// Package config loads the operator's YAML configuration strictly: unknown
// keys, wrong types, dangling references and impossible values are all
// reported at once with their line and column, secrets come from the
// environment or files and never reach an error message, and every
// default is applied so that the rest of the program reads final values.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadOptions are the outside world a load depends on, injectable for tests.
type LoadOptions struct {
	// Getenv looks up "${NAME}" references (nil: os.LookupEnv).
	Getenv func(string) (string, bool)
	// ReadFile reads the config, "*_file" secrets and template files
	// (nil: os.ReadFile).
	ReadFile func(string) ([]byte, error)
	// Version goes into the default user agent (empty: "dev").
	Version string
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.Getenv == nil {
		o.Getenv = os.LookupEnv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	return o
}

// Load reads, decodes, resolves, completes and validates the config file
// at path. Any error is an *Errors listing every problem found.
func Load(path string, opts LoadOptions) (*Config, error) {
	opts = opts.withDefaults()
	data, err := opts.ReadFile(path)
	if err != nil {
		return nil, &Errors{Problems: []Problem{{File: path, Msg: fmt.Sprintf("cannot read the config: %v", err)}}}
	}
	return Parse(path, data, opts)
}

// Parse is Load for a config already in memory; name is used in problems
// and relative file names are resolved against its directory.
func Parse(name string, data []byte, opts LoadOptions) (*Config, error) {
	cfg, r := parse(name, data, opts.withDefaults(), nil)
	if err := r.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parse does the work of Parse and also returns the report, whose
// positions tests inspect; onKey is passed to the decoder.
func parse(name string, data []byte, opts LoadOptions, onKey func(reflect.Type, string)) (*Config, *report) {
	r := newReport(name)
	root, ok := parseYAML(r, data)
	if !ok {
		return nil, r
	}
	cfg := &Config{Path: name}
	d := &decoder{
		r:        r,
		dir:      filepath.Dir(name),
		getenv:   opts.Getenv,
		readFile: opts.ReadFile,
		budget:   10*len(data) + 10000,
		onKey:    onKey,
	}
	d.secrets = &cfg.Secrets
	if root != nil {
		d.decode(root, reflect.ValueOf(cfg).Elem(), "", false)
	} else {
		r.at[""] = pos{1, 1}
	}
	if d.budget < 0 {
		return cfg, r // the tree is incomplete: checking it would only add noise
	}
	readTemplates(cfg, r, d)
	applyDefaults(cfg, opts.Version)
	validate(cfg, r)
	return cfg, r
}

var (
	yamlLine      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// parserProblems are the YAML library's parser (not scanner) messages; it
// reports their line 0-based and at the start of the enclosing block.
var parserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document",
	"found undefined tag handle",
}

// parseYAML parses the single YAML document in data; a nil node means an
// empty file.
func parseYAML(r *report, data []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		r.problems = append(r.problems, syntaxProblem(r.file, data, err))
		return nil, false
	}
	var extra yaml.Node
	if err := safeDecode(dec, &extra); !errors.Is(err, io.EOF) {
		line := 0
		if err == nil {
			line = extra.Line
		}
		r.problems = append(r.problems, Problem{File: r.file, Line: line, Msg: "only one YAML document is allowed"})
		return nil, false
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], true
	}
	return nil, true
}

// syntaxProblem locates a YAML syntax error as well as the library's
// message allows: a line, and for an unknown alias its column.
func syntaxProblem(file string, data []byte, err error) Problem {
	p := Problem{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(p.Msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = m[2]
	}
	if m := unknownAnchor.FindStringSubmatch(p.Msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			p.Line = bytes.Count(data[:i], []byte("\n")) + 1
			p.Column = i - bytes.LastIndexByte(data[:i], '\n')
		}
		return p
	}
	if p.Line == 0 || slices.Contains(parserProblems, p.Msg) {
		p.Line++
	}
	return p
}

// safeDecode turns a panic inside the YAML parser on hostile input into
// an error, so that a bad file is reported rather than fatal.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml: cannot parse: %v", p)
		}
	}()
	return dec.Decode(n)
}

// readTemplates replaces each template_file by its content in Template,
// so that renderers see one field.
func readTemplates(cfg *Config, r *report, d *decoder) {
	read := func(path string, text *string, file string) {
		if file == "" {
			return
		}
		if *text != "" {
			r.add(path+".template_file", "template and template_file are exclusive (give one)")
			return
		}
		name := file
		if !filepath.IsAbs(name) {
			name = filepath.Join(d.dir, name)
		}
		data, err := d.readFile(name)
		if err != nil {
			r.add(path+".template_file", "cannot read the template: %v", err)
			return
		}
		*text = string(data)
	}
	for i := range cfg.Telegram.Channels {
		f := &cfg.Telegram.Channels[i].Format
		read(joinIndex("telegram.channels", i)+".format", &f.Template, f.TemplateFile)
	}
	for i := range cfg.Mastodon.Accounts {
		f := &cfg.Mastodon.Accounts[i].Format
		read(joinIndex("mastodon.accounts", i)+".format", &f.Template, f.TemplateFile)
	}
}
