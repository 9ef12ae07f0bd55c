package telegramfake

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const token = "123:abc"

type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Chats == nil {
		opts.Chats = []Chat{{ID: -1001, Username: "news", Title: "News"}}
	}
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

type reply struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Result      json.RawMessage `json:"result"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

func postJSON(t *testing.T, s *Server, method string, body map[string]any) reply {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.URL()+"/bot"+token+"/"+method, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) reply {
	t.Helper()
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if !r.OK && r.ErrorCode != resp.StatusCode {
		t.Fatalf("error_code %d but HTTP %d", r.ErrorCode, resp.StatusCode)
	}
	return r
}

func TestValidation(t *testing.T) {
	s := newServer(t, Options{})
	long := strings.Repeat("a", 4097)
	tests := []struct {
		name   string
		method string
		body   map[string]any
		code   int
		desc   string
	}{
		{"unknown method", "sendTelepathy", map[string]any{}, 404, "Not Found"},
		{"method case-insensitive", "SENDMESSAGE", map[string]any{"chat_id": "@news", "text": "hi"}, 200, ""},
		{"unknown parameter", "sendMessage", map[string]any{"chat_id": "@news", "text": "hi", "colour": "red"}, 400, `Bad Request: unknown parameter "colour"`},
		{"missing text", "sendMessage", map[string]any{"chat_id": "@news"}, 400, MessageTextEmpty},
		{"missing chat", "sendMessage", map[string]any{"text": "x"}, 400, "Bad Request: chat_id is empty"},
		{"wrong type", "sendMessage", map[string]any{"chat_id": "@news", "text": "x", "message_thread_id": "abc"}, 400, `Bad Request: field "message_thread_id" must be of type Integer`},
		{"empty text", "sendMessage", map[string]any{"chat_id": "@news", "text": " <b> </b>", "parse_mode": "HTML"}, 400, MessageTextEmpty},
		{"bad tag", "sendMessage", map[string]any{"chat_id": "@news", "text": "<script>x</script>", "parse_mode": "HTML"}, 400, `Bad Request: can't parse entities: Unsupported start tag "script" at byte offset 0`},
		{"bare ampersand", "sendMessage", map[string]any{"chat_id": "@news", "text": "a & b", "parse_mode": "HTML"}, 400, "Bad Request: can't parse entities: Character entity expected at byte offset 2"},
		{"unclosed", "sendMessage", map[string]any{"chat_id": "@news", "text": "<b>x", "parse_mode": "HTML"}, 400, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{"bare ampersand plain", "sendMessage", map[string]any{"chat_id": "@news", "text": "a & b <c>"}, 200, ""},
		{"too long", "sendMessage", map[string]any{"chat_id": "@news", "text": long}, 400, MessageTooLong},
		{"long after tags fits", "sendMessage", map[string]any{"chat_id": "@news", "text": "<b>" + long[:4096] + "</b>", "parse_mode": "HTML"}, 200, ""},
		{"raw too long", "sendMessage", map[string]any{"chat_id": "@news", "text": strings.Repeat("&amp;", 7000), "parse_mode": "HTML"}, 400, TextTooLong},
		{"caption too long", "sendPhoto", map[string]any{"chat_id": "@news", "photo": "https://x.example/a.jpg", "caption": long[:1025]}, 400, CaptionTooLong},
		{"chat not found", "sendMessage", map[string]any{"chat_id": -42, "text": "x"}, 400, ChatNotFoundText},
		{"button javascript", "sendMessage", map[string]any{"chat_id": "@news", "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "a", "url": "javascript:alert(1)"}}}}}, 400, "Bad Request: inline keyboard button URL 'javascript:alert(1)' is invalid: Unsupported URL protocol"},
		{"button mailto", "sendMessage", map[string]any{"chat_id": "@news", "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "a", "url": "mailto:a@b.org"}}}}}, 400, "Bad Request: inline keyboard button URL 'mailto:a@b.org' is invalid: Unsupported URL protocol"},
		{"button localhost", "sendMessage", map[string]any{"chat_id": "@news", "text": "x", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "a", "url": "http://localhost/x"}}}}}, 400, "Bad Request: inline keyboard button URL 'http://localhost/x' is invalid: Wrong HTTP URL"},
		{"document by URL not pdf", "sendDocument", map[string]any{"chat_id": "@news", "document": "https://x.example/a.docx"}, 400, WrongContentType},
		{"album of one", "sendMediaGroup", map[string]any{"chat_id": "@news", "media": []map[string]string{{"type": "photo", "media": "https://x.example/1.jpg"}}}, 400, "Bad Request: wrong number of media in the group: must be 2-10"},
		{"album unknown field", "sendMediaGroup", map[string]any{"chat_id": "@news", "media": []map[string]string{{"type": "photo", "media": "https://x.example/1.jpg", "colour": "red"}, {"type": "photo", "media": "https://x.example/2.jpg"}}}, 400, `Bad Request: unknown field "colour" in InputMediaPhoto`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postJSON(t, s, tt.method, tt.body)
			code := 200
			if !r.OK {
				code = r.ErrorCode
			}
			if code != tt.code || r.Description != tt.desc {
				t.Errorf("got %d %q, want %d %q", code, r.Description, tt.code, tt.desc)
			}
		})
	}
}

