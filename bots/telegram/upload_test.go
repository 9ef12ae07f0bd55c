package telegram

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// checkNoTokenInLogs fails when the token, or its secret half, was logged.
func checkNoTokenInLogs(t *testing.T, e *env) {
	t.Helper()
	if s := e.logs.String(); strings.Contains(s, testToken) || strings.Contains(s, "SECRET-token-value") {
		t.Fatalf("logs reveal the token:\n%s", s)
	}
}

// okCalls returns the calls of a method that Telegram accepted.
func okCalls(e *env, method string) []telegramfake.Call {
	var out []telegramfake.Call
	for _, c := range e.srv.CallsTo(method) {
		if c.Code == 200 {
			out = append(out, c)
		}
	}
	return out
}

func fileNames(c telegramfake.Call) []string {
	var names []string
	for n := range c.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestPublishAlbumUpload covers an album whose image URLs Telegram will
// not fetch: its images are downloaded and uploaded, those that cannot be
// are left out, and with fewer than two left the post becomes a photo or
// a text post. Each image of the gallery downloads with its own width
// (100+i), so the uploads show which images went out, in which order.
func TestPublishAlbumUpload(t *testing.T) {
	gallery := loadItem(t, "photo-gallery")
	p, err := Render(gallery, Format{Album: true, AlbumButtons: true})
	if err != nil || p.Method != MethodAlbum || len(p.Album) != 10 {
		t.Fatalf("render: %v %s %d", err, p.Method, len(p.Album))
	}
	album := p.Album
	const invalid, missing = -1, -2
	tests := []struct {
		name    string
		buttons bool
		faults  int // sendMediaGroup calls refused before the fake's own checks
		reject  string
		// widths[i] is the width image i downloads with; invalid is an
		// image Telegram would refuse, missing one that cannot be downloaded.
		widths []int
		// want are the widths of the album items sent, or of the photo
		// post; nil for a text post.
		want     []int
		method   Method
		messages int
	}{
		{
			name: "every image uploaded", buttons: true, reject: telegramfake.FailedToGetURL,
			widths: []int{100, 101, 102, 103, 104, 105, 106, 107, 108, 109},
			want:   []int{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}, method: MethodAlbum, messages: 11,
		},
		{
			name: "undownloadable and invalid images left out", buttons: true, reject: telegramfake.WrongContentType,
			widths: []int{missing, invalid, 102, missing, 104, invalid, 106, 107, missing, 109},
			want:   []int{102, 104, 106, 107, 109}, method: MethodAlbum, messages: 6,
		},
		{
			name: "two left still make an album", reject: telegramfake.WrongFileIdentifier,
			widths: []int{missing, missing, missing, 103, missing, missing, missing, missing, 108, missing},
			want:   []int{103, 108}, method: MethodAlbum, messages: 2,
		},
		{
			name: "one left: a photo post carrying the buttons", buttons: true, reject: telegramfake.FailedToGetURL,
			widths: []int{missing, invalid, missing, missing, 104, missing, missing, missing, missing, missing},
			want:   []int{104}, method: MethodPhoto, messages: 1,
		},
		{
			name: "one left without album buttons: a photo post without buttons", reject: telegramfake.FailedToGetURL,
			widths: []int{missing, missing, 102, missing, missing, missing, missing, missing, missing, missing},
			want:   []int{102}, method: MethodPhoto, messages: 1,
		},
		{
			name: "none left: a text post with the buttons, no follow-up", buttons: true, reject: telegramfake.FailedToGetURL,
			widths: []int{missing, invalid, missing, missing, missing, missing, missing, missing, missing, invalid},
			method: MethodMessage, messages: 1,
		},
		{
			name: "upload refused as well: a text post", buttons: true, faults: 2,
			widths: []int{100, 101, 102, 103, 104, 105, 106, 107, 108, 109},
			method: MethodMessage, messages: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{format: Format{Album: true, AlbumButtons: tt.buttons}})
			if tt.reject != "" {
				// Telegram refuses one URL; it does not say which.
				e.srv.RejectURL(album[3], tt.reject)
			}
			if tt.faults > 0 {
				e.srv.Fail("sendMediaGroup", tt.faults, telegramfake.BadRequest(telegramfake.FailedToGetURL))
			}
			for i, w := range tt.widths {
				switch w {
				case missing:
				case invalid:
					e.dl.data[album[i]] = pngOf(t, 9995, 10)
				default:
					e.dl.data[album[i]] = pngOf(t, w, 50)
				}
			}
			r, err := e.ch.Publish(context.Background(), job(gallery))
			if err != nil {
				t.Fatal(err)
			}
			checkNoTokenInLogs(t, e)
			msgs := e.srv.Messages("@news_en")
			if len(msgs) != tt.messages || len(r.MessageIDs) != tt.messages {
				t.Fatalf("%d messages, receipt %v; want %d", len(msgs), r.MessageIDs, tt.messages)
			}
			if len(e.dl.calls) != len(album) {
				t.Errorf("downloaded %d images, want all %d", len(e.dl.calls), len(album))
			}
			switch tt.method {
			case MethodAlbum:
				sent := okCalls(e, "sendMediaGroup")
				if len(sent) != 1 || len(sent[0].Files) != len(tt.want) {
					t.Fatalf("accepted album calls %d, files %v", len(sent), sent)
				}
				for i, w := range tt.want {
					m := msgs[i]
					if m.Media != fmt.Sprintf("upload:photo%d.png", i+1) || len(m.Photo) != 1 || m.Photo[0].Width != w {
						t.Errorf("item %d: media %q photo %+v, want the upload of width %d", i, m.Media, m.Photo, w)
					}
					if (i == 0) != (m.Caption != "") || m.MediaGroupID != msgs[0].MediaGroupID {
						t.Errorf("item %d: caption %q group %q", i, m.Caption, m.MediaGroupID)
					}
				}
				if !strings.HasPrefix(msgs[0].Caption, gallery.Title) || msgs[0].ParseMode != "HTML" {
					t.Errorf("caption %q parse mode %q", msgs[0].Caption, msgs[0].ParseMode)
				}
				if tt.buttons {
					if f := msgs[len(msgs)-1]; f.ReplyMarkup == nil || f.Text == "" {
						t.Errorf("no buttons follow-up: %+v", f)
					}
				}
			case MethodPhoto:
				m := msgs[0]
				if len(m.Photo) != 1 || m.Photo[0].Width != tt.want[0] || !strings.HasPrefix(m.Media, "upload:mayday-") {
					t.Errorf("photo %+v media %q, want the upload of width %d", m.Photo, m.Media, tt.want[0])
				}
				if !strings.HasPrefix(m.Caption, gallery.Title) {
					t.Errorf("caption %q", m.Caption)
				}
				if (m.ReplyMarkup != nil) != tt.buttons {
					t.Errorf("buttons %+v, want them: %v", m.ReplyMarkup, tt.buttons)
				}
			default:
				m := msgs[0]
				if m.Text == "" || m.Photo != nil || m.ReplyMarkup == nil {
					t.Fatalf("not a text post with the buttons: %+v", m)
				}
				if lp := m.LinkPreviewOptions; lp == nil || lp.URL != album[0] {
					t.Errorf("preview %+v", lp)
				}
			}
		})
	}
}

