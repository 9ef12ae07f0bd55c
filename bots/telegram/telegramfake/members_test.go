package telegramfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// memberType is the Bot API type of each ChatMember status.
var memberType = map[string]string{
	"creator": "ChatMemberOwner", "administrator": "ChatMemberAdministrator", "member": "ChatMemberMember",
	"restricted": "ChatMemberRestricted", "left": "ChatMemberLeft", "kicked": "ChatMemberBanned",
}

// checkFields fails when a result lacks a field its type requires or has
// one the type does not know, according to the embedded spec.
func checkFields(t *testing.T, typ string, raw json.RawMessage) map[string]any {
	t.Helper()
	spec, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s result %s: %v", typ, raw, err)
	}
	fields, ok := spec.Types[typ]
	if !ok {
		t.Fatalf("type %s not in the spec", typ)
	}
	known := map[string]bool{}
	for _, f := range fields {
		known[f.Name] = true
		if _, has := obj[f.Name]; f.Required && !has {
			t.Errorf("%s lacks required field %s: %s", typ, f.Name, raw)
		}
	}
	for k := range obj {
		if !known[k] {
			t.Errorf("%s has unknown field %s", typ, k)
		}
	}
	return obj
}

func TestGetChatAndMember(t *testing.T) {
	const other = "777:other"
	chats := []Chat{
		{ID: -1001, Username: "news", Title: "News"},
		{ID: -1002, Title: "Private", Rights: map[string]Member{token: {Status: "administrator", CanPostMessages: true}}},
		{ID: -1003, Username: "talk", Type: "supergroup", IsForum: true, Topics: []int64{5},
			Rights: map[string]Member{token: {Status: "restricted", IsMember: true, Permissions: Permissions{CanSendMessages: true}}}},
		{ID: -1004, Type: "group", Permissions: &Permissions{CanSendMessages: true}},
		{ID: -1005, Title: "Hidden", Members: []string{other}},
		{ID: -1006, Username: "open", Rights: map[string]Member{token: {Status: "member"}}},
	}
	s := newServer(t, Options{Tokens: []string{token, other}, Chats: chats})
	s.Kick(-1004, other)
	tests := []struct {
		name, method string
		body         map[string]any
		code         int
		desc         string
		want         map[string]any
	}{
		{"channel", "getChat", map[string]any{"chat_id": "@news"}, 200, "", map[string]any{"type": "channel", "title": "News", "id": float64(-1001)}},
		{"forum", "getChat", map[string]any{"chat_id": -1003}, 200, "", map[string]any{"type": "supergroup", "is_forum": true}},
		{"unknown chat", "getChat", map[string]any{"chat_id": "@nope"}, 400, ChatNotFoundText, nil},
		{"private chat, not a member", "getChat", map[string]any{"chat_id": -1005}, 403, NotMemberText, nil},
		{"default channel admin", "getChatMember", map[string]any{"chat_id": "@news", "user_id": 123}, 200, "",
			map[string]any{"status": "administrator", "can_post_messages": true, "can_edit_messages": true}},
		{"admin without edits", "getChatMember", map[string]any{"chat_id": -1002, "user_id": 123}, 200, "",
			map[string]any{"status": "administrator", "can_post_messages": true, "can_edit_messages": false}},
		{"restricted", "getChatMember", map[string]any{"chat_id": -1003, "user_id": 123}, 200, "",
			map[string]any{"status": "restricted", "is_member": true, "can_send_messages": true, "can_send_photos": false}},
		{"group member", "getChatMember", map[string]any{"chat_id": -1004, "user_id": 123}, 200, "", map[string]any{"status": "member"}},
		{"public channel, mere member", "getChatMember", map[string]any{"chat_id": "@open", "user_id": 123}, 200, "", map[string]any{"status": "member"}},
		{"another user", "getChatMember", map[string]any{"chat_id": "@news", "user_id": 42}, 400, UserNotFoundText, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postJSON(t, s, tt.method, tt.body)
			code := 200
			if !r.OK {
				code = r.ErrorCode
			}
			if code != tt.code || r.Description != tt.desc {
				t.Fatalf("got %d %q, want %d %q", code, r.Description, tt.code, tt.desc)
			}
			if !r.OK {
				return
			}
			typ := "ChatFullInfo"
			if tt.method == "getChatMember" {
				var st struct{ Status string }
				json.Unmarshal(r.Result, &st)
				typ = memberType[st.Status]
			}
			obj := checkFields(t, typ, r.Result)
			for k, v := range tt.want {
				if obj[k] != v {
					t.Errorf("%s = %v, want %v", k, obj[k], v)
				}
			}
		})
	}
	// A kicked bot still reads a basic group, as Telegram lets it.
	resp := postAs(t, s, other, "getChatMember", map[string]any{"chat_id": -1004, "user_id": 777})
	if !resp.OK {
		t.Fatalf("kicked bot reading a group: %+v", resp)
	}
	checkFields(t, "ChatMemberBanned", resp.Result)
}

