package telegramfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The rules in this file follow the Bot API server
// (tdlib/telegram-bot-api, telegram-bot-api/Client.cpp) and TDLib
// (tdlib/td) as read at 01a3679c and 022d6020:
//   - access to a chat, Client::check_chat_access: a bot kicked from a
//     channel or supergroup is refused everything with 403 "Forbidden: bot
//     was kicked from the <channel|supergroup> chat", one that is not a
//     member is refused everything in a private chat and sends in a public
//     one with 403 "Forbidden: bot is not a member of the … chat"; in a
//     basic group only sends are refused;
//   - a topic, Client::check_message_topic: in a forum the General topic
//     (1) and a topic that does not exist are refused with 400 "Bad
//     Request: message thread not found" (TdOnCheckForumTopicCallback);
//     outside forums the thread is ignored; only the send methods check it;
//   - a reply, Client::check_reply_parameters: after the topic, a
//     reply_parameters.message_id that does not exist is refused with 400
//     "Bad Request: message to be replied not found" unless
//     allow_sending_without_reply;
//   - the right to post, td/telegram/DialogManager.cpp
//     can_send_message_to_dialog: in a channel without can_post_messages,
//     400 "Bad Request: need administrator rights in the channel chat";
//     td/telegram/MessageContent.cpp can_send_message_content: in a group
//     the member's (or the chat's) permissions, "Bad Request: not enough
//     rights to send text messages|photos|documents to the chat";
//   - the right to edit, td/telegram/MessagesManager.cpp can_edit_message:
//     a channel post needs can_edit_messages, or can_post_messages and
//     being the post's sender; elsewhere only one's own messages are
//     edited; else 400 "Bad Request: message can't be edited";
//   - getChatMember, Client::JsonChatMember: channel administrators show
//     can_post_messages and can_edit_messages, restricted members of a
//     supergroup their permissions and is_member.

// Member is a bot's membership of a chat.
type Member struct {
	// Status is creator, administrator, member, restricted, left or kicked.
	Status string
	// CanPostMessages and CanEditMessages are an administrator's rights
	// in a channel.
	CanPostMessages bool
	CanEditMessages bool
	// IsMember and Permissions describe a restricted member.
	IsMember    bool
	Permissions Permissions
}

// Permissions are what a member may send in a group.
type Permissions struct {
	CanSendMessages       bool
	CanSendPhotos         bool
	CanSendDocuments      bool
	CanAddWebPagePreviews bool
}

// allPermissions is a group whose members may send anything.
var allPermissions = Permissions{CanSendMessages: true, CanSendPhotos: true, CanSendDocuments: true, CanAddWebPagePreviews: true}

// Texts of the refusals this file answers besides those in faults.go.
const (
	ThreadNotFoundText    = "Bad Request: message thread not found"
	ReplyNotFoundText     = "Bad Request: message to be replied not found"
	NeedAdminText         = "Bad Request: need administrator rights in the channel chat"
	CantEditText          = "Bad Request: message can't be edited"
	UserNotFoundText      = "Bad Request: user not found"
	notEnoughRightsFormat = "Bad Request: not enough rights to send %s to the chat"
)

// botID is a token's bot's user id: the token's number.
func botID(token string) int64 {
	id, _ := strconv.ParseInt(strings.SplitN(token, ":", 2)[0], 10, 64)
	return id
}

// botUser is the User a token's bot is.
func botUser(token string) map[string]any {
	return map[string]any{"id": botID(token), "is_bot": true, "first_name": "Fake", "username": "fake_bot"}
}

// kind is how Telegram's errors name the chat's type.
func (c *chatState) kind() string {
	switch c.Type {
	case "group", "supergroup":
		return c.Type
	}
	return "channel"
}

// member is the bot's membership: kicked, configured, left when the chat
// lists other members only, else the default of the chat's type.
func (c *chatState) member(token string) Member {
	if c.kicked[token] {
		return Member{Status: "kicked"}
	}
	if m, ok := c.Rights[token]; ok {
		return m
	}
	if len(c.Members) > 0 && !containsString(c.Members, token) {
		return Member{Status: "left"}
	}
	if c.Type == "channel" {
		return Member{Status: "administrator", CanPostMessages: true, CanEditMessages: true}
	}
	return Member{Status: "member"}
}

// access answers whether the bot may read the chat, or send to it when
// write is set.
func (c *chatState) access(token string, write bool) (answer, bool) {
	m := c.member(token)
	group := c.Type == "group"
	switch {
	case m.Status == "kicked" && (write || !group):
		if c.Type == "channel" {
			return fail(http.StatusForbidden, KickedText), false
		}
		return fail(http.StatusForbidden, "Forbidden: bot was kicked from the %s chat", c.kind()), false
	case m.Status == "left" || (m.Status == "restricted" && !m.IsMember):
		if write || (!group && c.Username == "") {
			if c.Type == "channel" {
				return fail(http.StatusForbidden, NotMemberText), false
			}
			return fail(http.StatusForbidden, "Forbidden: bot is not a member of the %s chat", c.kind()), false
		}
	}
	return answer{}, true
}

