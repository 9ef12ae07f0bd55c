package telegramfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// maxPhotoByURL is the largest photo Telegram fetches from a URL (Bot API
// "Sending files": 5 MB for photos by URL, 10 MB uploaded).
const maxPhotoByURL = 5 << 20

// defaultFetchTimeout bounds one fetch of a photo URL.
const defaultFetchTimeout = 10 * time.Second

// fetched is what fetching a photo URL gave: the refusal Telegram would
// answer, or the photo's size.
type fetched struct {
	refusal       string
	width, height int
	bytes         int
}

// photoURLs lists the photo URLs a request asks Telegram to fetch.
func photoURLs(method string, p params) []string {
	var out []string
	add := func(kind, media string) {
		if kind == "photo" && (strings.HasPrefix(media, "http://") || strings.HasPrefix(media, "https://")) {
			out = append(out, media)
		}
	}
	switch method {
	case "sendPhoto":
		if _, uploaded := p.files["photo"]; !uploaded {
			add("photo", p.values["photo"])
		}
	case "sendMediaGroup", "editMessageMedia":
		raw := p.values["media"]
		var list []inputMedia
		if method == "editMessageMedia" {
			raw = "[" + raw + "]"
		}
		if json.Unmarshal([]byte(raw), &list) != nil {
			return nil
		}
		for _, im := range list {
			add(im.Type, im.Media)
		}
	}
	return out
}

// prefetch fetches a request's photo URLs before the request is handled
// (outside the server's lock), skipping URLs already refused.
func (s *Server) prefetch(method string, p *params) {
	if !s.opts.FetchURLs {
		return
	}
	for _, u := range photoURLs(method, *p) {
		s.mu.Lock()
		_, refused := s.rejected[u]
		s.mu.Unlock()
		if refused {
			continue
		}
		if p.fetched == nil {
			p.fetched = map[string]fetched{}
		}
		if _, done := p.fetched[u]; !done {
			p.fetched[u] = s.fetchPhoto(u)
		}
	}
}

// fetchPhoto downloads a photo URL and judges it as Telegram does. The
// texts are the Bot API server's: Client.cpp (tdlib/telegram-bot-api)
// turns the server errors WEBPAGE_CURL_FAILED into "Failed to get HTTP URL
// content" and WEBPAGE_MEDIA_EMPTY into "Wrong type of the web page
// content", prefixed "Bad Request: " with the first letter lowered.
func (s *Server) fetchPhoto(rawURL string) fetched {
	client := s.opts.FetchClient
	if client == nil {
		client = &http.Client{Timeout: defaultFetchTimeout}
	}
	resp, err := client.Get(rawURL)
	if err != nil {
		return fetched{refusal: FailedToGetURL}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fetched{refusal: FailedToGetURL}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPhotoByURL+1))
	if err != nil {
		return fetched{refusal: FailedToGetURL}
	}
	if len(data) > maxPhotoByURL {
		// Over the by-URL limit the server answers MEDIA_EMPTY, which TDLib
		// (td/telegram/MessagesManager.cpp) words "Wrong file identifier/HTTP
		// URL specified" for photos; observed for files over the URL limits
		// in tdlib/telegram-bot-api#150.
		return fetched{refusal: WrongFileIdentifier}
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(strings.ToLower(mt), "image/") {
		return fetched{refusal: WrongContentType}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fetched{refusal: WrongContentType}
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 || w+h > 10000 || w > 20*h || h > 20*w {
		return fetched{refusal: InvalidDimensions}
	}
	return fetched{width: w, height: h, bytes: len(data)}
}

// fetchedPhotoLocked answers a photo URL from what prefetch found; a
// refusal is remembered, as Telegram keeps a failed fetch for days. It
// reports false when the URL was not fetched.
func (s *Server) fetchedPhotoLocked(value, id string, p params) (media, bool, error) {
	f, ok := p.fetched[value]
	if !ok {
		return media{}, false, nil
	}
	if f.refusal != "" {
		s.rejected[value] = f.refusal
		return media{}, true, fmt.Errorf("%s", f.refusal)
	}
	return media{source: value, photo: []PhotoSize{
		{FileID: id, FileUniqueID: id, Width: f.width, Height: f.height, FileSize: f.bytes},
	}}, true, nil
}
