package telegramfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // uploads may be GIF
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"

	_ "golang.org/x/image/webp" // uploads may be WebP
)

// ChatInfo is the chat of a message as the Bot API shows it.
type ChatInfo struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"`
	Title    string `json:"title,omitempty"`
	Username string `json:"username,omitempty"`
}

// PhotoSize is one size of a photo.
type PhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

// Document is a file message's document.
type Document struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

// Keyboard is an inline keyboard.
type Keyboard struct {
	InlineKeyboard [][]Button `json:"inline_keyboard"`
}

// LinkPreviewOptions are the link preview options of a text message.
type LinkPreviewOptions struct {
	IsDisabled       bool   `json:"is_disabled,omitempty"`
	URL              string `json:"url,omitempty"`
	PreferSmallMedia bool   `json:"prefer_small_media,omitempty"`
	PreferLargeMedia bool   `json:"prefer_large_media,omitempty"`
	ShowAboveText    bool   `json:"show_above_text,omitempty"`
}

// Message is a message as the Bot API returns it, plus what the fake
// keeps for tests (not serialised).
type Message struct {
	MessageID           int64               `json:"message_id"`
	MessageThreadID     int64               `json:"message_thread_id,omitempty"`
	SenderChat          *ChatInfo           `json:"sender_chat,omitempty"`
	Chat                ChatInfo            `json:"chat"`
	Date                int64               `json:"date"`
	EditDate            int64               `json:"edit_date,omitempty"`
	HasProtectedContent bool                `json:"has_protected_content,omitempty"`
	MediaGroupID        string              `json:"media_group_id,omitempty"`
	Text                string              `json:"text,omitempty"`
	Entities            []Entity            `json:"entities,omitempty"`
	LinkPreviewOptions  *LinkPreviewOptions `json:"link_preview_options,omitempty"`
	Caption             string              `json:"caption,omitempty"`
	CaptionEntities     []Entity            `json:"caption_entities,omitempty"`
	Photo               []PhotoSize         `json:"photo,omitempty"`
	Document            *Document           `json:"document,omitempty"`
	ReplyMarkup         *Keyboard           `json:"reply_markup,omitempty"`

	// Silent is whether the message was sent without notification.
	Silent bool `json:"-"`
	// Media is the URL the photo or document was fetched from, or
	// "upload:<file name>" for an uploaded one.
	Media string `json:"-"`
	// Edits counts the edits applied.
	Edits int `json:"-"`
	// ParseMode is the parse mode the text or caption was sent with.
	ParseMode string `json:"-"`
	// sender is the token of the bot that sent the message.
	sender string
}

// sendMethods put a message into a chat and count against its flood limit.
var sendMethods = map[string]bool{
	"sendMessage": true, "sendPhoto": true, "sendDocument": true, "sendMediaGroup": true,
	"editMessageText": true, "editMessageCaption": true, "editMessageMedia": true,
}

