package previewpage

import (
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"sync"
)

// Downloader fetches an image with its content type; the guarded,
// size-capped downloader the bots use fits, so the page shows what they
// would fetch.
type Downloader interface {
	Download(ctx context.Context, url string) ([]byte, string, error)
}

// fetchers bounds the images downloaded at once.
const fetchers = 4

// embeddable are the image types a page may carry as data: URIs: raster
// formats every browser shows, recognised from their first bytes.
var embeddable = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// picture is an image as the page shows it: inline when it was fetched,
// else by its URL, with why it was not fetched.
type picture struct {
	src  template.URL
	note string
}

// fetchAll downloads every URL once, a few at a time.
func fetchAll(ctx context.Context, d Downloader, urls []string) map[string]picture {
	var todo []string
	seen := map[string]bool{}
	for _, u := range urls {
		if !seen[u] {
			seen[u] = true
			todo = append(todo, u)
		}
	}
	out := make(map[string]picture, len(todo))
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, fetchers)
	)
	for _, u := range todo {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p := fetch(ctx, d, u)
			mu.Lock()
			out[u] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func fetch(ctx context.Context, d Downloader, u string) picture {
	byURL := picture{src: linkURL(u)}
	if byURL.src == "" {
		return picture{note: "not shown: not an http(s) URL"}
	}
	if d == nil {
		return byURL
	}
	data, _, err := d.Download(ctx, u)
	if err != nil {
		byURL.note = fmt.Sprintf("not downloaded: %v", err)
		return byURL
	}
	// The bytes decide, not the server's word: a page must not carry, say,
	// an SVG with scripts under an image type.
	ct := http.DetectContentType(data)
	if !embeddable[ct] {
		byURL.note = fmt.Sprintf("not downloaded: the file is %s, not an image", ct)
		return byURL
	}
	return picture{src: template.URL("data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(data))}
}

// linkURL passes an http(s) or tg: URL to the page, and nothing else.
func linkURL(u string) template.URL {
	if !linkable(u) {
		return ""
	}
	return template.URL(u)
}
