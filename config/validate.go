package config

import (
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/proxy"
	"github.com/syndicate-bot/syndicate/syndicate/share"
)

// The allowed values of enumerations.
var (
	imageModes   = []string{"photo", "preview", "none"}
	visibilities = []string{"public", "unlisted", "private", "direct"}
	onAmbiguous  = []string{"resend", "unknown"}
	logLevels    = []string{"debug", "info", "warn", "error"}
	logFormats   = []string{"text", "json"}
)

// buttonNames are the buttons a Telegram channel can list: the article
// itself, then every share target.
func buttonNames() []string {
	return append([]string{"read"}, share.Targets()...)
}

// shareLinkNames are the share links a Mastodon account can list: those
// that are web pages, because Mastodon does not link mailto: URLs.
func shareLinkNames() []string {
	var names []string
	for _, t := range share.Targets() {
		if share.Web(t) {
			names = append(names, t)
		}
	}
	return names
}

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	usernamePattern = regexp.MustCompile(`^@[A-Za-z0-9_]{5,32}$`)
	botTokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	languagePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

// Kinds of destination, as returned by Config.Destination.
const (
	KindTelegram = "telegram"
	KindMastodon = "mastodon"
)

// validator checks a decoded, completed config and reports into r.
type validator struct {
	c *Config
	r *report
	// dests maps each destination id to the path of its first definition.
	dests map[string]string
}

func validate(c *Config, r *report) {
	v := validator{c: c, r: r, dests: destinationPaths(c)}
	v.store()
	v.defaults()
	v.network()
	v.feeds()
	v.telegram()
	v.mastodon()
	v.routes()
	v.delivery("delivery", c.Delivery)
	v.oneOf("log.level", c.Log.Level, logLevels)
	v.oneOf("log.format", c.Log.Format, logFormats)
	if c.Worker.Concurrency < 1 {
		r.add("worker.concurrency", "must be at least 1")
	}
	if c.Worker.PerHost < 1 {
		r.add("worker.per_host", "must be at least 1")
	}
	if j := c.Worker.Jitter; j != nil && (*j < 0 || *j > 1) {
		r.add("worker.jitter", "%g is not a share between 0 and 1", *j)
	}
	if c.Worker.Lease < Duration(3*time.Second) {
		r.add("worker.lease", "must be at least 3s")
	}
	if l := c.Worker.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" {
			r.add("worker.listen", "%q is not a host:port address (e.g. \":9090\" or \"127.0.0.1:9090\")", l)
		}
	}
	if c.Push.Enabled {
		v.httpURL("push.public_url", c.Push.PublicURL)
		if u, err := url.Parse(c.Push.PublicURL); err == nil && (u.RawQuery != "" || u.Fragment != "" || u.ForceQuery) {
			// Callbacks are made by appending a path.
			r.add("push.public_url", "must have no query or fragment")
		}
		if c.Worker.Listen == "" {
			r.add("push.enabled", "push needs worker.listen: the hubs call back on the worker's HTTP server")
		}
		if c.Push.Lease < Duration(time.Hour) {
			r.add("push.lease", "must be at least 1h")
		}
		if c.Push.PollInterval < MinPollInterval {
			r.add("push.poll_interval", "must be at least %s", MinPollInterval)
		}
		if c.Push.MaxBody < 1<<10 {
			r.add("push.max_body", "must be at least 1KiB (a notification carries the feed)")
		}
	}
}

func (v validator) oneOf(path, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		v.r.add(path, "%q is not allowed (allowed: %s)", value, strings.Join(allowed, ", "))
	}
}

// list checks a list of enumerated names for unknown and repeated ones.
func (v validator) list(path string, values, allowed []string) {
	for i, s := range values {
		p := joinIndex(path, i)
		v.oneOf(p, s, allowed)
		if slices.Index(values, s) < i {
			v.r.add(p, "%q is listed twice", s)
		}
	}
}

func (v validator) required(path, value string) bool {
	if value == "" {
		v.r.add(path, "is required")
		return false
	}
	return true
}

func (v validator) id(path, value string) {
	if v.required(path, value) && !idPattern.MatchString(value) {
		v.r.add(path, "%q is not a valid id (up to 64 letters, digits, \"_\", \"-\" or \".\", starting with a letter or digit)", value)
	}
}

// httpURL checks an absolute http(s) URL without echoing it, since feed
// URLs may carry credentials.
func (v validator) httpURL(path, value string) {
	if !v.required(path, value) {
		return
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.r.add(path, "must be an absolute URL (http:// or https://)")
	}
}

