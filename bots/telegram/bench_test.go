package telegram

import "testing"

func BenchmarkRender(b *testing.B) {
	for _, name := range []string{"en-news", "huge-body", "emoji", "ar-article"} {
		it := loadItem(b, name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(it, Format{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
