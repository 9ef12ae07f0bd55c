package telegram

import (
	"context"
	"fmt"
	"strconv"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// editMode is the Bot API method an edit uses.
type editMode int

const (
	editText    editMode = iota // editMessageText
	editCaption                 // editMessageCaption
	editMedia                   // editMessageMedia: new photo and caption
)

// edit updates an earlier post in place: the photo and caption of a photo
// post (just the caption when the new photo cannot be fetched), the caption
// of an album, the text of a text post. The kind of the earlier post is
// not stored, so when Telegram says the message has no text (or no media)
// the other kind is tried. "Not modified" counts as done.
func (c *Channel) edit(ctx context.Context, p Post, ids []string) (syndicate.Receipt, error) {
	id, err := strconv.Atoi(ids[0])
	if err != nil {
		return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: fmt.Errorf("edit: message id %q: %w", ids[0], err)}
	}
	mode := editText
	switch p.Method {
	case MethodPhoto:
		mode = editMedia
	case MethodAlbum:
		mode = editCaption
	}
	plain, triedOther := false, false
	for range 6 {
		e := c.editOnce(ctx, p, id, mode, plain)
		if e == nil || e.act == actNotModified {
			r := c.receipt([]int{id})
			r.MessageIDs = ids
			return r, nil
		}
		switch {
		case e.act == actMigrated:
			c.migrate(e.migrateTo)
			continue
		case e.act == actPlain && !plain:
			plain = true
			continue
		case e.act == actMedia && mode == editMedia:
			c.log.Warn("telegram could not fetch the new photo, editing the caption only", "error", e.msg)
			mode = editCaption
			continue
		case e.act == actEditWrongKind && !triedOther:
			triedOther = true
			if mode == editText {
				if units(plainOf(p.Text)) > CaptionLimit {
					return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: fmt.Errorf("edit: the post is a photo and the new text does not fit its caption")}
				}
				mode = editCaption
			} else {
				p, mode = p.AsTextPost(c.opts.Format.NoLinkPreview), editText
			}
			continue
		}
		return syndicate.Receipt{}, e.delivery()
	}
	return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: fmt.Errorf("edit: too many fallbacks")}
}

func (c *Channel) editOnce(ctx context.Context, p Post, id int, mode editMode, plain bool) *apiError {
	text, parseMode := p.Text, models.ParseModeHTML
	if plain {
		text, parseMode = p.Plain, ""
	}
	kb := markup(p.Keyboard)
	if p.Method == MethodAlbum {
		kb = nil
	}
	switch mode {
	case editMedia:
		return c.call(ctx, "editMessageMedia", func(ctx context.Context) error {
			_, err := c.bot.api.EditMessageMedia(ctx, &tgbot.EditMessageMediaParams{
				ChatID: c.chatID(), MessageID: id, ReplyMarkup: kb,
				Media: &models.InputMediaPhoto{Media: p.Photo, Caption: text, ParseMode: parseMode},
			})
			return err
		})
	case editCaption:
		return c.call(ctx, "editMessageCaption", func(ctx context.Context) error {
			_, err := c.bot.api.EditMessageCaption(ctx, &tgbot.EditMessageCaptionParams{
				ChatID: c.chatID(), MessageID: id, Caption: text, ParseMode: parseMode, ReplyMarkup: kb,
			})
			return err
		})
	default:
		return c.call(ctx, "editMessageText", func(ctx context.Context) error {
			_, err := c.bot.api.EditMessageText(ctx, &tgbot.EditMessageTextParams{
				ChatID: c.chatID(), MessageID: id, Text: text, ParseMode: parseMode,
				LinkPreviewOptions: previewOptions(p.LinkPreview), ReplyMarkup: kb,
			})
			return err
		})
	}
}