func (s *Server) handle(method, token string, p params) answer {
	switch method {
	case "getMe":
		s.mu.Lock()
		a, ok := s.floodCheck(token, 0, false)
		s.mu.Unlock()
		if !ok {
			return a
		}
		return answer{result: botUser(token)}
	case "getChat", "getChatMember":
		return s.readChat(method, token, p)
	}
	if !sendMethods[method] {
		return answer{result: true}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveLocked(p.values["chat_id"])
	if err != nil {
		return badRequest(err)
	}
	if c.migratedTo != 0 {
		return answer{code: http.StatusBadRequest, description: MigratedText, migrateTo: c.migratedTo}
	}
	if a, ok := c.access(token, true); !ok {
		return a
	}
	p.token = token
	if a, ok := s.mayWrite(c, method, p); !ok {
		return a
	}
	if a, ok := s.floodCheck(token, c.ID, true); !ok {
		return a
	}
	switch method {
	case "sendMessage":
		return s.sendMessage(c, p)
	case "sendPhoto":
		return s.sendFile(c, p, "photo")
	case "sendDocument":
		return s.sendFile(c, p, "document")
	case "sendMediaGroup":
		return s.sendMediaGroup(c, p)
	case "editMessageText":
		return s.editText(c, p)
	case "editMessageCaption":
		return s.editCaption(c, p)
	default:
		return s.editMedia(c, p)
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) resolveLocked(chat string) (*chatState, error) {
	if strings.HasPrefix(chat, "@") {
		id, ok := s.usernames[strings.ToLower(chat[1:])]
		if !ok {
			return nil, fmt.Errorf(ChatNotFoundText)
		}
		return s.chats[id], nil
	}
	id, err := strconv.ParseInt(chat, 10, 64)
	if err != nil {
		return nil, fmt.Errorf(ChatNotFoundText)
	}
	c, ok := s.chats[id]
	if !ok {
		return nil, fmt.Errorf(ChatNotFoundText)
	}
	return c, nil
}

func (s *Server) newMessage(c *chatState, p params) *Message {
	m := &Message{
		MessageID:           c.nextID,
		Chat:                ChatInfo{ID: c.ID, Type: c.Type, Title: c.Title, Username: c.Username},
		Date:                s.clock.Now().Unix(),
		HasProtectedContent: p.bool("protect_content"),
		Silent:              p.bool("disable_notification"),
	}
	if m.Chat.Type == "channel" {
		sc := m.Chat
		m.SenderChat = &sc
	}
	// Outside forums Telegram ignores the thread (see chatState.topic).
	if t, err := strconv.ParseInt(p.values["message_thread_id"], 10, 64); err == nil && c.IsForum {
		m.MessageThreadID = t
	}
	m.sender = p.token
	c.nextID++
	return m
}

// formatted parses a text or caption in the given parse mode and checks
// Telegram's limits.
func formatted(raw, parseMode string, limit int, caption bool) (string, []Entity, error) {
	if len(raw) > 1<<15 {
		return "", nil, fmt.Errorf(TextTooLong)
	}
	text, entities := raw, []Entity(nil)
	switch strings.ToLower(parseMode) {
	case "":
	case "html":
		var err error
		text, entities, err = ParseHTML(raw)
		if err != nil {
			return "", nil, fmt.Errorf("Bad Request: can't parse entities: %v", err)
		}
	default:
		return "", nil, fmt.Errorf("Bad Request: unsupported parse_mode %q in this fake", parseMode)
	}
	if !caption && strings.TrimSpace(text) == "" {
		return "", nil, fmt.Errorf(MessageTextEmpty)
	}
	if Length(text) > limit {
		if caption {
			return "", nil, fmt.Errorf(CaptionTooLong)
		}
		return "", nil, fmt.Errorf(MessageTooLong)
	}
	return text, entities, nil
}

func keyboardOf(p params) (*Keyboard, error) {
	raw, ok := p.values["reply_markup"]
	if !ok {
		return nil, nil
	}
	rows, err := parseKeyboard(raw)
	if err != nil {
		return nil, fmt.Errorf("Bad Request: %v", err)
	}
	return &Keyboard{InlineKeyboard: rows}, nil
}

func previewOf(p params) (*LinkPreviewOptions, error) {
	raw, ok := p.values["link_preview_options"]
	if !ok {
		return nil, nil
	}
	var o LinkPreviewOptions
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		return nil, fmt.Errorf("Bad Request: can't parse link preview options JSON object")
	}
	if o.URL != "" {
		if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("Bad Request: wrong link preview URL")
		}
	}
	return &o, nil
}

func (s *Server) sendMessage(c *chatState, p params) answer {
	text, entities, err := formatted(p.values["text"], p.values["parse_mode"], 4096, false)
	if err != nil {
		return badRequest(err)
	}
	kb, err := keyboardOf(p)
	if err != nil {
		return badRequest(err)
	}
	lp, err := previewOf(p)
	if err != nil {
		return badRequest(err)
	}
	m := s.newMessage(c, p)
	m.Text, m.Entities, m.ReplyMarkup, m.LinkPreviewOptions = text, entities, kb, lp
	m.ParseMode = p.values["parse_mode"]
	return s.store(c, m)
}

func (s *Server) store(c *chatState, ms ...*Message) answer {
	var out []Message
	for _, m := range ms {
		c.messages = append(c.messages, m)
		out = append(out, *m)
	}
	if len(out) == 1 {
		return answer{result: out[0], messages: out}
	}
	return answer{result: out, messages: out}
}

// media is a photo or document a request refers to.
type media struct {
	source string // URL or "upload:<name>"
	photo  []PhotoSize
	doc    *Document
}

