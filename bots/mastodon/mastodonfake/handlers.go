package mastodonfake

import (
	"bytes"
	"fmt"
	"html"
	"image"
	_ "image/gif" // decoders for the image types the fake accepts
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	_ "golang.org/x/image/webp" // WebP uploads
)

func (s *Server) handle(req *request, endpoint string, now time.Time) answer {
	switch endpoint {
	case "GET /api/v2/instance":
		if s.opts.NoV2Instance {
			return errorAnswer(http.StatusNotFound, "Record not found")
		}
		return answer{status: 200, body: s.instance(true)}
	case "GET /api/v1/instance":
		return answer{status: 200, body: s.instance(false)}
	case "GET /api/v1/accounts/verify_credentials":
		return answer{status: 200, body: s.accountJSON(req.account)}
	case "GET /api/v1/apps/verify_credentials":
		return s.appCredentials(req.token)
	case "POST /api/v2/media":
		return s.upload(req, false)
	case "POST /api/v1/media":
		return s.upload(req, true)
	case "GET /api/v1/media/{id}":
		return s.getMedia(req)
	case "PUT /api/v1/media/{id}":
		return s.putMedia(req)
	case "POST /api/v1/statuses":
		return s.postStatus(req, now)
	case "PUT /api/v1/statuses/{id}":
		return s.putStatus(req, now)
	case "GET /api/v1/statuses/{id}":
		s.mu.Lock()
		defer s.mu.Unlock()
		if st := s.find(req.vals["id"]); st != nil {
			return answer{status: 200, body: s.statusJSON(st)}
		}
		return errorAnswer(http.StatusNotFound, "Record not found")
	case "GET /api/v1/accounts/{id}/statuses":
		return s.accountStatuses(req)
	}
	return errorAnswer(http.StatusNotFound, "Record not found")
}

// instanceVersion is the version string each flavour's instance answer
// gives: Mastodon's own, GoToSocial's own (it imitates Mastodon's only when
// configured to), Pleroma's and Akkoma's "compatible" form.
var instanceVersion = map[string]string{
	FlavourMastodon:   "4.5.0",
	FlavourGoToSocial: "0.19.2",
	FlavourPleroma:    "2.7.2 (compatible; Pleroma 2.5.0)",
	FlavourAkkoma:     "2.7.2 (compatible; Akkoma 3.13.2)",
	FlavourUnknown:    "7",
}

func (s *Server) instance(v2 bool) map[string]any {
	if s.pleromaLike() {
		return s.pleromaInstance(v2)
	}
	o := s.opts
	media := map[string]any{
		"supported_mime_types":   o.SupportedMIMETypes,
		"image_size_limit":       o.ImageSizeLimit,
		"image_matrix_limit":     o.ImageMatrixLimit,
		"video_size_limit":       99 << 20,
		"video_frame_rate_limit": 60,
		"video_matrix_limit":     8294400,
	}
	if v2 {
		media["description_limit"] = o.DescriptionLimit
	}
	host := strings.TrimPrefix(s.ts.URL, "http://")
	m := map[string]any{
		"title":   "Fake " + o.Flavour,
		"version": instanceVersion[o.Flavour],
		"configuration": map[string]any{
			"statuses": map[string]any{
				"max_characters":              o.MaxCharacters,
				"max_media_attachments":       o.MaxMedia,
				"characters_reserved_per_url": o.ReservedPerURL,
			},
			"media_attachments": media,
		},
	}
	if o.Version != "" {
		m["version"] = o.Version
	}
	switch {
	case o.NoSourceURL:
	case o.Flavour == FlavourGoToSocial && v2:
		// GoToSocial names its source in v2 only.
		m["source_url"] = "https://codeberg.org/superseriousbusiness/gotosocial"
	case o.Flavour == FlavourMastodon:
		m["source_url"] = "https://github.com/mastodon/mastodon"
	}
	if v2 {
		m["domain"] = host
	} else {
		m["uri"] = host
	}
	return m
}