// TestPublishAlbumUploadErrors shows that a failure after the fallbacks is
// classified and reveals no token, and that a retry delivers once.
func TestPublishAlbumUploadErrors(t *testing.T) {
	gallery := loadItem(t, "photo-gallery")
	e := newEnv(t, envOptions{format: Format{Album: true}})
	p, _ := Render(gallery, Format{Album: true})
	for _, u := range p.Album {
		e.dl.data[u] = pngOf(t, 64, 48)
	}
	// Telegram refuses a URL every time; the first upload meets an outage.
	e.srv.RejectURL(p.Album[0], telegramfake.FailedToGetURL)
	e.srv.Fail("sendMediaGroup", 1, telegramfake.BadRequest(telegramfake.FailedToGetURL))
	e.srv.Fail("sendMediaGroup", 1, telegramfake.ServerError(502))
	_, err := e.ch.Publish(context.Background(), job(gallery))
	checkNoToken(t, err)
	if k := kindOf(t, err); k != syndicate.ErrTemporary {
		t.Fatalf("kind %s (%v)", k, err)
	}
	if n := len(e.srv.Messages("@news_en")); n != 0 {
		t.Fatalf("%d messages after a failure", n)
	}
	if _, err := e.ch.Publish(context.Background(), job(gallery)); err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages("@news_en")
	if len(msgs) != 10 || msgs[0].Media != "upload:photo1.png" {
		t.Errorf("%d messages after the retry, want the uploaded album of 10", len(msgs))
	}
	checkNoTokenInLogs(t, e)
}

