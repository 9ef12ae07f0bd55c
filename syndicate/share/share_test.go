package share

import (
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	const link = "https://news.example.org/a?b=c&utm_source=x"
	const escLink = "https%3A%2F%2Fnews%2Eexample%2Eorg%2Fa%3Fb%3Dc%26utm_source%3Dx"
	const image = "https://news.example.org/i.jpg"
	tests := []struct {
		name   string
		target string
		a      Article
		want   string // "" when the target cannot share the article
	}{
		{"telegram, english punctuation", Telegram, Article{link, "Title: “quoted” & more.", ""},
			"https://t.me/share/url?url=" + escLink + "&text=Title%3A%20%E2%80%9Cquoted%E2%80%9D%20%26%20more%2E"},
		{"whatsapp, arabic", WhatsApp, Article{link, "حقوق العمال", ""},
			"https://wa.me/?text=%D8%AD%D9%82%D9%88%D9%82%20%D8%A7%D9%84%D8%B9%D9%85%D8%A7%D9%84%20" + escLink},
		{"whatsapp, no title", WhatsApp, Article{link, "", ""}, "https://wa.me/?text=" + escLink},
		{"x, farsi with non-joiner", X, Article{link, "هفت‌تپه", ""},
			"https://twitter.com/intent/tweet?text=%D9%87%D9%81%D8%AA%E2%80%8C%D8%AA%D9%BE%D9%87&url=" + escLink},
		{"x, no title", X, Article{link, "", ""}, "https://twitter.com/intent/tweet?url=" + escLink},
		{"facebook", Facebook, Article{link, "שלום", image}, "https://www.facebook.com/sharer/sharer.php?u=" + escLink},
		{"pinterest, urdu", Pinterest, Article{link, "اردو", image},
			"https://www.pinterest.com/pin/create/button/?url=" + escLink + "&media=https%3A%2F%2Fnews%2Eexample%2Eorg%2Fi%2Ejpg&description=%D8%A7%D8%B1%D8%AF%D9%88"},
		{"pinterest needs an image", Pinterest, Article{link, "x", ""}, ""},
		{"linkedin", LinkedIn, Article{link, "ܫܠܡܐ", ""}, "https://www.linkedin.com/sharing/share-offsite/?url=" + escLink},
		{"email, albanian with combining mark", Email, Article{link, "Shqipe\u0308ri sot", ""},
			"mailto:?subject=Shqipe%CC%88ri%20sot&body=" + escLink},
		{"telegram, emoji", Telegram, Article{link, "👩‍👩‍👧 ✊🏽", ""},
			"https://t.me/share/url?url=" + escLink + "&text=%F0%9F%91%A9%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7%20%E2%9C%8A%F0%9F%8F%BD"},
		{"no link", Telegram, Article{"", "t", ""}, ""},
		{"unknown target", "myspace", Article{link, "t", ""}, ""},
	}
	for _, tt := range tests {
		got, ok := URL(tt.target, tt.a)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("%s: URL(%q) = %q, %v; want %q", tt.name, tt.target, got, ok, tt.want)
			continue
		}
		if !ok {
			continue
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if Web(tt.target) != (u.Scheme == "https") || Web(tt.target) && u.Host == "" {
			t.Errorf("%s: %q is not what Web(%q) says", tt.name, got, tt.target)
		}
		// The escaping is one rule: only letters, digits, '-', '_' stay.
		if i := strings.IndexByte(got, '?'); strings.ContainsAny(got[i+1:], ".~!*'()+,;:/ ") {
			t.Errorf("%s: query keeps a character that can end a link: %q", tt.name, got)
		}
		// The values read back as they went in.
		q := u.Query()
		for _, v := range []string{q.Get("url"), q.Get("u"), q.Get("body")} {
			if v != "" && v != tt.a.Link {
				t.Errorf("%s: link reads back as %q", tt.name, v)
			}
		}
		for _, v := range []string{q.Get("text"), q.Get("description"), q.Get("subject")} {
			if v != "" && v != tt.a.Title && v != tt.a.Title+" "+tt.a.Link && v != tt.a.Link {
				t.Errorf("%s: title reads back as %q", tt.name, v)
			}
		}
	}
	for _, target := range Targets() {
		if !Known(target) || Name(target) == "" {
			t.Errorf("target %q has no name", target)
		}
	}
	if Web(Email) || Known("read") || Web("myspace") {
		t.Error("Web or Known accept what they must not")
	}
	if got := EmailPageURL("https://news.example.org/share?lang=ar", Article{link, "عنوان", ""}); got != "https://news.example.org/share?lang=ar&subject=%D8%B9%D9%86%D9%88%D8%A7%D9%86&body="+escLink {
		t.Errorf("EmailPageURL = %q", got)
	}
}
