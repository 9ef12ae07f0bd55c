package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/syndicate-bot/syndicate/syndicate"
)

var _ syndicate.Checker = (*Channel)(nil)

// identity is the bot's own user, asked once (getMe) for the checks of all
// its chats: one token, one answer.
type identity struct {
	mu    sync.Mutex
	asked bool
	user  *models.User
	err   error
}

// identity returns the bot's user, asking Telegram the first time only.
func (b *Bot) identity(ctx context.Context) (*models.User, error) {
	b.me.mu.Lock()
	defer b.me.mu.Unlock()
	if !b.me.asked {
		b.me.err = b.ask(ctx, "getMe", func(ctx context.Context) (err error) {
			b.me.user, err = b.api.GetMe(ctx)
			return err
		})
		b.me.asked = true
	}
	return b.me.user, b.me.err
}

// ask makes a call that posts nothing, paced by the bot's limit only (a
// chat's limit is for messages), with the token kept out of its error.
func (b *Bot) ask(ctx context.Context, method string, do func(context.Context) error) error {
	done, err := b.limiter.Start(ctx, Limit{Key: "tg:bot:" + b.id, Rate: b.rate})
	if err != nil {
		return fmt.Errorf("%s: waiting for the rate limit: %w", method, err)
	}
	err = do(ctx)
	done()
	if err != nil {
		return &apiError{msg: method + ": " + describe(err, b.token)}
	}
	return nil
}

// describe is Telegram's own description of a failure, without the
// library's prefix and without the token.
func describe(err error, token string) string {
	text := err.Error()
	for _, sentinel := range []error{tgbot.ErrorBadRequest, tgbot.ErrorUnauthorized, tgbot.ErrorForbidden, tgbot.ErrorNotFound, tgbot.ErrorConflict} {
		if errors.Is(err, sentinel) {
			text = strings.TrimPrefix(text, sentinel.Error()+", ")
			break
		}
	}
	return redact(text, token)
}

// Check verifies without posting that the bot can post to the chat: the
// token (getMe), the chat (getChat), the bot's membership and rights
// (getChatMember) and, when one is configured, the forum topic.
func (c *Channel) Check(ctx context.Context) []syndicate.Check {
	me, err := c.bot.identity(ctx)
	if err != nil {
		return []syndicate.Check{{Name: "token", Verdict: syndicate.VerdictFail, Detail: err.Error()}}
	}
	out := []syndicate.Check{{Name: "token", Detail: fmt.Sprintf("getMe: @%s (id %d)", me.Username, me.ID)}}
	var chat *models.ChatFullInfo
	err = c.bot.ask(ctx, "getChat", func(ctx context.Context) (err error) {
		chat, err = c.bot.api.GetChat(ctx, &tgbot.GetChatParams{ChatID: c.chatID()})
		return err
	})
	if err != nil {
		return append(out, syndicate.Check{Name: "chat", Verdict: syndicate.VerdictFail, Detail: err.Error()})
	}
	out = append(out, syndicate.Check{Name: "chat", Detail: "getChat: " + chatLabel(chat)})
	var member *models.ChatMember
	err = c.bot.ask(ctx, "getChatMember", func(ctx context.Context) (err error) {
		member, err = c.bot.api.GetChatMember(ctx, &tgbot.GetChatMemberParams{ChatID: c.chatID(), UserID: me.ID})
		return err
	})
	if err != nil {
		out = append(out, syndicate.Check{Name: "rights", Verdict: syndicate.VerdictFail, Detail: err.Error()})
	} else {
		out = append(out, rights(chat, member, c.opts.Format)...)
	}
	if c.opts.Topic != 0 {
		out = append(out, c.checkTopic(ctx, chat))
	}
	return out
}

func chatLabel(chat *models.ChatFullInfo) string {
	s := fmt.Sprintf("%s %q", chat.Type, chat.Title)
	if chat.Username != "" {
		s += " @" + chat.Username
	}
	s += fmt.Sprintf(" (id %d)", chat.ID)
	if chat.IsForum {
		s += ", a forum"
	}
	return s
}

// sendsPhotos reports whether the format's posts carry photos.
func (f Format) sendsPhotos() bool {
	return f.Image == "" || f.Image == ImagePhoto || f.Album
}