func TestBodiesAndMessages(t *testing.T) {
	s := newServer(t, Options{})
	// Form body.
	resp, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"-1001"}, "text": {"<b>form</b>"}, "parse_mode": {"HTML"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, resp); !r.OK {
		t.Fatalf("form: %s", r.Description)
	}
	// Multipart body with an upload.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("chat_id", "@news")
	mw.WriteField("document", "attach://ignored")
	fw, _ := mw.CreateFormFile("document", "n.pdf")
	fw.Write([]byte("%PDF-1.4"))
	mw.Close()
	resp, err = http.Post(s.URL()+"/bot"+token+"/sendDocument", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, resp); !r.OK {
		t.Fatalf("multipart: %s", r.Description)
	}
	r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@news", "text": `<a href="https://x.example/">link</a> &amp; more`, "parse_mode": "HTML"})
	var m Message
	if err := json.Unmarshal(r.Result, &m); err != nil {
		t.Fatal(err)
	}
	if m.MessageID != 3 || m.Text != "link & more" || len(m.Entities) != 1 || m.Entities[0] != (Entity{Type: "text_link", Offset: 0, Length: 4, URL: "https://x.example/"}) {
		t.Errorf("message %+v", m)
	}
	// Edits: identical is "not modified", a change is applied.
	edit := map[string]any{"chat_id": -1001, "message_id": 3, "text": `<a href="https://x.example/">link</a> &amp; more`, "parse_mode": "HTML"}
	if r := postJSON(t, s, "editMessageText", edit); r.Description != NotModified {
		t.Errorf("identical edit: %q", r.Description)
	}
	edit["text"] = "changed"
	if r := postJSON(t, s, "editMessageText", edit); !r.OK {
		t.Errorf("edit: %q", r.Description)
	}
	msgs := s.Messages("@news")
	if len(msgs) != 3 || msgs[0].Text != "form" || msgs[1].Document == nil || msgs[2].Text != "changed" || msgs[2].Edits != 1 {
		t.Errorf("messages %+v", msgs)
	}
	if r := postJSON(t, s, "editMessageCaption", map[string]any{"chat_id": -1001, "message_id": 3, "caption": "x"}); r.Description != "Bad Request: there is no caption in the message to edit" {
		t.Errorf("caption edit of a text: %q", r.Description)
	}
}

func TestFloodLimits(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	s := newServer(t, Options{Clock: clock})
	for i := range 20 {
		if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@news", "text": "x"}); !r.OK {
			t.Fatalf("message %d: %s", i, r.Description)
		}
		clock.Add(time.Second)
	}
	r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@news", "text": "x"})
	if r.ErrorCode != 429 || r.Parameters.RetryAfter != 40 || r.Description != "Too Many Requests: retry after 40" {
		t.Fatalf("21st message in a minute: %+v", r)
	}
	clock.Add(40 * time.Second)
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@news", "text": "x"}); !r.OK {
		t.Fatalf("after waiting: %s", r.Description)
	}
}