// TestEditUploadsNewPhoto covers an edit whose new photo Telegram will not
// fetch by URL: it is downloaded and uploaded, and only when that fails
// too is the caption edited alone.
func TestEditUploadsNewPhoto(t *testing.T) {
	const newImage = "https://news.example.org/wp-content/uploads/2026/05/court-new.jpg"
	tests := []struct {
		name     string
		reject   string
		download []byte
		// uploadRefused makes Telegram refuse the upload as well.
		uploadRefused bool
		// uploaded is whether the new photo ends up in the post.
		uploaded  bool
		downloads int
		// mediaCalls and captionCalls count the edit calls made.
		mediaCalls, captionCalls int
		reason                   string
	}{
		{name: "refused URL: uploaded", reject: telegramfake.FailedToGetURL, download: pngOf(t, 640, 360),
			uploaded: true, downloads: 1, mediaCalls: 2},
		{name: "wrong content type: uploaded", reject: telegramfake.WrongContentType, download: pngOf(t, 640, 360),
			uploaded: true, downloads: 1, mediaCalls: 2},
		{name: "download fails: caption only", reject: telegramfake.WrongFileIdentifier,
			downloads: 1, mediaCalls: 1, captionCalls: 1, reason: "not found"},
		{name: "downloaded image invalid: caption only", reject: telegramfake.FailedToGetURL, download: pngOf(t, 9995, 10),
			downloads: 1, mediaCalls: 1, captionCalls: 1, reason: "outside Telegram's photo limits"},
		{name: "upload refused too: caption only", reject: telegramfake.FailedToGetURL, download: pngOf(t, 640, 360), uploadRefused: true,
			downloads: 1, mediaCalls: 2, captionCalls: 1, reason: "IMAGE_PROCESS_FAILED"},
		{name: "invalid dimensions: caption only, no download", reject: telegramfake.InvalidDimensions, download: pngOf(t, 640, 360),
			downloads: 0, mediaCalls: 1, captionCalls: 1, reason: "PHOTO_INVALID_DIMENSIONS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			it := loadItem(t, "en-news")
			oldImage := it.Image.URL
			r, err := e.ch.Publish(context.Background(), job(it))
			if err != nil {
				t.Fatal(err)
			}
			it.Title = "Court upholds sentences (updated)"
			it.Image.URL = newImage
			e.srv.RejectURL(newImage, tt.reject)
			if tt.download != nil {
				e.dl.data[newImage] = tt.download
			}
			if tt.uploadRefused {
				// Faults come before the fake's own checks: the first
				// refuses the URL, the second the upload.
				e.srv.Fail("editMessageMedia", 1, telegramfake.BadRequest(tt.reject))
				e.srv.Fail("editMessageMedia", 1, telegramfake.BadRequest("Bad Request: IMAGE_PROCESS_FAILED"))
			}
			r2, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs))
			if err != nil {
				t.Fatal(err)
			}
			checkNoTokenInLogs(t, e)
			if strings.Join(r2.MessageIDs, ",") != strings.Join(r.MessageIDs, ",") {
				t.Errorf("receipt %v, want %v", r2.MessageIDs, r.MessageIDs)
			}
			msgs := e.srv.Messages("@news_en")
			if len(msgs) != 1 || msgs[0].Edits != 1 || !strings.HasPrefix(msgs[0].Caption, it.Title) {
				t.Fatalf("not edited once in place: %+v", msgs)
			}
			m := msgs[0]
			if tt.uploaded {
				if m.Media != "upload:photo" || len(m.Photo) != 1 || m.Photo[0].Width != 640 {
					t.Errorf("media %q photo %+v, want the upload", m.Media, m.Photo)
				}
				sent := okCalls(e, "editMessageMedia")
				if len(sent) != 1 || strings.Join(fileNames(sent[0]), ",") != "photo" {
					t.Errorf("accepted edits %d with files %v", len(sent), sent)
				}
			} else if m.Media != oldImage {
				t.Errorf("media %q, want the old photo kept", m.Media)
			}
			if n := len(e.dl.calls); n != tt.downloads {
				t.Errorf("%d downloads, want %d", n, tt.downloads)
			}
			if n := len(e.srv.CallsTo("editMessageMedia")); n != tt.mediaCalls {
				t.Errorf("%d editMessageMedia calls, want %d", n, tt.mediaCalls)
			}
			if n := len(e.srv.CallsTo("editMessageCaption")); n != tt.captionCalls {
				t.Errorf("%d editMessageCaption calls, want %d", n, tt.captionCalls)
			}
			if tt.reason != "" && !strings.Contains(e.logs.String(), tt.reason) {
				t.Errorf("the reason %q is not logged:\n%s", tt.reason, e.logs.String())
			}
		})
	}
}

