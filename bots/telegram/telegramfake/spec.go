package telegramfake

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

//go:generate go run ./internal/specgen -in ../../../../shared/spec/telegram-bot-api.json -out spec.json

// specJSON holds the method and type signatures of the Bot API (names,
// field names, types, required flags), generated from the published API
// description so the fake refuses what Telegram refuses.
//
//go:embed spec.json
var specJSON []byte

type specField struct {
	Name     string   `json:"name"`
	Types    []string `json:"types"`
	Required bool     `json:"required"`
}

type apiSpec struct {
	Version string                 `json:"version"`
	Methods map[string][]specField `json:"methods"`
	Types   map[string][]specField `json:"types"`
	// byLower finds methods case-insensitively, as Telegram does.
	byLower map[string]string
}

func loadSpec() (*apiSpec, error) {
	var s apiSpec
	if err := json.Unmarshal(specJSON, &s); err != nil {
		return nil, fmt.Errorf("decode embedded Bot API spec: %w", err)
	}
	s.byLower = make(map[string]string, len(s.Methods))
	for name := range s.Methods {
		s.byLower[strings.ToLower(name)] = name
	}
	return &s, nil
}

// SpecVersion returns the Bot API version the fake validates against.
func SpecVersion() string {
	s, err := loadSpec()
	if err != nil {
		return ""
	}
	return s.Version
}

// validate checks request parameters against the method's signature:
// unknown parameters are refused (Telegram ignores them, but our code
// should never send one), required ones must be present, and values must
// have the declared type.
func (s *apiSpec) validate(method string, p params) error {
	fields := s.Methods[method]
	known := make(map[string]specField, len(fields))
	for _, f := range fields {
		known[f.Name] = f
	}
	for name := range p.values {
		if _, ok := known[name]; !ok {
			if p.isAttachment(name) {
				continue
			}
			return fmt.Errorf("Bad Request: unknown parameter \"%s\"", name)
		}
	}
	for name := range p.files {
		if _, ok := known[name]; !ok && !p.isAttachment(name) {
			return fmt.Errorf("Bad Request: unknown parameter \"%s\"", name)
		}
	}
	for _, f := range fields {
		v, has := p.values[f.Name]
		_, hasFile := p.files[f.Name]
		if !has && !hasFile {
			if f.Required {
				return missing(method, f.Name)
			}
			continue
		}
		if err := s.checkType(f, v, hasFile); err != nil {
			return err
		}
	}
	return nil
}

func missing(method, name string) error {
	switch {
	case name == "text":
		return fmt.Errorf("Bad Request: message text is empty")
	case name == "chat_id":
		return fmt.Errorf("Bad Request: chat_id is empty")
	case name == "photo" || name == "document" || name == "media":
		return fmt.Errorf("Bad Request: there is no %s in the request", name)
	}
	return fmt.Errorf("Bad Request: parameter \"%s\" is required", name)
}

func (s *apiSpec) checkType(f specField, v string, hasFile bool) error {
	types := strings.Join(f.Types, " or ")
	bad := fmt.Errorf("Bad Request: field \"%s\" must be of type %s", f.Name, types)
	switch types {
	case "Integer":
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return bad
		}
	case "Float":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return bad
		}
	case "Boolean":
		switch strings.ToLower(v) {
		case "true", "false", "1", "0":
		default:
			return bad
		}
	case "String", "Integer or String":
		if hasFile {
			return bad
		}
	case "InputFile or String", "InputFile":
		if !hasFile && (v == "" || types == "InputFile") {
			return bad
		}
	default:
		if hasFile {
			return bad
		}
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return fmt.Errorf("Bad Request: can't parse %s JSON object", f.Name)
		}
		_, isArray := x.([]any)
		if strings.HasPrefix(types, "Array of") != isArray {
			return bad
		}
		if obj, ok := x.(map[string]any); ok && len(f.Types) == 1 {
			if err := s.checkObject(f.Types[0], obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkObject refuses unknown fields in a JSON-serialised object of a
// known type (link preview options, input media).
func (s *apiSpec) checkObject(typ string, obj map[string]any) error {
	fields, ok := s.Types[typ]
	if !ok || len(fields) == 0 || typ == "InlineKeyboardMarkup" {
		return nil
	}
	known := map[string]bool{}
	for _, f := range fields {
		known[f.Name] = true
	}
	for k := range obj {
		if !known[k] {
			return fmt.Errorf("Bad Request: unknown field \"%s\" in %s", k, typ)
		}
	}
	return nil
}
