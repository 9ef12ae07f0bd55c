package telegramfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxRequest bounds a request body like the Bot API's upload limit.
const maxRequest = 64 << 20

// File is an uploaded file part of a request.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// params are a request's parameters whatever the encoding: strings as
// sent, objects and arrays as JSON text, uploaded files by part name.
type params struct {
	values map[string]string
	files  map[string]File
	// attached names files referenced as attach://name from JSON values.
	attached map[string]bool
	// fetched holds the photo URLs fetched for the request (FetchURLs).
	fetched map[string]fetched
	// token is the bot's token, which the messages it sends remember.
	token string
}

func (p params) isAttachment(name string) bool { return p.attached[name] }

// readParams reads the query string and a JSON, form-urlencoded or
// multipart body, as the Bot API accepts all of them.
func readParams(r *http.Request) (params, error) {
	p := params{values: map[string]string{}, files: map[string]File{}, attached: map[string]bool{}}
	for k, vs := range r.URL.Query() {
		p.values[k] = vs[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(nil, r.Body, maxRequest)
	switch ct {
	case "", "application/x-www-form-urlencoded":
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				return p, fmt.Errorf("Bad Request: can't parse request body")
			}
			for k, vs := range r.PostForm {
				p.values[k] = vs[0]
			}
		}
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return p, fmt.Errorf("Bad Request: can't read request body")
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				return p, fmt.Errorf("Bad Request: can't parse JSON object")
			}
			for k, raw := range m {
				var s string
				if err := json.Unmarshal(raw, &s); err == nil {
					p.values[k] = s
					continue
				}
				p.values[k] = string(raw)
			}
		}
	case "multipart/form-data":
		// A call without parameters may come as an empty body (go-telegram/bot
		// sends getMe so, and Telegram answers it).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return p, fmt.Errorf("Bad Request: can't read request body")
		}
		if len(body) == 0 {
			break
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(maxRequest); err != nil {
			return p, fmt.Errorf("Bad Request: can't parse multipart body")
		}
		for k, vs := range r.MultipartForm.Value {
			p.values[k] = vs[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return p, fmt.Errorf("Bad Request: can't read file %s", k)
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return p, fmt.Errorf("Bad Request: can't read file %s", k)
			}
			p.files[k] = File{Name: fhs[0].Filename, ContentType: fhs[0].Header.Get("Content-Type"), Data: data}
		}
	default:
		return p, fmt.Errorf("Bad Request: unsupported content type %s", ct)
	}
	for _, v := range p.values {
		for _, part := range strings.Split(v, "attach://")[1:] {
			name := part
			if i := strings.IndexAny(part, "\"',}] "); i >= 0 {
				name = part[:i]
			}
			p.attached[name] = true
		}
	}
	return p, nil
}

// bool reads a Boolean parameter.
func (p params) bool(name string) bool {
	v := strings.ToLower(p.values[name])
	return v == "true" || v == "1"
}