func (v validator) notNegative(path string, n int) {
	if n < 0 {
		v.r.add(path, "must not be negative")
	}
}

func (v validator) positive(path string, f *float64) {
	if f != nil && !(*f > 0 && !math.IsInf(*f, 0)) {
		v.r.add(path, "must be a positive number")
	}
}

func (v validator) language(path, value string) {
	if value != "" && !languagePattern.MatchString(value) {
		v.r.add(path, "%q is not a language tag (like en, ar, fa, sq, pt-BR)", value)
	}
}

func (v validator) hostPorts(path string, addrs []string) {
	if len(addrs) == 0 {
		v.r.add(path, "at least one host:port is required")
	}
	for i, a := range addrs {
		_, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 1 || n > 65535 {
			v.r.add(joinIndex(path, i), "%q is not host:port", a)
		}
	}
}

func (v validator) store() {
	s := v.c.Store
	if s.Embedded != nil && s.Redis != nil {
		v.r.add("store.redis", "store.embedded and store.redis are exclusive (give one)")
	}
	r := s.Redis
	if r == nil {
		return
	}
	if r.Sentinel != nil && r.Cluster != nil {
		v.r.add("store.redis.cluster", "sentinel and cluster are exclusive (give one)")
	}
	if r.URL.IsZero() && r.Sentinel == nil && r.Cluster == nil {
		v.r.add("store.redis.url", "is required (or give sentinel or cluster)")
	}
	if !r.URL.IsZero() {
		u, err := url.Parse(r.URL.Value())
		if err != nil || !slices.Contains([]string{"redis", "rediss", "unix"}, u.Scheme) {
			// The URL may hold a password: describe it, never show it.
			v.r.add("store.redis.url", "must be a redis://, rediss:// or unix:// URL")
		}
	}
	if r.KeyPrefix != "" && strings.ContainsAny(r.KeyPrefix, " \t\r\n{}") {
		v.r.add("store.redis.key_prefix", "must not contain spaces or braces")
	}
	if st := r.Sentinel; st != nil {
		v.required("store.redis.sentinel.master_name", st.MasterName)
		v.hostPorts("store.redis.sentinel.addrs", st.Addrs)
	}
	if cl := r.Cluster; cl != nil {
		v.hostPorts("store.redis.cluster.addrs", cl.Addrs)
	}
}

func (v validator) defaults() {
	d := v.c.Defaults
	if d.PollInterval < MinPollInterval {
		v.r.add("defaults.poll_interval", "must be at least %s", MinPollInterval)
	}
	v.notNegative("defaults.backfill", *d.Backfill)
	v.language("defaults.language", d.Language)
}

func (v validator) network() {
	n := v.c.Network
	if strings.ContainsAny(n.UserAgent, "\r\n") {
		v.r.add("network.user_agent", "must be one line")
	}
	for _, l := range []struct {
		path string
		l    Limits
	}{{"network.feeds", n.Feeds}, {"network.media", n.Media}} {
		v.notNegative(l.path+".max_redirects", *l.l.MaxRedirects)
		v.proxy(l.path+".proxy", l.l.Proxy)
	}
	v.proxy("network.platforms.proxy", n.Platforms.Proxy)
}

// proxy checks a proxy URL without echoing it: it may carry credentials.
func (v validator) proxy(path string, s Secret) {
	if s.IsZero() || s.Value() == proxy.Direct {
		return
	}
	if _, err := proxy.Parse(s.Value()); err != nil {
		v.r.add(path, "must be %q or a proxy URL like http://host:3128 or socks5://host:1080 (%v)", proxy.Direct, err)
	}
}

func (v validator) feeds() {
	d := v.c.Defaults
	seen := map[string]int{}
	for i, f := range v.c.Feeds {
		p := joinIndex("feeds", i)
		v.id(p+".id", f.ID)
		if j, dup := seen[f.ID]; dup && f.ID != "" {
			v.r.add(p+".id", "duplicate feed id %q (first at feeds[%d])", f.ID, j)
		} else {
			seen[f.ID] = i
		}
		v.httpURL(p+".url", f.URL)
		// Inherited values were already checked under defaults.
		if f.PollInterval != d.PollInterval && f.PollInterval < MinPollInterval {
			v.r.add(p+".poll_interval", "must be at least %s", MinPollInterval)
		}
		if *f.Backfill != *d.Backfill {
			v.notNegative(p+".backfill", *f.Backfill)
		}
		v.language(p+".language", f.Language)
	}
	if len(v.c.Feeds) == 0 {
		v.r.add("feeds", "at least one feed is required")
	}
}