func TestSendRightsTopicsAndReplies(t *testing.T) {
	const other = "777:other"
	chats := []Chat{
		{ID: -1001, Username: "news", Rights: map[string]Member{token: {Status: "member"}}},
		{ID: -1002, Rights: map[string]Member{token: {Status: "administrator", CanPostMessages: true}}},
		{ID: -1003, Type: "supergroup", IsForum: true, Topics: []int64{5},
			Rights: map[string]Member{token: {Status: "restricted", IsMember: true, Permissions: Permissions{CanSendMessages: true}}}},
		{ID: -1004, Type: "group", Permissions: &Permissions{CanSendMessages: true}},
		{ID: -1005, Type: "supergroup"},
	}
	s := newServer(t, Options{Tokens: []string{token, other}, Chats: chats})
	photo := "https://x.example/a.jpg"
	tests := []struct {
		name, method string
		body         map[string]any
		code         int
		desc         string
	}{
		{"channel member may not post", "sendMessage", map[string]any{"chat_id": "@news", "text": "x"}, 400, NeedAdminText},
		{"channel admin posts", "sendMessage", map[string]any{"chat_id": -1002, "text": "x"}, 200, ""},
		{"restricted sends text", "sendMessage", map[string]any{"chat_id": -1003, "text": "x", "message_thread_id": 5}, 200, ""},
		{"restricted no photos", "sendPhoto", map[string]any{"chat_id": -1003, "photo": photo}, 400, "Bad Request: not enough rights to send photos to the chat"},
		{"group no documents", "sendDocument", map[string]any{"chat_id": -1004, "document": "https://x.example/a.pdf"}, 400, "Bad Request: not enough rights to send documents to the chat"},
		{"missing topic", "sendMessage", map[string]any{"chat_id": -1003, "text": "x", "message_thread_id": 9}, 400, ThreadNotFoundText},
		{"general topic", "sendMessage", map[string]any{"chat_id": -1003, "text": "x", "message_thread_id": 1}, 400, ThreadNotFoundText},
		{"topic outside a forum ignored", "sendMessage", map[string]any{"chat_id": -1005, "text": "x", "message_thread_id": 9}, 200, ""},
		{"topic checked before the reply", "sendMessage", map[string]any{"chat_id": -1003, "text": "x", "message_thread_id": 9,
			"reply_parameters": map[string]any{"message_id": 2147483647}}, 400, ThreadNotFoundText},
		{"reply to nothing", "sendMessage", map[string]any{"chat_id": -1003, "text": "x", "message_thread_id": 5,
			"reply_parameters": map[string]any{"message_id": 2147483647}}, 400, ReplyNotFoundText},
		{"reply to nothing allowed", "sendMessage", map[string]any{"chat_id": -1005, "text": "x",
			"reply_parameters": map[string]any{"message_id": 2147483647, "allow_sending_without_reply": true}}, 200, ""},
		{"edit own post with post right only", "editMessageText", map[string]any{"chat_id": -1002, "message_id": 1, "text": "y"}, 200, ""},
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
	if n := len(s.Messages("-1003")); n != 1 {
		t.Errorf("forum has %d messages, want only the one sent to topic 5", n)
	}
	if m := s.Messages("-1005"); len(m) != 2 || m[0].MessageThreadID != 0 {
		t.Errorf("a thread outside a forum was kept: %+v", m)
	}
	// Another bot's channel post needs can_edit_messages.
	s.AddChat(Chat{ID: -1010, Rights: map[string]Member{token: {Status: "administrator", CanPostMessages: true}}})
	if r := postAs(t, s, other, "sendMessage", map[string]any{"chat_id": -1010, "text": "theirs"}); !r.OK {
		t.Fatalf("other bot's post: %+v", r)
	}
	if r := postJSON(t, s, "editMessageText", map[string]any{"chat_id": -1010, "message_id": 1, "text": "mine now"}); r.Description != CantEditText {
		t.Errorf("editing another bot's post without can_edit_messages: %+v", r)
	}
}

// postAs is postJSON with another bot's token.
func postAs(t *testing.T, s *Server, tok, method string, body map[string]any) reply {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.URL()+"/bot"+tok+"/"+method, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func TestEmptyMultipartIsNoParameters(t *testing.T) {
	s := newServer(t, Options{Tokens: []string{token}})
	resp, err := http.Post(s.URL()+"/bot"+token+"/getMe", "multipart/form-data; boundary=x", bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, resp); !r.OK {
		t.Fatalf("getMe with an empty multipart body: %+v", r)
	}
	resp, err = http.Post(s.URL()+"/bot"+token+"/sendMessage", "multipart/form-data; boundary=x", bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, resp); r.Description != "Bad Request: chat_id is empty" {
		t.Fatalf("sendMessage without parameters: %+v", r)
	}
}