// mayWrite checks a send's topic and reply, then the bot's right to send
// the content, or an edit's right to edit the message.
func (s *Server) mayWrite(c *chatState, method string, p params) (answer, bool) {
	m := c.member(p.token)
	if strings.HasPrefix(method, "edit") {
		msg, err := c.find(p)
		if err != nil {
			return answer{}, true // the handler answers
		}
		own := msg.sender == p.token
		ok := own
		if c.Type == "channel" {
			ok = m.Status == "creator" || (m.Status == "administrator" && (m.CanEditMessages || (m.CanPostMessages && own)))
		}
		if !ok {
			return fail(http.StatusBadRequest, CantEditText), false
		}
		return answer{}, true
	}
	if a, ok := c.topic(p); !ok {
		return a, false
	}
	if a, ok := c.reply(p); !ok {
		return a, false
	}
	if m.Status == "creator" || m.Status == "administrator" && (c.Type != "channel" || m.CanPostMessages) {
		return answer{}, true
	}
	if c.Type == "channel" {
		return fail(http.StatusBadRequest, NeedAdminText), false
	}
	perms := allPermissions
	if m.Status == "restricted" {
		perms = m.Permissions
	} else if c.Permissions != nil {
		perms = *c.Permissions
	}
	switch {
	case method == "sendMessage" && !perms.CanSendMessages:
		return fail(http.StatusBadRequest, notEnoughRightsFormat, "text messages"), false
	case (method == "sendPhoto" || method == "sendMediaGroup") && !perms.CanSendPhotos:
		return fail(http.StatusBadRequest, notEnoughRightsFormat, "photos"), false
	case method == "sendDocument" && !perms.CanSendDocuments:
		return fail(http.StatusBadRequest, notEnoughRightsFormat, "documents"), false
	}
	return answer{}, true
}

// topic refuses a thread a forum does not have; General (1) is no thread
// to send to.
func (c *chatState) topic(p params) (answer, bool) {
	raw, ok := p.values["message_thread_id"]
	if !ok || !c.IsForum {
		return answer{}, true
	}
	t, _ := strconv.ParseInt(raw, 10, 64)
	if t != 0 && (t == 1 || !slices.Contains(c.Topics, t)) {
		return fail(http.StatusBadRequest, ThreadNotFoundText), false
	}
	return answer{}, true
}

// reply refuses a reply to a message the chat does not have.
func (c *chatState) reply(p params) (answer, bool) {
	raw, ok := p.values["reply_parameters"]
	if !ok {
		return answer{}, true
	}
	var rp struct {
		MessageID                int64 `json:"message_id"`
		AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
	}
	if err := json.Unmarshal([]byte(raw), &rp); err != nil {
		return fail(http.StatusBadRequest, "Bad Request: can't parse reply parameters JSON object"), false
	}
	if rp.MessageID <= 0 || rp.AllowSendingWithoutReply {
		return answer{}, true
	}
	for _, m := range c.messages {
		if m.MessageID == rp.MessageID {
			return answer{}, true
		}
	}
	return fail(http.StatusBadRequest, ReplyNotFoundText), false
}

// readChat answers getChat and getChatMember.
func (s *Server) readChat(method, token string, p params) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.floodCheck(token, 0, false); !ok {
		return a
	}
	c, err := s.resolveLocked(p.values["chat_id"])
	if err != nil {
		return badRequest(err)
	}
	if a, ok := c.access(token, false); !ok {
		return a
	}
	if method == "getChat" {
		return answer{result: c.fullInfo()}
	}
	if uid, _ := strconv.ParseInt(p.values["user_id"], 10, 64); uid != botID(token) {
		return fail(http.StatusBadRequest, UserNotFoundText)
	}
	return answer{result: c.memberJSON(c.member(token), botUser(token))}
}

// fullInfo is the chat as getChat shows it (ChatFullInfo).
func (c *chatState) fullInfo() map[string]any {
	info := map[string]any{
		"id": c.ID, "type": c.Type, "accent_color_id": 0, "max_reaction_count": 11,
		"accepted_gift_types": map[string]bool{"unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false,
			"premium_subscription": false, "gifts_from_channels": false},
	}
	if c.Title != "" {
		info["title"] = c.Title
	}
	if c.Username != "" {
		info["username"] = c.Username
	}
	if c.IsForum {
		info["is_forum"] = true
	}
	if c.Type == "group" || c.Type == "supergroup" {
		perms := allPermissions
		if c.Permissions != nil {
			perms = *c.Permissions
		}
		info["permissions"] = perms.json()
	}
	return info
}

func (p Permissions) json() map[string]any {
	return map[string]any{
		"can_send_messages": p.CanSendMessages, "can_send_photos": p.CanSendPhotos,
		"can_send_documents": p.CanSendDocuments, "can_add_web_page_previews": p.CanAddWebPagePreviews,
	}
}

// memberJSON is a ChatMember of the status's kind, with the fields the
// Bot API server shows for the chat's type.
func (c *chatState) memberJSON(m Member, user map[string]any) map[string]any {
	out := map[string]any{"status": m.Status, "user": user}
	switch m.Status {
	case "creator":
		out["is_anonymous"] = false
	case "administrator":
		for _, f := range []string{"can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
			"can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
			"can_edit_stories", "can_delete_stories"} {
			out[f] = false
		}
		if c.Type == "channel" {
			out["can_post_messages"], out["can_edit_messages"] = m.CanPostMessages, m.CanEditMessages
		} else {
			out["can_pin_messages"] = false
		}
	case "restricted":
		// Every ChatMemberRestricted field is required; those this fake
		// does not model are false.
		for _, f := range []string{"can_send_audios", "can_send_videos", "can_send_video_notes", "can_send_voice_notes",
			"can_send_polls", "can_send_other_messages", "can_react_to_messages", "can_edit_tag", "can_change_info",
			"can_invite_users", "can_pin_messages", "can_manage_topics"} {
			out[f] = false
		}
		for k, v := range m.Permissions.json() {
			out[k] = v
		}
		out["is_member"], out["until_date"] = m.IsMember, 0
	case "kicked":
		out["until_date"] = 0
	}
	return out
}