// rights judges the bot's membership: in a channel it must be an
// administrator with can_post_messages (bots join channels only as
// administrators); in a group it must be a member allowed to send what the
// format sends.
func rights(chat *models.ChatFullInfo, m *models.ChatMember, f Format) []syndicate.Check {
	fail := func(detail string) []syndicate.Check {
		return []syndicate.Check{{Name: "rights", Verdict: syndicate.VerdictFail, Detail: detail}}
	}
	kind := string(chat.Type)
	switch m.Type {
	case models.ChatMemberTypeLeft:
		return fail("getChatMember: the bot is not a member of the " + kind)
	case models.ChatMemberTypeBanned:
		return fail("getChatMember: the bot was removed (kicked) from the " + kind)
	case models.ChatMemberTypeOwner:
		return []syndicate.Check{{Name: "rights", Detail: "getChatMember: creator of the " + kind}}
	}
	if chat.Type == models.ChatTypeChannel {
		a := m.Administrator
		if a == nil {
			return fail(fmt.Sprintf("getChatMember: the bot is a %s, not an administrator: can_post_messages missing (bots post to channels as administrators)", m.Type))
		}
		if !a.CanPostMessages {
			return fail("getChatMember: administrator without can_post_messages: the bot may not post")
		}
		out := []syndicate.Check{{Name: "rights", Detail: "getChatMember: administrator with can_post_messages"}}
		switch {
		case f.NoEdits:
		case a.CanEditMessages:
			out[0].Detail += " and can_edit_messages"
		default:
			// TDLib lets an administrator edit its own channel posts with
			// can_post_messages alone (can_edit_message in
			// td/telegram/MessagesManager.cpp); can_edit_messages is for
			// other senders' posts, an earlier bot's included.
			out = append(out, syndicate.Check{Name: "rights", Verdict: syndicate.VerdictWarn,
				Detail: "getChatMember: can_edit_messages missing: edits work on this bot's own posts only, not on posts an earlier bot made"})
		}
		return out
	}
	if m.Type == models.ChatMemberTypeAdministrator {
		return []syndicate.Check{{Name: "rights", Detail: "getChatMember: administrator of the " + kind}}
	}
	// A member sends what the chat lets members send; a restricted member
	// what its own restrictions let it.
	can := models.ChatPermissions{CanSendMessages: true, CanSendPhotos: true, CanSendDocuments: true}
	what := "member"
	if chat.Permissions != nil {
		can = *chat.Permissions
	}
	if r := m.Restricted; r != nil {
		if !r.IsMember {
			return fail("getChatMember: the bot is restricted and not a member of the " + kind)
		}
		can = models.ChatPermissions{CanSendMessages: r.CanSendMessages, CanSendPhotos: r.CanSendPhotos, CanSendDocuments: r.CanSendDocuments}
		what = "restricted member"
	}
	var missing []string
	if !can.CanSendMessages {
		missing = append(missing, "can_send_messages")
	}
	if f.sendsPhotos() && !can.CanSendPhotos {
		missing = append(missing, "can_send_photos (the posts carry photos)")
	}
	if len(missing) > 0 {
		return fail(fmt.Sprintf("getChatMember: %s without %s", what, strings.Join(missing, ", ")))
	}
	out := []syndicate.Check{{Name: "rights", Detail: "getChatMember: " + what + " allowed to send"}}
	if !f.NoDocuments && !can.CanSendDocuments {
		out = append(out, syndicate.Check{Name: "rights", Verdict: syndicate.VerdictWarn,
			Detail: "getChatMember: can_send_documents missing: PDF attachments will not follow the posts"})
	}
	return out
}

// probeMessageID is a message id no chat reaches, replied to by the topic
// probe so that the probe is refused before anything is sent.
const probeMessageID = 1<<31 - 1

// checkTopic asks whether the forum topic exists without posting. The Bot
// API server checks a send's topic (Client::check_message_topic, answering
// 400 "message thread not found") before its reply target
// (check_reply_parameters, 400 "message to be replied not found"), both
// before sending (telegram-bot-api/Client.cpp, do_send_message), so a
// message replying to a message that does not exist is refused either
// way, and the refusal tells whether the topic exists. sendChatAction
// cannot tell: the server passes its topic to TDLib unchecked and answers
// true for a deleted topic (tdlib/telegram-bot-api issue #732).
func (c *Channel) checkTopic(ctx context.Context, chat *models.ChatFullInfo) syndicate.Check {
	topic := c.opts.Topic
	if !chat.IsForum {
		return syndicate.Check{Name: "topic", Verdict: syndicate.VerdictFail,
			Detail: fmt.Sprintf("topic %d is configured but the chat is not a forum: posts would go to the main chat", topic)}
	}
	var sent *models.Message
	err := c.bot.ask(ctx, "sendMessage", func(ctx context.Context) (err error) {
		sent, err = c.bot.api.SendMessage(ctx, &tgbot.SendMessageParams{
			ChatID: c.chatID(), MessageThreadID: int(topic), Text: "syndicate check",
			ReplyParameters: &models.ReplyParameters{MessageID: probeMessageID},
		})
		return err
	})
	lower := ""
	if err != nil {
		lower = strings.ToLower(err.Error())
	}
	switch {
	case err == nil:
		return syndicate.Check{Name: "topic", Verdict: syndicate.VerdictWarn,
			Detail: fmt.Sprintf("topic %d exists, but the probe was posted (message %d): delete it", topic, messageID(sent))}
	case strings.Contains(lower, "message to be replied not found"):
		return syndicate.Check{Name: "topic", Detail: fmt.Sprintf("topic %d exists (probed without posting)", topic)}
	case strings.Contains(lower, "message thread not found") && topic == 1:
		return syndicate.Check{Name: "topic", Verdict: syndicate.VerdictFail,
			Detail: "topic 1 is the General topic, which takes no message_thread_id: leave topic out"}
	case strings.Contains(lower, "message thread not found"):
		return syndicate.Check{Name: "topic", Verdict: syndicate.VerdictFail, Detail: fmt.Sprintf("topic %d not found in the forum", topic)}
	}
	return syndicate.Check{Name: "topic", Verdict: syndicate.VerdictFail, Detail: err.Error()}
}
