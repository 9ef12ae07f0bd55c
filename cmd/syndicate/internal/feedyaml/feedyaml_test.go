package feedyaml

import (
	"bytes"
	"testing"
)

func TestWriteShow(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, Doc{Comment: "Feeds found at x\nsecond", Feeds: []Feed{
		{ID: "1984", URL: "https://example.org/feed/?a=b#c", Language: "no", Comment: "Title: with colon\n- dash"},
		{ID: "ar", URL: "https://example.org/ar/feed/", PollInterval: "15m"},
	}, Routes: []Route{{Feeds: []string{"1984", "ar"}, To: []string{"tg", "md"}}}})
	t.Log(err, "\n"+b.String())
}
