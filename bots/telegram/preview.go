package telegram

import (
	"fmt"
	"strings"
)

// Preview shows the post for people reading a terminal: how it is sent,
// the message text with its tags, the image, the buttons as [Label](url)
// lines and the documents that follow.
func (p Post) Preview() string {
	var b strings.Builder
	switch p.Method {
	case MethodPhoto:
		fmt.Fprintf(&b, "method: sendPhoto (photo with caption, %d/%d characters)\n", units(plainOf(p.Text)), p.Limit)
		fmt.Fprintf(&b, "photo: %s\n", p.Photo)
	case MethodAlbum:
		fmt.Fprintf(&b, "method: sendMediaGroup (album of %d, caption on the first, %d/%d characters)\n", len(p.Album), units(plainOf(p.Text)), p.Limit)
		for _, u := range p.Album {
			fmt.Fprintf(&b, "photo: %s\n", u)
		}
	default:
		fmt.Fprintf(&b, "method: sendMessage (text, %d/%d characters)\n", units(plainOf(p.Text)), p.Limit)
		switch {
		case p.LinkPreview == nil:
			b.WriteString("link preview: automatic\n")
		case p.LinkPreview.Disabled:
			b.WriteString("link preview: off\n")
		default:
			fmt.Fprintf(&b, "link preview: %s (large, above the text)\n", p.LinkPreview.URL)
		}
	}
	if p.Silent {
		b.WriteString("silent: yes\n")
	}
	if p.Protect {
		b.WriteString("protected: yes\n")
	}
	b.WriteString("\n")
	b.WriteString(p.Text)
	b.WriteString("\n")
	if p.FollowUpText != "" {
		b.WriteString("\nfollow-up message: " + p.FollowUpText + "\n")
	}
	if len(p.Keyboard) > 0 {
		b.WriteString("\nbuttons:\n")
		for _, row := range p.Keyboard {
			var cells []string
			for _, btn := range row {
				cells = append(cells, fmt.Sprintf("[%s](%s)", btn.Text, btn.URL))
			}
			b.WriteString(strings.Join(cells, " ") + "\n")
		}
	}
	if len(p.Documents) > 0 {
		b.WriteString("\ndocuments:\n")
		for _, d := range p.Documents {
			fmt.Fprintf(&b, "📄 %s %s", d.FileName, d.URL)
			if d.Caption != "" {
				fmt.Fprintf(&b, " — %s", d.Caption)
			}
			b.WriteString("\n")
		}
	}
	for _, n := range p.Notes {
		b.WriteString("\nnote: " + n + "\n")
	}
	return b.String()
}
