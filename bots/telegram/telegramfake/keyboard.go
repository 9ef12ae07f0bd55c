package telegramfake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// CheckButtonURL accepts what Telegram accepts as an inline keyboard
// button URL (http and https links to a public host, tg links) and
// otherwise returns Telegram's error text.
func CheckButtonURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		host := u.Hostname()
		if host == "" || host == "localhost" || !strings.Contains(host, ".") || strings.ContainsAny(raw, " \n") {
			return fmt.Errorf("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", raw)
		}
		return nil
	case "tg":
		return nil
	case "":
		return fmt.Errorf("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", raw)
	}
	return fmt.Errorf("inline keyboard button URL '%s' is invalid: Unsupported URL protocol", raw)
}

// Button is an inline keyboard button as the fake keeps it.
type Button struct {
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
	// CallbackData is kept so that tests can see a non-URL button.
	CallbackData string `json:"callback_data,omitempty"`
}

// parseKeyboard reads reply_markup, accepting only inline keyboards whose
// buttons have a text and a URL or callback data.
func parseKeyboard(raw string) ([][]Button, error) {
	var m struct {
		InlineKeyboard *[][]map[string]json.RawMessage `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("can't parse reply keyboard markup JSON object")
	}
	if m.InlineKeyboard == nil {
		return nil, fmt.Errorf("channel posts can have only an inline keyboard")
	}
	var rows [][]Button
	count := 0
	for _, row := range *m.InlineKeyboard {
		var out []Button
		for _, fields := range row {
			var b Button
			for k, v := range fields {
				if err := checkButtonField(k, v, &b); err != nil {
					return nil, err
				}
			}
			if b.Text == "" {
				return nil, fmt.Errorf("text buttons are unallowed in the inline keyboard")
			}
			if b.URL == "" && b.CallbackData == "" {
				return nil, fmt.Errorf("text buttons are unallowed in the inline keyboard")
			}
			if b.URL != "" {
				if err := CheckButtonURL(b.URL); err != nil {
					return nil, err
				}
			}
			out = append(out, b)
			count++
		}
		rows = append(rows, out)
	}
	if count > 100 {
		return nil, fmt.Errorf("reply markup is too long")
	}
	return rows, nil
}

func checkButtonField(k string, v json.RawMessage, b *Button) error {
	switch k {
	case "text":
		return json.Unmarshal(v, &b.Text)
	case "url":
		return json.Unmarshal(v, &b.URL)
	case "callback_data":
		return json.Unmarshal(v, &b.CallbackData)
	case "copy_text":
		// Some clients always send an empty copy_text object; Telegram
		// picks the URL first, so an empty one is ignored.
		var ct struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(v, &ct); err != nil || ct.Text != "" {
			return fmt.Errorf("unsupported button action copy_text in a channel post")
		}
		return nil
	case "icon_custom_emoji_id", "style":
		return nil
	}
	return fmt.Errorf("unsupported inline keyboard button field \"%s\"", k)
}