// fetchMedia resolves a file parameter (a URL, an attach:// reference or
// an uploaded part) the way Telegram would, with its limits.
func (s *Server) fetchMedia(kind, value string, file *File, p params) (media, error) {
	if file == nil && strings.HasPrefix(value, "attach://") {
		f, ok := p.files[strings.TrimPrefix(value, "attach://")]
		if !ok {
			return media{}, fmt.Errorf(WrongFileIdentifier)
		}
		file = &f
	}
	s.nextFile++
	id := fmt.Sprintf("file-%d", s.nextFile)
	if file != nil {
		return uploaded(kind, id, *file)
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return media{}, fmt.Errorf(WrongFileIdentifier)
	}
	if d, ok := s.rejected[value]; ok {
		return media{}, fmt.Errorf("%s", d)
	}
	if kind == "photo" {
		if m, ok, err := s.fetchedPhotoLocked(value, id, p); ok {
			return m, err
		}
	}
	m := media{source: value}
	switch kind {
	case "photo":
		m.photo = []PhotoSize{{FileID: id + "-s", FileUniqueID: id + "-s", Width: 90, Height: 60}, {FileID: id, FileUniqueID: id, Width: 1200, Height: 800}}
	default:
		ext := strings.ToLower(path.Ext(u.Path))
		if ext != ".pdf" && ext != ".zip" && ext != ".gif" {
			return media{}, fmt.Errorf(WrongContentType)
		}
		m.doc = &Document{FileID: id, FileUniqueID: id, FileName: path.Base(u.Path), MimeType: mimeOf(ext)}
	}
	return m, nil
}

func mimeOf(ext string) string {
	switch ext {
	case ".pdf":
		return "application/pdf"
	case ".zip":
		return "application/zip"
	}
	return "image/gif"
}

func uploaded(kind, id string, f File) (media, error) {
	m := media{source: "upload:" + f.Name}
	if kind != "photo" {
		if len(f.Data) > 50<<20 {
			return media{}, fmt.Errorf("Request Entity Too Large")
		}
		m.doc = &Document{FileID: id, FileUniqueID: id, FileName: f.Name, MimeType: f.ContentType, FileSize: len(f.Data)}
		return m, nil
	}
	if len(f.Data) > 10<<20 {
		return media{}, fmt.Errorf(FileTooBig)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Data))
	if err != nil {
		return media{}, fmt.Errorf("Bad Request: IMAGE_PROCESS_FAILED")
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 || w+h > 10000 || w > 20*h || h > 20*w {
		return media{}, fmt.Errorf(InvalidDimensions)
	}
	m.photo = []PhotoSize{{FileID: id, FileUniqueID: id, Width: w, Height: h, FileSize: len(f.Data)}}
	return m, nil
}

func (s *Server) sendFile(c *chatState, p params, kind string) answer {
	caption, entities, err := formatted(p.values["caption"], p.values["parse_mode"], 1024, true)
	if err != nil {
		return badRequest(err)
	}
	kb, err := keyboardOf(p)
	if err != nil {
		return badRequest(err)
	}
	var file *File
	if f, ok := p.files[kind]; ok {
		file = &f
	}
	md, err := s.fetchMedia(kind, p.values[kind], file, p)
	if err != nil {
		return badRequest(err)
	}
	m := s.newMessage(c, p)
	m.Caption, m.CaptionEntities, m.ReplyMarkup = caption, entities, kb
	m.Photo, m.Document, m.Media = md.photo, md.doc, md.source
	m.ParseMode = p.values["parse_mode"]
	return s.store(c, m)
}

// inputMedia is an InputMedia* object.
type inputMedia struct {
	Type      string `json:"type"`
	Media     string `json:"media"`
	Caption   string `json:"caption"`
	ParseMode string `json:"parse_mode"`
}

func (s *Server) parseInputMedia(raw json.RawMessage) (inputMedia, error) {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return inputMedia{}, fmt.Errorf("Bad Request: can't parse InputMedia JSON object")
	}
	var im inputMedia
	_ = json.Unmarshal(raw, &im)
	typ := "InputMedia" + strings.ToUpper(im.Type[:min(1, len(im.Type))]) + im.Type[min(1, len(im.Type)):]
	if _, ok := s.spec.Types[typ]; !ok || im.Type == "" {
		return inputMedia{}, fmt.Errorf("Bad Request: unsupported media type %q", im.Type)
	}
	if err := s.spec.checkObject(typ, obj); err != nil {
		return inputMedia{}, err
	}
	if im.Media == "" {
		return inputMedia{}, fmt.Errorf("Bad Request: there is no media in the request")
	}
	return im, nil
}

