package telegram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
// post (the new photo uploaded when Telegram cannot fetch it, just the
// caption when it cannot be uploaded either), the caption of an album, the
// text of a text post. The kind of the earlier post is not stored, so when
// Telegram says the message has no text (or no media) the other kind is
// tried. "Not modified" counts as done. A document the earlier post did
// not carry is then sent after it (see editDocuments). A new photo that is
// not for Telegram to fetch (see byURL) is uploaded from the start.
func (c *Channel) edit(ctx context.Context, p Post, ids []string, toUpload map[string]bool) (syndicate.Receipt, error) {
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
	var upload []byte
	plain, triedOther, uploadTried := false, false, false
	if mode == editMedia && toUpload[p.Photo] {
		uploadTried = true
		ph, err := c.download(ctx, p.Photo)
		if err == nil {
			upload = ph.data
		} else {
			c.log.Warn("new photo is not for telegram to fetch and cannot be uploaded, editing the caption only", "reason", err.Error())
			mode = editCaption
		}
	}
	for range 8 {
		e := c.editOnce(ctx, p, id, mode, plain, upload)
		if e == nil || e.act == actNotModified {
			r := c.receipt([]int{id})
			r.MessageIDs = append(slices.Clone(ids), c.editDocuments(ctx, p.Documents, ids)...)
			return r, nil
		}
		switch {
		case e.act == actMigrated:
			c.migrate(e.migrateTo)
			continue
		case e.act == actPlain && !plain:
			plain = true
			continue
		case e.act == actMedia && mode == editMedia && !uploadTried && !e.imageInvalid():
			uploadTried = true
			ph, err := c.download(ctx, p.Photo)
			if err == nil {
				c.log.Warn("telegram could not fetch the new photo, uploading it", "error", e.msg)
				upload = ph.data
				continue
			}
			c.log.Warn("new photo cannot be uploaded, editing the caption only", "error", e.msg, "reason", err.Error())
			mode, upload = editCaption, nil
			continue
		case e.act == actMedia && mode == editMedia:
			c.log.Warn("telegram could not take the new photo, editing the caption only", "error", e.msg)
			mode, upload = editCaption, nil
			continue
		case e.act == actEditWrongKind && !triedOther:
			triedOther = true
			if mode == editText {
				if units(plainOf(p.Text)) > CaptionLimit {
					return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: fmt.Errorf("edit: the post is a photo and the new text does not fit its caption")}
				}
				mode = editCaption
			} else {
				p, mode, upload = p.AsTextPost(c.opts.Format.NoLinkPreview), editText, nil
			}
			continue
		}
		return syndicate.Receipt{}, e.delivery()
	}
	return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: fmt.Errorf("edit: too many fallbacks")}
}

// editDocuments sends, after an edit, the documents whose URL the earlier
// post did not carry, and returns their receipt ids. The stored delivery
// keeps the receipt but not the earlier item (an edit job replaces it), so
// the receipt itself records which document each follow-up was (see
// documentID); documents already sent are not sent again, and a document
// the article no longer has stays in the chat.
func (c *Channel) editDocuments(ctx context.Context, docs []Document, ids []string) []string {
	sent := sentDocuments(ids)
	var out []string
	for _, d := range docs {
		if sent[documentKey(d.URL)] {
			continue
		}
		id, err := c.sendDocument(ctx, d)
		if err != nil {
			continue // logged; a later edit tries again
		}
		out = append(out, documentID(id, d.URL))
		sent[documentKey(d.URL)] = true
	}
	return out
}

func (c *Channel) editOnce(ctx context.Context, p Post, id int, mode editMode, plain bool, upload []byte) *apiError {
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
			media := &models.InputMediaPhoto{Media: p.Photo, Caption: text, ParseMode: parseMode}
			if upload != nil {
				// Built for each request: the request consumes the reader.
				media.Media, media.MediaAttachment = "attach://photo", bytes.NewReader(upload)
			}
			_, err := c.bot.api.EditMessageMedia(ctx, &tgbot.EditMessageMediaParams{
				ChatID: c.chatID(), MessageID: id, ReplyMarkup: kb, Media: media,
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

// documentTag separates, in a receipt id, the message id of a document
// follow-up from the key of the document's URL: "57:doc:1f2e3d4c5b6a7980".
// The message id stays first so the id still names the message.
const documentTag = ":doc:"

// documentKey identifies a document URL in a receipt without storing the
// URL itself.
func documentKey(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:8])
}

// documentID is the receipt id of a document follow-up.
func documentID(messageID int, url string) string {
	return strconv.Itoa(messageID) + documentTag + documentKey(url)
}

// sentDocuments returns the keys of the documents a receipt records.
func sentDocuments(ids []string) map[string]bool {
	sent := map[string]bool{}
	for _, id := range ids {
		if _, key, ok := strings.Cut(id, documentTag); ok {
			sent[key] = true
		}
	}
	return sent
}
