package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"golang.org/x/net/html"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// maxPageBytes is how much of an article page is read: the meta tags are
// in its head, near the start.
const maxPageBytes = 1 << 20

// ErrNoPageClient is returned by PageImage when no client for article
// pages was configured.
var ErrNoPageClient = errors.New("no client for article pages")

// PageImage returns the og:image (else twitter:image) of the article at
// pageURL, or nil when the page names none.
func (s *Source) PageImage(ctx context.Context, pageURL string) (*syndicate.Image, error) {
	if s.pages == nil {
		return nil, ErrNoPageClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return nil, fmt.Errorf("page image: %w", err)
	}
	req.Header.Set("Accept", "text/html, application/xhtml+xml;q=0.9")
	resp, err := s.pages.Do(req)
	if err != nil {
		return nil, fmt.Errorf("page image: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		return nil, fmt.Errorf("page image: http %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && mt != "text/html" && mt != "application/xhtml+xml" {
			return nil, fmt.Errorf("page image: page is %s, not HTML", mt)
		}
	}
	// Reading stops at the cap without failing: the head is what counts.
	m, err := readMeta(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		return nil, fmt.Errorf("page image: read page: %w", err)
	}
	base := requestURL(resp, pageURL)
	for _, key := range []string{"og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"} {
		u, ok := resolve(base, m[key])
		if !ok {
			continue
		}
		img := &syndicate.Image{URL: u.String(), Source: "page"}
		if strings.HasPrefix(key, "og:") {
			img.Alt = cleanLine(m["og:image:alt"])
			img.Type = imageType(strings.ToLower(m["og:image:type"]))
			img.Width, img.Height = dimension(m["og:image:width"]), dimension(m["og:image:height"])
		} else {
			img.Alt = cleanLine(m["twitter:image:alt"])
		}
		img.Alt = capRunes(img.Alt, maxAltRunes)
		return img, nil
	}
	return nil, nil
}

// readMeta collects the first value of each <meta property|name> in a page,
// stopping at the body: Open Graph and Twitter tags live in the head.
func readMeta(r io.Reader) (map[string]string, error) {
	m := map[string]string{}
	z := html.NewTokenizer(r)
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return m, nil
			}
			return m, z.Err()
		case html.StartTagToken, html.SelfClosingTagToken:
			name, attrs := readTag(z)
			switch name {
			case "body":
				return m, nil
			case "meta":
				key := get(attrs, "property")
				if key == "" {
					key = get(attrs, "name")
				}
				key = strings.ToLower(strings.TrimSpace(key))
				if _, dup := m[key]; key != "" && !dup {
					m[key] = strings.TrimSpace(get(attrs, "content"))
				}
			}
		}
	}
}