// pleromaInstance is Pleroma's instance answer: the limits as top-level
// extras in v1, a Mastodon-style configuration block only in versions that
// also serve v2 (see FlavourPleroma).
func (s *Server) pleromaInstance(v2 bool) map[string]any {
	o := s.opts
	version := o.Version
	if version == "" {
		version = instanceVersion[o.Flavour]
	}
	source := "https://git.pleroma.social/pleroma/pleroma"
	if o.Flavour == FlavourAkkoma {
		source = "https://akkoma.dev/AkkomaGang/akkoma"
	}
	host := strings.TrimPrefix(s.ts.URL, "http://")
	polls := map[string]any{"max_options": 20, "max_characters_per_option": 200, "min_expiration": 0, "max_expiration": 31536000}
	statuses := map[string]any{"max_characters": o.MaxCharacters, "max_media_attachments": o.MaxMedia}
	configuration := map[string]any{
		"statuses": statuses,
		"media_attachments": map[string]any{
			"image_size_limit": o.ImageSizeLimit,
			"video_size_limit": o.ImageSizeLimit,
			// Pleroma takes any file and says so this way.
			"supported_mime_types": []string{"application/octet-stream"},
		},
		"polls": polls,
	}
	metadata := map[string]any{
		"features":     []string{"pleroma_api", "mastodon_api", "mastodon_api_streaming", "polls", "editing"},
		"post_formats": []string{"text/plain", "text/html", "text/markdown", "text/bbcode"},
	}
	if v2 {
		statuses["characters_reserved_per_url"] = 0
		metadata["description_limit"] = o.DescriptionLimit
		m := map[string]any{
			"domain": host, "title": "Fake " + o.Flavour, "version": version, "source_url": source,
			"configuration": configuration,
			"pleroma":       map[string]any{"metadata": metadata},
		}
		if o.NoSourceURL {
			delete(m, "source_url")
		}
		return m
	}
	m := map[string]any{
		"uri": host, "title": "Fake " + o.Flavour, "version": version,
		"max_toot_chars":      o.MaxCharacters,
		"poll_limits":         map[string]any{"max_options": 20, "max_option_chars": 200, "min_expiration": 0, "max_expiration": 31536000},
		"upload_limit":        o.ImageSizeLimit,
		"avatar_upload_limit": 2_000_000,
		"banner_upload_limit": 4_000_000,
		"description_limit":   o.DescriptionLimit,
		"pleroma":             map[string]any{"metadata": metadata},
	}
	if !o.NoV2Instance {
		// Versions with v2 also put Mastodon's block into v1.
		m["configuration"] = configuration
		m["max_media_attachments"] = o.MaxMedia
	}
	return m
}

func (s *Server) accountJSON(acct string) map[string]any {
	return map[string]any{"id": "1", "username": acct, "acct": acct, "url": s.ts.URL + "/@" + acct, "display_name": acct}
}