func TestBotFloodLimit(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	var chats []Chat
	for i := range 31 {
		chats = append(chats, Chat{ID: int64(-100 - i)})
	}
	s := newServer(t, Options{Clock: clock, Chats: chats})
	for i := range 30 {
		if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": -100 - i, "text": "x"}); !r.OK {
			t.Fatalf("message %d: %s", i, r.Description)
		}
	}
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": -130, "text": "x"}); r.ErrorCode != 429 || r.Parameters.RetryAfter != 1 {
		t.Fatalf("31st call in a second: %+v", r)
	}
}

func TestFaultsAndChats(t *testing.T) {
	s := newServer(t, Options{Tokens: []string{token}, Chats: []Chat{{ID: -1001, Username: "news"}, {ID: -1002, Members: []string{"999:other"}}}})
	s.Fail("sendMessage", 1, ServerError(502))
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@news", "text": "x"}); r.ErrorCode != 502 {
		t.Errorf("fault: %+v", r)
	}
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@news", "text": "x"}); !r.OK {
		t.Errorf("fault used twice: %+v", r)
	}
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": -1002, "text": "x"}); r.Description != NotMemberText {
		t.Errorf("not a member: %+v", r)
	}
	s.RejectURL("https://x.example/big.jpg", InvalidDimensions)
	if r := postJSON(t, s, "sendPhoto", map[string]any{"chat_id": "@news", "photo": "https://x.example/big.jpg"}); r.Description != InvalidDimensions {
		t.Errorf("rejected URL: %+v", r)
	}
	s.Kick(-1001, token)
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@news", "text": "x"}); r.Description != KickedText || r.ErrorCode != 403 {
		t.Errorf("kicked: %+v", r)
	}
	s.MigrateChat(-1002, -1003)
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": -1002, "text": "x"}); r.Parameters.MigrateToChatID != -1003 {
		t.Errorf("migrated: %+v", r)
	}
	resp, _ := http.Post(s.URL()+"/bot1:wrong/getMe", "application/json", nil)
	if r := decode(t, resp); r.ErrorCode != 401 {
		t.Errorf("bad token: %+v", r)
	}
}

func TestSpecIsEmbedded(t *testing.T) {
	if !strings.HasPrefix(SpecVersion(), "Bot API ") {
		t.Fatalf("spec version %q", SpecVersion())
	}
	if bytes.Contains(specJSON, []byte("Use this method")) {
		t.Fatal("spec.json carries documentation prose")
	}
}

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in, text string
		ok       bool
	}{
		{`<b>a</b> <i>b</i> <u>c</u> <s>d</s> <tg-spoiler>e</tg-spoiler> <span class="tg-spoiler">f</span>`, "a b c d e f", true},
		{`<pre><code class="language-go">x &lt; y</code></pre>`, "x < y", true},
		{`<blockquote expandable>q</blockquote>`, "q", true},
		{`&#39;&#x27;&quot;`, `''"`, true},
		{`<b><i>x</b></i>`, "", false},
		{`<code><b>x</b></code>`, "", false},
		{`<blockquote><blockquote>x</blockquote></blockquote>`, "", false},
		{`<a href="javascript:x">x</a>`, "", false},
		{`<a>x</a>`, "", false},
		{`&nbsp;`, "", false},
		{`a > b`, "", false},
		{`<br>`, "", false},
		{`<b class="x">x</b>`, "", false},
	}
	for _, tt := range tests {
		text, _, err := ParseHTML(tt.in)
		if (err == nil) != tt.ok || text != tt.text {
			t.Errorf("ParseHTML(%q) = %q, %v; want %q ok=%v", tt.in, text, err, tt.text, tt.ok)
		}
	}
}

func FuzzParseHTML(f *testing.F) {
	f.Add(`<b>a &amp; <a href="https://x.org">b</a></b>`)
	f.Add(`<pre><code class="language-x">y</code></pre>`)
	f.Fuzz(func(t *testing.T, s string) {
		text, entities, err := ParseHTML(s)
		if err != nil {
			return
		}
		n := Length(text)
		for _, e := range entities {
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n {
				t.Fatalf("entity %+v outside text of %d", e, n)
			}
		}
	})
}
