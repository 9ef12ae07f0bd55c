package telegramfake

import "testing"

func TestFailChatHitsOnlyThatChat(t *testing.T) {
	s := newServer(t, Options{Tokens: []string{token}, Chats: []Chat{{ID: -1001, Username: "a"}, {ID: -1002, Username: "b"}}})
	// Named by id, hit when a call names the chat by username too.
	s.FailChat("-1001", "sendMessage", 2, TooManyRequests(5))
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@b", "text": "x"}); !r.OK {
		t.Errorf("other chat got the fault: %+v", r)
	}
	if r := postJSON(t, s, "getMe", map[string]any{}); !r.OK {
		t.Errorf("call without a chat got the fault: %+v", r)
	}
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@a", "text": "x"}); r.ErrorCode != 429 || r.Parameters.RetryAfter != 5 {
		t.Errorf("chat by username: %+v", r)
	}
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": -1001, "text": "x"}); r.ErrorCode != 429 {
		t.Errorf("chat by id: %+v", r)
	}
	if r := postJSON(t, s, "sendMessage", map[string]any{"chat_id": "@a", "text": "x"}); !r.OK {
		t.Errorf("fault used more than twice: %+v", r)
	}
	if got := len(s.Messages("@a")); got != 1 {
		t.Errorf("chat a has %d messages, want 1", got)
	}
	if got := len(s.Messages("@b")); got != 1 {
		t.Errorf("chat b has %d messages, want 1", got)
	}
}