var mimeExt = map[string]string{"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "video/mp4": "mp4"}

// upload stores a file: POST /api/v2/media (v1 false) or the deprecated
// synchronous POST /api/v1/media.
func (s *Server) upload(req *request, v1 bool) answer {
	pleroma := s.pleromaLike()
	fh := req.files["file"]
	if fh == nil {
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: File can't be blank")
	}
	f, err := fh.Open()
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, "Error processing thumbnail for uploaded media")
	}
	data, _ := io.ReadAll(f)
	f.Close()
	ct := http.DetectContentType(data)
	if ct == "application/octet-stream" || ct == "text/plain; charset=utf-8" {
		ct = fh.Header.Get("Content-Type")
	}
	if !oneOf(ct, s.opts.SupportedMIMETypes...) {
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: File content type is invalid, File is invalid")
	}
	if int64(len(data)) > s.opts.ImageSizeLimit && pleroma {
		return errorAnswer(http.StatusRequestEntityTooLarge, "File is too large") // [inf]
	}
	if int64(len(data)) > s.opts.ImageSizeLimit {
		return errorAnswer(http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: File file size must be less than %d MB", s.opts.ImageSizeLimit>>20))
	}
	desc := req.form.Get("description")
	if utf8.RuneCountInString(desc) > s.opts.DescriptionLimit && pleroma {
		return errorAnswer(http.StatusUnprocessableEntity, "description_too_long") // [inf]
	}
	if utf8.RuneCountInString(desc) > s.opts.DescriptionLimit {
		return errorAnswer(http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: Description is too long (maximum is %d characters)", s.opts.DescriptionLimit))
	}
	a := &Attachment{Account: req.account, ContentType: ct, Description: desc, Size: len(data), Type: "image"}
	if strings.HasPrefix(ct, "image/") {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: File content type is invalid, File is invalid")
		}
		if int64(cfg.Width)*int64(cfg.Height) > s.opts.ImageMatrixLimit {
			return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: File dimensions are too large")
		}
		a.Width, a.Height = cfg.Width, cfg.Height
	} else {
		a.Type = "video"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	a.ID = strconv.Itoa(s.nextID)
	a.URL = fmt.Sprintf("%s/system/media/%s.%s", s.ts.URL, a.ID, mimeExt[ct])
	// v1 uploads and Pleroma's are processed before the answer.
	if !v1 && !pleroma {
		a.pending = s.opts.MediaProcessing
	}
	s.media[a.ID] = a
	if a.pending > 0 || (pleroma && !v1) {
		return answer{status: http.StatusAccepted, body: s.mediaJSON(a)}
	}
	return answer{status: 200, body: s.mediaJSON(a)}
}

func (s *Server) mediaJSON(a *Attachment) map[string]any {
	m := map[string]any{"id": a.ID, "type": a.Type, "description": a.Description, "url": nil, "preview_url": nil,
		"meta": map[string]any{"original": map[string]any{"width": a.Width, "height": a.Height}}}
	if a.pending == 0 {
		m["url"], m["preview_url"] = a.URL, a.URL
	}
	if s.pleromaLike() {
		m["pleroma"] = map[string]any{"mime_type": a.ContentType}
	}
	return m
}

func (s *Server) getMedia(req *request) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.media[req.vals["id"]]
	if a == nil || a.Account != req.account {
		return errorAnswer(http.StatusNotFound, "Record not found")
	}
	if a.pending > 0 {
		a.pending--
		m := s.mediaJSON(a)
		m["url"], m["preview_url"] = nil, nil
		return answer{status: http.StatusPartialContent, body: m}
	}
	return answer{status: 200, body: s.mediaJSON(a)}
}

func (s *Server) putMedia(req *request) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.media[req.vals["id"]]
	if a == nil || a.Account != req.account || a.StatusID != "" {
		return errorAnswer(http.StatusNotFound, "Record not found")
	}
	if d, ok := req.form["description"]; ok {
		a.Description = d[0]
	}
	return answer{status: 200, body: s.mediaJSON(a)}
}

// refusal is a reason the server refuses a status for.
type refusal int

const (
	refuseBlank refusal = iota
	refuseTooManyMedia
)

// validationError answers a refused status with the flavour's code and
// text. Mastodon: 422 and ActiveRecord's "Validation failed: …" with the
// model's messages (app/models/status.rb, app/services/post_status_service.rb).
// GoToSocial: 400 with the texts of validateStatusContent
// (internal/processing/status/common.go). Pleroma and Akkoma: 422 with the
// texts of lib/pleroma/web/common_api/utils.ex and activity_draft.ex.
func (s *Server) validationError(r refusal) answer {
	max := s.opts.MaxMedia
	switch {
	case s.pleromaLike() && r == refuseBlank:
		return errorAnswer(http.StatusUnprocessableEntity, "Cannot post an empty status without attachments")
	case s.pleromaLike():
		return errorAnswer(http.StatusUnprocessableEntity, "Too many attachments")
	case s.opts.Flavour == FlavourGoToSocial && r == refuseBlank:
		return errorAnswer(http.StatusBadRequest, "Bad Request: status contains no text, media or poll")
	case s.opts.Flavour == FlavourGoToSocial:
		return errorAnswer(http.StatusBadRequest, fmt.Sprintf("Bad Request: media files exceed max count (%d)", max))
	case r == refuseBlank:
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
	}
	// Mastodon::ValidationError is answered without ActiveRecord's prefix.
	return errorAnswer(http.StatusUnprocessableEntity, fmt.Sprintf("Cannot attach more than %d files", max))
}

// Length counts a status as the server's flavour does.
func (s *Server) Length(spoiler, text string) int {
	return FlavourLength(s.opts.Flavour, spoiler, text, s.opts.ReservedPerURL)
}