// destinationPaths maps every destination id to its first path, for
// duplicate checks across Telegram channels and Mastodon accounts, which
// share one id space.
func destinationPaths(c *Config) map[string]string {
	ids := map[string]string{}
	for i, ch := range c.Telegram.Channels {
		if _, dup := ids[ch.ID]; !dup {
			ids[ch.ID] = joinIndex("telegram.channels", i)
		}
	}
	for i, a := range c.Mastodon.Accounts {
		if _, dup := ids[a.ID]; !dup {
			ids[a.ID] = joinIndex("mastodon.accounts", i)
		}
	}
	return ids
}

func (v validator) destinationID(path, id string) {
	v.id(path+".id", id)
	if first := v.dests[id]; id != "" && first != path {
		v.r.add(path+".id", "duplicate destination id %q (first at %s; channels and accounts share ids)", id, first)
	}
}

func (v validator) telegram() {
	t := v.c.Telegram
	bots := map[string]int{}
	var botIDs []string
	for i, b := range t.Bots {
		p := joinIndex("telegram.bots", i)
		v.id(p+".id", b.ID)
		if j, dup := bots[b.ID]; dup && b.ID != "" {
			v.r.add(p+".id", "duplicate bot id %q (first at telegram.bots[%d])", b.ID, j)
		} else {
			bots[b.ID] = i
			botIDs = append(botIDs, b.ID)
		}
		switch {
		case b.Token.IsZero():
			v.r.add(p+".token", "is required (give token, possibly as ${ENV_VAR}, or token_file)")
		case !botTokenPattern.MatchString(b.Token.Value()):
			v.r.add(p+".token", "does not look like a bot token (digits, a colon, then letters, digits, _ or -)")
		}
		v.httpURL(p+".api_url", b.APIURL)
		v.positive(p+".per_second", b.PerSecond)
	}
	for i, ch := range t.Channels {
		p := joinIndex("telegram.channels", i)
		v.destinationID(p, ch.ID)
		if ch.Bot == "" {
			v.r.add(p+".bot", "is required (it may be left out only when exactly one bot is defined)")
		} else if _, ok := bots[ch.Bot]; !ok {
			v.r.add(p+".bot", "unknown bot %q (%s)", ch.Bot, known("bots", botIDs))
		}
		if v.required(p+".chat", ch.Chat) {
			if _, err := strconv.ParseInt(ch.Chat, 10, 64); err != nil && !usernamePattern.MatchString(ch.Chat) {
				v.r.add(p+".chat", "%q is neither a numeric chat id nor an @username of 5-32 letters, digits or _", ch.Chat)
			}
		}
		if ch.Topic < 0 {
			v.r.add(p+".topic", "must not be negative")
		}
		v.positive(p+".per_minute", ch.PerMinute)
		f, fp := ch.Format, p+".format"
		v.oneOf(fp+".image", f.Image, imageModes)
		v.list(fp+".buttons", f.Buttons, buttonNames())
		if f.ButtonsPerRow < 1 || f.ButtonsPerRow > 8 {
			v.r.add(fp+".buttons_per_row", "must be between 1 and 8")
		}
		for _, name := range sortedKeys(f.ButtonLabels) {
			kp := joinKey(fp+".button_labels", name)
			v.oneOf(kp, name, buttonNames())
			if strings.TrimSpace(f.ButtonLabels[name]) == "" {
				v.r.add(kp, "must not be empty")
			}
		}
		for _, name := range sortedKeys(f.UTM) {
			v.oneOf(joinKey(fp+".utm", name), name, append([]string{"default"}, buttonNames()...))
		}
		if f.EmailShareURL != "" {
			v.httpURL(fp+".email_share_url", f.EmailShareURL)
		}
		v.notNegative(fp+".excerpt_max", f.ExcerptMax)
		v.notNegative(fp+".max_hashtags", f.MaxHashtags)
		v.delivery(p+".delivery", *ch.Delivery)
	}
}

func (v validator) mastodon() {
	channels := map[string]bool{}
	var channelIDs []string
	for _, ch := range v.c.Telegram.Channels {
		channels[ch.ID] = true
		channelIDs = append(channelIDs, ch.ID)
	}
	for i, a := range v.c.Mastodon.Accounts {
		p := joinIndex("mastodon.accounts", i)
		v.destinationID(p, a.ID)
		v.httpURL(p+".server", a.Server)
		if a.AccessToken.IsZero() {
			v.r.add(p+".access_token", "is required (give access_token, possibly as ${ENV_VAR}, or access_token_file)")
		}
		f, fp := a.Format, p+".format"
		v.oneOf(fp+".visibility", f.Visibility, visibilities)
		v.notNegative(fp+".max_hashtags", f.MaxHashtags)
		v.notNegative(fp+".excerpt_max", f.ExcerptMax)
		v.list(fp+".share_links", f.ShareLinks, shareLinkNames())
		if f.TelegramChannel != "" && !channels[f.TelegramChannel] {
			v.r.add(fp+".telegram_channel", "unknown Telegram channel %q (%s)", f.TelegramChannel, known("channels", channelIDs))
		}
		v.notNegative(fp+".images", *f.Images)
		v.delivery(p+".delivery", *a.Delivery)
	}
}