// TestEditDocuments shows that an edit sends a document only when its URL
// is new to the post, records it in the receipt, and never sends one twice.
func TestEditDocuments(t *testing.T) {
	const newPDF = "https://news.example.org/wp-content/uploads/2026/05/newsletter-214-corrected.pdf"
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	it := loadItem(t, "newsletter-pdf")
	oldPDF := it.Attachments[0].URL
	r, err := e.ch.Publish(ctx, job(it))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.MessageIDs) != 2 || r.MessageIDs[0] != "1" || r.MessageIDs[1] != documentID(2, oldPDF) {
		t.Fatalf("post receipt %v", r.MessageIDs)
	}
	documents := func() []string {
		var urls []string
		for _, m := range e.srv.Messages("@news_en") {
			if m.Document != nil {
				urls = append(urls, m.Media)
			}
		}
		return urls
	}

	// A new title, the same PDF: the text is edited, no document is sent.
	it.Title = "Newsletter No. 214 – May 2026 (second edition)"
	r2, err := e.ch.Publish(ctx, editJob(it, r.MessageIDs))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r2.MessageIDs, ",") != strings.Join(r.MessageIDs, ",") || len(documents()) != 1 {
		t.Fatalf("unchanged PDF: receipt %v, documents %v", r2.MessageIDs, documents())
	}

	// The PDF changed, but Telegram fails to take it: the edit stands and
	// the receipt does not claim the document, so the next edit sends it.
	it.Attachments[0].URL = newPDF
	it.Title = "Newsletter No. 214 – May 2026 (corrected)"
	e.srv.Fail("sendDocument", 1, telegramfake.ServerError(500))
	r3, err := e.ch.Publish(ctx, editJob(it, r2.MessageIDs))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r3.MessageIDs, ",") != strings.Join(r2.MessageIDs, ",") || len(documents()) != 1 {
		t.Fatalf("failed document: receipt %v, documents %v", r3.MessageIDs, documents())
	}
	checkNoTokenInLogs(t, e)

	// Edited again (not modified): the new PDF follows the post.
	r4, err := e.ch.Publish(ctx, editJob(it, r3.MessageIDs))
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string(nil), r3.MessageIDs...), documentID(3, newPDF))
	if strings.Join(r4.MessageIDs, ",") != strings.Join(want, ",") {
		t.Fatalf("changed PDF: receipt %v, want %v", r4.MessageIDs, want)
	}
	if d := documents(); len(d) != 2 || d[1] != newPDF {
		t.Fatalf("documents %v", d)
	}
	if m := e.srv.Messages("@news_en")[0]; !strings.HasPrefix(m.Text, it.Title) {
		t.Errorf("post not edited: %q", m.Text)
	}

	// Neither the same new PDF nor the old one again is sent twice.
	for _, u := range []string{newPDF, oldPDF} {
		it.Attachments[0].URL = u
		it.Title += "!"
		r5, err := e.ch.Publish(ctx, editJob(it, r4.MessageIDs))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(r5.MessageIDs, ",") != strings.Join(r4.MessageIDs, ",") || len(documents()) != 2 {
			t.Fatalf("%s: receipt %v, documents %v", u, r5.MessageIDs, documents())
		}
	}
	if n := len(e.srv.Messages("@news_en")); n != 3 {
		t.Errorf("%d messages, want the post and two documents", n)
	}
}

func TestEditDocumentsNotSent(t *testing.T) {
	const newPDF = "https://news.example.org/wp-content/uploads/2026/05/newsletter-215.pdf"
	t.Run("documents off", func(t *testing.T) {
		e := newEnv(t, envOptions{format: Format{NoDocuments: true}})
		it := loadItem(t, "newsletter-pdf")
		r, err := e.ch.Publish(context.Background(), job(it))
		if err != nil {
			t.Fatal(err)
		}
		it.Title, it.Attachments[0].URL = "Changed", newPDF
		r2, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs))
		if err != nil || len(r2.MessageIDs) != 1 || len(e.srv.CallsTo("sendDocument")) != 0 {
			t.Errorf("receipt %v error %v, %d documents sent", r2.MessageIDs, err, len(e.srv.CallsTo("sendDocument")))
		}
	})
	t.Run("edit failed", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		it := loadItem(t, "newsletter-pdf")
		it.Attachments[0].URL = newPDF
		_, err := e.ch.Publish(context.Background(), editJob(it, []string{"42"}))
		checkNoToken(t, err)
		if k := kindOf(t, err); k != syndicate.ErrPermanentItem {
			t.Errorf("kind %s (%v)", k, err)
		}
		if n := len(e.srv.CallsTo("sendDocument")); n != 0 {
			t.Errorf("%d documents sent for a post that cannot be edited", n)
		}
	})
}

func TestDocumentIDs(t *testing.T) {
	const a, b = "https://x.example/a.pdf", "https://x.example/b.pdf"
	ids := []string{"7", "8", documentID(9, a)}
	sent := sentDocuments(ids)
	if !sent[documentKey(a)] || sent[documentKey(b)] || len(sent) != 1 {
		t.Errorf("sent %v", sent)
	}
	if id := documentID(9, a); !strings.HasPrefix(id, "9:doc:") || strings.Contains(id, "x.example") {
		t.Errorf("id %q", id)
	}
	if documentKey(a) == documentKey(b) {
		t.Errorf("two URLs share the key %s", documentKey(a))
	}
}