// checkText applies the flavour's length rule and answers a status over
// the limit as the flavour does (see the Flavour constants for sources).
func (s *Server) checkText(text, spoiler string) (answer, bool) {
	max := s.opts.MaxCharacters
	if s.Length(spoiler, text) <= max {
		return answer{}, true
	}
	switch s.opts.Flavour {
	case FlavourPleroma, FlavourAkkoma:
		return errorAnswer(http.StatusUnprocessableEntity, "The status is over the character limit"), false
	case FlavourGoToSocial:
		return errorAnswer(http.StatusBadRequest, fmt.Sprintf("Bad Request: text with spoiler exceed max chars (%d)", max)), false
	case FlavourUnknown:
		return errorAnswer(http.StatusUnprocessableEntity, "Status is too long"), false
	}
	return errorAnswer(http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: Text character limit of %d exceeded", max)), false
}

// attach resolves media ids for a status; unknown ids are ignored as
// Mastodon does.
func (s *Server) attach(account string, ids []string, statusID string) ([]*Attachment, answer, bool) {
	if len(ids) > s.opts.MaxMedia {
		return nil, s.validationError(refuseTooManyMedia), false
	}
	var out []*Attachment
	for _, id := range ids {
		a := s.media[id]
		if a == nil || a.Account != account || (a.StatusID != "" && a.StatusID != statusID) {
			continue
		}
		if a.pending > 0 {
			return nil, errorAnswer(http.StatusUnprocessableEntity, "Cannot attach files that have not finished processing. Try again in a moment!"), false
		}
		out = append(out, a)
	}
	return out, answer{}, true
}

func (s *Server) postStatus(req *request, now time.Time) answer {
	f := req.form
	key := req.Header.Get("Idempotency-Key")
	s.mu.Lock()
	defer s.mu.Unlock()
	useKey := key != "" && (s.opts.Flavour == FlavourMastodon || s.opts.Flavour == FlavourUnknown)
	if useKey {
		if e, ok := s.idempotency[req.account+"\x00"+key]; ok && now.Sub(e.at) < time.Hour {
			if st := s.find(e.statusID); st != nil {
				return answer{status: 200, body: s.statusJSON(st)}
			}
		}
	}
	text, spoiler := f.Get("status"), f.Get("spoiler_text")
	ids := f["media_ids[]"]
	blank := strings.TrimSpace(text) == ""
	if s.opts.Flavour == FlavourGoToSocial {
		// GoToSocial refuses only a status of no code points at all.
		blank = text == "" && spoiler == ""
	}
	if blank && len(ids) == 0 {
		return s.validationError(refuseBlank)
	}
	if a, ok := s.checkText(text, spoiler); !ok {
		return a
	}
	media, a, ok := s.attach(req.account, ids, "")
	if !ok {
		return a
	}
	vis := f.Get("visibility")
	if vis == "" {
		vis = "public"
		if s.opts.Flavour == FlavourGoToSocial {
			vis = "unlisted"
		}
	}
	s.nextID++
	st := &Status{
		ID: strconv.Itoa(s.nextID), Account: req.account, Text: text, SpoilerText: spoiler, Visibility: vis,
		Language: language(f.Get("language")), Sensitive: f.Get("sensitive") == "true" || spoiler != "",
		IdempotencyKey: key, CreatedAt: now,
	}
	st.URL = fmt.Sprintf("%s/@%s/%s", s.ts.URL, req.account, st.ID)
	s.setText(st, text)
	for _, m := range media {
		m.StatusID = st.ID
		st.Media = append(st.Media, *m)
	}
	s.statuses = append(s.statuses, st)
	if useKey {
		s.idempotency[req.account+"\x00"+key] = idemEntry{statusID: st.ID, at: now}
	}
	return answer{status: 200, body: s.statusJSON(st)}
}

func (s *Server) putStatus(req *request, now time.Time) answer {
	f := req.form
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.find(req.vals["id"])
	if st == nil || st.Account != req.account {
		return errorAnswer(http.StatusNotFound, "Record not found")
	}
	text, spoiler := f.Get("status"), f.Get("spoiler_text")
	if a, ok := s.checkText(text, spoiler); !ok {
		return a
	}
	ids, hasMedia := f["media_ids[]"]
	media, a, ok := s.attach(req.account, ids, st.ID)
	if !ok {
		return a
	}
	st.Text, st.SpoilerText = text, spoiler
	s.setText(st, text)
	if l := f.Get("language"); l != "" {
		st.Language = language(l)
	}
	st.Sensitive = f.Get("sensitive") == "true" || spoiler != ""
	if hasMedia {
		st.Media = nil
		for _, m := range media {
			m.StatusID = st.ID
			st.Media = append(st.Media, *m)
		}
	}
	// media_attributes[][id] and [][description] come in order.
	attrIDs, descs := f["media_attributes[][id]"], f["media_attributes[][description]"]
	for i, id := range attrIDs {
		for j := range st.Media {
			if st.Media[j].ID == id && i < len(descs) {
				st.Media[j].Description = descs[i]
				if m := s.media[id]; m != nil {
					m.Description = descs[i]
				}
			}
		}
	}
	st.Edits++
	st.EditedAt = now
	return answer{status: 200, body: s.statusJSON(st)}
}

func (s *Server) accountStatuses(req *request) answer {
	limit := 20
	if l, err := strconv.Atoi(req.URL.Query().Get("limit")); err == nil && l > 0 {
		limit = min(l, 40)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for i := len(s.statuses) - 1; i >= 0 && len(out) < limit; i-- {
		if s.statuses[i].Account == req.account {
			out = append(out, s.statusJSON(s.statuses[i]))
		}
	}
	return answer{status: 200, body: out}
}

func (s *Server) find(id string) *Status {
	for _, st := range s.statuses {
		if st.ID == id {
			return st
		}
	}
	return nil
}

var languageRE = regexp.MustCompile(`^[a-z]{2,3}$`)

// language keeps a valid code; Mastodon falls back to the account's
// language for anything else.
func language(l string) string {
	if languageRE.MatchString(l) {
		return l
	}
	return "en"
}

// setText derives what followers see from the status text.
func (s *Server) setText(st *Status, text string) {
	st.Mentions = Mentions(text)
	st.Tags = Hashtags(text)
	st.Content = contentHTML(text)
}

// contentHTML renders text as the server's HTML: escaped, URLs linked,
// paragraphs and line breaks.
func contentHTML(text string) string {
	var b strings.Builder
	for para := range strings.SplitSeq(text, "\n\n") {
		b.WriteString("<p>")
		spans := urlSpans(para)
		sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
		last := 0
		for _, sp := range spans {
			b.WriteString(strings.ReplaceAll(html.EscapeString(para[last:sp.start]), "\n", "<br />"))
			u := html.EscapeString(para[sp.start:sp.end])
			fmt.Fprintf(&b, `<a href="%s" rel="nofollow noopener" target="_blank">%s</a>`, u, u)
			last = sp.end
		}
		b.WriteString(strings.ReplaceAll(html.EscapeString(para[last:]), "\n", "<br />"))
		b.WriteString("</p>")
	}
	return b.String()
}

func (s *Server) statusJSON(st *Status) map[string]any {
	var media []map[string]any
	for _, m := range st.Media {
		mm := m
		media = append(media, s.mediaJSON(&mm))
	}
	var mentions []map[string]string
	for _, m := range st.Mentions {
		mentions = append(mentions, map[string]string{"id": "2", "username": strings.Split(m, "@")[0], "acct": m, "url": "https://example.invalid/@" + m})
	}
	var tags []map[string]string
	for _, t := range st.Tags {
		tags = append(tags, map[string]string{"name": t, "url": s.ts.URL + "/tags/" + t})
	}
	m := map[string]any{
		"id": st.ID, "uri": st.URL, "url": st.URL, "content": st.Content, "created_at": st.CreatedAt.UTC().Format(time.RFC3339),
		"spoiler_text": st.SpoilerText, "visibility": st.Visibility, "language": st.Language, "sensitive": st.Sensitive,
		"media_attachments": media, "mentions": mentions, "tags": tags, "account": s.accountJSON(st.Account),
	}
	if !st.EditedAt.IsZero() {
		m["edited_at"] = st.EditedAt.UTC().Format(time.RFC3339)
	}
	if s.pleromaLike() {
		m["pleroma"] = map[string]any{"local": true, "content": map[string]string{"text/plain": st.Text},
			"spoiler_text": map[string]string{"text/plain": st.SpoilerText}, "expires_at": nil}
	}
	return m
}