func (v validator) routes() {
	feeds := map[string]bool{}
	var feedIDs []string
	for _, f := range v.c.Feeds {
		feeds[f.ID] = true
		feedIDs = append(feedIDs, f.ID)
	}
	dests := v.dests
	destIDs := make([]string, 0, len(dests))
	for _, ch := range v.c.Telegram.Channels {
		destIDs = append(destIDs, ch.ID)
	}
	for _, a := range v.c.Mastodon.Accounts {
		destIDs = append(destIDs, a.ID)
	}
	for i, rt := range v.c.Routes {
		p := joinIndex("routes", i)
		if len(rt.Feeds) == 0 {
			v.r.add(p+".feeds", "at least one feed is required")
		}
		for j, id := range rt.Feeds {
			switch {
			case !feeds[id]:
				v.r.add(joinIndex(p+".feeds", j), "unknown feed %q (%s)", id, known("feeds", feedIDs))
			case slices.Index(rt.Feeds, id) < j:
				v.r.add(joinIndex(p+".feeds", j), "%q is listed twice", id)
			}
		}
		if len(rt.To) == 0 {
			v.r.add(p+".to", "at least one destination is required")
		}
		v.language(p+".language", rt.Language)
		for j, id := range rt.To {
			switch {
			case dests[id] == "":
				v.r.add(joinIndex(p+".to", j), "unknown destination %q (%s)", id, known("destinations", destIDs))
			case slices.Index(rt.To, id) < j:
				v.r.add(joinIndex(p+".to", j), "%q is listed twice", id)
			}
		}
		if rt.Backfill != nil {
			v.notNegative(p+".backfill", *rt.Backfill)
		}
		v.filter(p+".filter", rt.Filter)
	}
	if len(v.c.Routes) == 0 {
		v.r.add("routes", "at least one route is required")
	}
}

func (v validator) filter(path string, f Filter) {
	for _, l := range []struct {
		key    string
		values []string
	}{
		{"include_categories", f.IncludeCategories}, {"exclude_categories", f.ExcludeCategories},
		{"include_keywords", f.IncludeKeywords}, {"exclude_keywords", f.ExcludeKeywords},
		{"include_regexps", f.IncludeRegexps}, {"exclude_regexps", f.ExcludeRegexps},
	} {
		for i, s := range l.values {
			p := joinIndex(path+"."+l.key, i)
			if strings.TrimSpace(s) == "" {
				v.r.add(p, "must not be empty")
				continue
			}
			if strings.HasSuffix(l.key, "_regexps") {
				if _, err := regexp.Compile(s); err != nil {
					v.r.add(p, "invalid regexp: %v", unwrapRegexpError(err))
				}
			}
		}
	}
	for i, lang := range f.Languages {
		p := joinIndex(path+".languages", i)
		if lang == "" {
			v.r.add(p, "must not be empty")
		}
		v.language(p, lang)
	}
}

// unwrapRegexpError keeps the RE2 message short: "missing closing ): `(a`".
func unwrapRegexpError(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// delivery checks a retry policy; for a destination, values inherited
// from the top level were already checked there.
func (v validator) delivery(path string, d Delivery) {
	top := v.c.Delivery
	own := path == "delivery"
	if own || d.MaxAttempts != top.MaxAttempts {
		if d.MaxAttempts < 1 {
			v.r.add(path+".max_attempts", "must be at least 1")
		}
	}
	if own || d.OnAmbiguous != top.OnAmbiguous {
		v.oneOf(path+".on_ambiguous", d.OnAmbiguous, onAmbiguous)
	}
}

// known lists the ids a reference may name, once each.
func known(what string, ids []string) string {
	var uniq []string
	for _, id := range ids {
		if id != "" && !slices.Contains(uniq, id) {
			uniq = append(uniq, id)
		}
	}
	if len(uniq) == 0 {
		return "no " + what + " are defined"
	}
	return what + ": " + strings.Join(uniq, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
