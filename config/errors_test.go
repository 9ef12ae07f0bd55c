package config

import "testing"

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "c.yaml", Line: 3, Column: 5, Path: "log.level", Msg: "bad"}, "c.yaml:3:5: log.level: bad"},
		{Problem{File: "c.yaml", Line: 3, Msg: "syntax"}, "c.yaml:3: syntax"},
		{Problem{File: "c.yaml", Msg: "cannot read"}, "c.yaml: cannot read"},
		{Problem{Path: "feeds", Msg: "required"}, "feeds: required"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	errs := &Errors{Problems: []Problem{tests[0].p, tests[1].p}}
	if got, want := errs.Error(), "c.yaml:3:5: log.level: bad\nc.yaml:3: syntax"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestPaths(t *testing.T) {
	tests := []struct{ path, parent string }{
		{"telegram.channels[2].format.image", "telegram.channels[2].format"},
		{"telegram.channels[2]", "telegram.channels"},
		{`format.button_labels["a.b[c]"]`, "format.button_labels"},
		{"feeds", ""},
	}
	for _, tt := range tests {
		if got := parentPath(tt.path); got != tt.parent {
			t.Errorf("parentPath(%q) = %q, want %q", tt.path, got, tt.parent)
		}
	}
	if got := joinKey("format.utm", "a b"); got != `format.utm["a b"]` {
		t.Errorf("joinKey = %q", got)
	}
}