func (s *Server) sendMediaGroup(c *chatState, p params) answer {
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(p.values["media"]), &raws); err != nil {
		return fail(http.StatusBadRequest, "Bad Request: can't parse media JSON array")
	}
	if len(raws) < 2 || len(raws) > 10 {
		return fail(http.StatusBadRequest, "Bad Request: wrong number of media in the group: must be 2-10")
	}
	s.nextGroup++
	group := fmt.Sprintf("group-%d", s.nextGroup)
	var ms []*Message
	for _, raw := range raws {
		im, err := s.parseInputMedia(raw)
		if err != nil {
			return badRequest(err)
		}
		if im.Type != "photo" && im.Type != "video" {
			return fail(http.StatusBadRequest, "Bad Request: this fake takes only photo albums")
		}
		caption, entities, err := formatted(im.Caption, im.ParseMode, 1024, true)
		if err != nil {
			return badRequest(err)
		}
		md, err := s.fetchMedia("photo", im.Media, nil, p)
		if err != nil {
			return badRequest(err)
		}
		m := &Message{Caption: caption, CaptionEntities: entities, Photo: md.photo, Media: md.source, MediaGroupID: group, ParseMode: im.ParseMode}
		ms = append(ms, m)
	}
	for _, m := range ms {
		base := s.newMessage(c, p)
		base.Caption, base.CaptionEntities, base.Photo, base.Media, base.MediaGroupID, base.ParseMode = m.Caption, m.CaptionEntities, m.Photo, m.Media, m.MediaGroupID, m.ParseMode
		*m = *base
	}
	a := s.store(c, ms...)
	if len(ms) == 1 {
		a.result = []Message{a.messages[0]}
	}
	return a
}

func (c *chatState) find(p params) (*Message, error) {
	id, err := strconv.ParseInt(p.values["message_id"], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("Bad Request: message identifier is not specified")
	}
	for _, m := range c.messages {
		if m.MessageID == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf(MessageToEditMissing)
}

func (s *Server) editText(c *chatState, p params) answer {
	m, err := c.find(p)
	if err != nil {
		return badRequest(err)
	}
	if m.Text == "" {
		return fail(http.StatusBadRequest, "Bad Request: there is no text in the message to edit")
	}
	text, entities, err := formatted(p.values["text"], p.values["parse_mode"], 4096, false)
	if err != nil {
		return badRequest(err)
	}
	kb, err := keyboardOf(p)
	if err != nil {
		return badRequest(err)
	}
	lp, err := previewOf(p)
	if err != nil {
		return badRequest(err)
	}
	if m.Text == text && reflect.DeepEqual(m.Entities, entities) && reflect.DeepEqual(m.ReplyMarkup, kb) && reflect.DeepEqual(m.LinkPreviewOptions, lp) {
		return fail(http.StatusBadRequest, NotModified)
	}
	m.Text, m.Entities, m.ReplyMarkup, m.LinkPreviewOptions = text, entities, kb, lp
	return s.edited(m)
}

func (s *Server) edited(m *Message) answer {
	m.EditDate = s.clock.Now().Unix()
	m.Edits++
	return answer{result: *m, messages: []Message{*m}}
}

func (s *Server) editCaption(c *chatState, p params) answer {
	m, err := c.find(p)
	if err != nil {
		return badRequest(err)
	}
	if m.Photo == nil && m.Document == nil {
		return fail(http.StatusBadRequest, "Bad Request: there is no caption in the message to edit")
	}
	caption, entities, err := formatted(p.values["caption"], p.values["parse_mode"], 1024, true)
	if err != nil {
		return badRequest(err)
	}
	kb, err := keyboardOf(p)
	if err != nil {
		return badRequest(err)
	}
	if m.Caption == caption && reflect.DeepEqual(m.CaptionEntities, entities) && reflect.DeepEqual(m.ReplyMarkup, kb) {
		return fail(http.StatusBadRequest, NotModified)
	}
	m.Caption, m.CaptionEntities, m.ReplyMarkup = caption, entities, kb
	return s.edited(m)
}

func (s *Server) editMedia(c *chatState, p params) answer {
	m, err := c.find(p)
	if err != nil {
		return badRequest(err)
	}
	if m.Photo == nil && m.Document == nil {
		return fail(http.StatusBadRequest, "Bad Request: there is no media in the message to edit")
	}
	im, err := s.parseInputMedia(json.RawMessage(p.values["media"]))
	if err != nil {
		return badRequest(err)
	}
	caption, entities, err := formatted(im.Caption, im.ParseMode, 1024, true)
	if err != nil {
		return badRequest(err)
	}
	kb, err := keyboardOf(p)
	if err != nil {
		return badRequest(err)
	}
	kind := "photo"
	if im.Type == "document" {
		kind = "document"
	}
	if im.Media == m.Media && m.Caption == caption && reflect.DeepEqual(m.CaptionEntities, entities) && reflect.DeepEqual(m.ReplyMarkup, kb) {
		return fail(http.StatusBadRequest, NotModified)
	}
	md, err := s.fetchMedia(kind, im.Media, nil, p)
	if err != nil {
		return badRequest(err)
	}
	m.Caption, m.CaptionEntities, m.ReplyMarkup = caption, entities, kb
	m.Photo, m.Document, m.Media = md.photo, md.doc, md.source
	return s.edited(m)
}
