package mastodon

import "testing"

func BenchmarkRender(b *testing.B) {
	items := loadItems(b)
	for _, name := range []string{"en-news", "huge-body", "emoji", "ar-article"} {
		it := items[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(it, Format{}, DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
