// Package mastodon posts articles as statuses to an account on a server
// speaking the Mastodon client API (Mastodon, GoToSocial, Pleroma, Akkoma).
//
// Render is a pure function from an article to a status that fits the
// server's limit as that server counts it (see Count). An Account
// identifies its server (NodeInfo, else the instance's version), delivers
// statuses, uploads the lead image with alt text, paces requests under the
// account's rate limits, and classifies failures once for the engine. A
// status is never given up for being too long: a refusal is answered with
// a strictly counted rendering, then with the title and link, then the
// link alone, and after that the delivery is retried later.
//
// Delivery guarantee: every new status carries an Idempotency-Key derived
// from the destination, the article and its version, so a retry after a
// timeout or crash returns the status the server already made instead of
// posting again. Mastodon remembers a key for one hour; a job whose first
// attempt is older than keyTrust and whose last attempt may have reached
// the server is reported as ErrAmbiguous, so the destination's policy
// decides. For servers that ignore the key (GoToSocial), a retry after an
// uncertain attempt first looks for the status among the account's latest.
// Servers that replay a refusal for its key (Pleroma, Akkoma) make the job
// go on with its next key: a refused attempt created nothing.
package mastodon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	gomastodon "github.com/mattn/go-mastodon"

	"github.com/syndicate-bot/syndicate/syndicate"
)

const (
	kindRateLimited = syndicate.ErrRateLimited
	kindDestination = syndicate.ErrPermanentDestination
	// keyTrust is how long after the first attempt a retry still relies on
	// the server's one-hour memory of Idempotency-Keys, with a margin for
	// clock skew and the retry's own duration.
	keyTrust = 55 * time.Minute
	// maxReplays bounds the new keys one delivery takes after refusals
	// replayed for its key.
	maxReplays = 8
)

// TelegramLinks finds the same article's post on the operator's Telegram
// channel, for the status to link to once it exists.
type TelegramLinks interface {
	// TelegramURL returns the post's public link, or "" when there is none.
	TelegramURL(ctx context.Context, articleKey string) (string, error)
}

// AccountOptions configure an Account.
type AccountOptions struct {
	// ID is the destination id from the configuration.
	ID string
	// Server is the base URL, e.g. https://mastodon.social.
	Server string
	// Token is the access token; it never appears in logs or errors.
	Token string
	// HTTPClient's Transport carries the requests (default
	// http.DefaultTransport); its Timeout is ignored in favour of CallTimeout.
	HTTPClient *http.Client
	Format     Format
	Downloader Downloader
	// Limiter paces requests (default an in-process LocalLimiter).
	Limiter       Limiter
	TelegramLinks TelegramLinks
	Logger        *slog.Logger
	Now           func() time.Time
	// Sleep waits between media polls (default a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// CallTimeout bounds every request (default 30s).
	CallTimeout time.Duration
	// MediaPollInterval and MediaPolls bound waiting for media
	// processing (default 1s, 30 polls).
	MediaPollInterval time.Duration
	MediaPolls        int
	UserAgent         string
}

// Account publishes to one account; it implements syndicate.Publisher and
// syndicate.Editor and is safe for concurrent use.
type Account struct {
	opts   AccountOptions
	tmpl   string
	client *gomastodon.Client

	mu          sync.Mutex
	server      server
	learnt      learnt
	limitsUntil time.Time
	// attempts remembers, per Idempotency-Key, the first attempt and
	// whether an attempt may have reached the server without an answer.
	attempts map[string]*attempt
}

type attempt struct {
	first     time.Time
	uncertain bool
	media     []gomastodon.ID
	// gen is the job's key generation (see generationKey): the number of
	// refusals the server replayed for the job's earlier keys.
	gen int
}

var (
	_ syndicate.Publisher = (*Account)(nil)
	_ syndicate.Editor    = (*Account)(nil)
)

// NewAccount returns the publisher of one account.
func NewAccount(o AccountOptions) (*Account, error) {
	if o.ID == "" || o.Server == "" || o.Token == "" {
		return nil, errors.New("mastodon account: id, server and token are required")
	}
	if err := o.Format.Validate(); err != nil {
		return nil, fmt.Errorf("mastodon account %s: %w", o.ID, err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.MediaPollInterval <= 0 {
		o.MediaPollInterval = time.Second
	}
	if o.MediaPolls <= 0 {
		o.MediaPolls = 30
	}
	if o.Limiter == nil {
		o.Limiter = NewLocalLimiter(LocalLimiterOptions{Now: o.Now})
	}
	base := http.DefaultTransport
	if o.HTTPClient != nil && o.HTTPClient.Transport != nil {
		base = o.HTTPClient.Transport
	}
	a := &Account{opts: o, attempts: map[string]*attempt{}}
	a.client = gomastodon.NewClient(&gomastodon.Config{Server: strings.TrimRight(o.Server, "/"), AccessToken: o.Token})
	a.client.Client = http.Client{Transport: &transport{base: base, onHeader: a.observeRate}}
	a.client.UserAgent = o.UserAgent
	return a, nil
}

func (a *Account) now() time.Time { return a.opts.Now() }

// EditWindow implements syndicate.Editor.
func (a *Account) EditWindow() time.Duration { return a.opts.Format.EditWindow }

// Preview implements syndicate.Publisher: the status as it would be posted,
// with the server's limits when they were read already, else the defaults.
func (a *Account) Preview(item syndicate.Item) (string, error) {
	st, err := a.Render(item)
	if err != nil {
		return "", err
	}
	return st.Preview(), nil
}

// Render is the status Preview shows for item, so that a preview can show
// it as the account's followers would see it.
func (a *Account) Render(item syndicate.Item) (Status, error) {
	a.mu.Lock()
	lim := a.server.limits
	if !a.limitsUntil.IsZero() {
		lim = a.learnt.apply(lim)
	} else {
		lim = DefaultLimits()
	}
	a.mu.Unlock()
	return Render(item, a.opts.Format, lim)
}

// observeRate holds back what the server says is spent. The limiter keeps
// the account's budgets whole and exactly, so the headers only matter once
// another client of the account spent some of a budget: when nothing is
// left, the family the answered request counts in besides the requests is
// held until the reset (Mastodon reports the budget closest to running
// out, the smaller one), and after a 429, which does not say which budget
// refused, every request is. Spreading what is left instead would only
// slow the limiter's own pace, which uses the budgets to their end.
func (a *Account) observeRate(req *http.Request, st rateState, refused bool) {
	if st.Limit <= 0 || (st.Remaining > 0 && !refused) || !st.Reset.After(a.now()) {
		return
	}
	family := "requests"
	if !refused {
		family = ownFamily(req)
	}
	a.opts.Limiter.Block(a.opts.ID+"/"+family, st.Reset)
}

// mediaPath matches the uploads Mastodon counts as media, v1 and v2
// (config/initializers/rack_attack.rb, throttle_api_media).
var mediaPath = regexp.MustCompile(`/api/v\d+/media$`)

// ownFamily is the budget family a request counts in besides the
// requests: media for an upload, statuses for a new status.
func ownFamily(req *http.Request) string {
	if req.Method == http.MethodPost {
		switch {
		case mediaPath.MatchString(req.URL.Path):
			return "media"
		case strings.HasSuffix(req.URL.Path, "/api/v1/statuses"):
			return "statuses"
		}
	}
	return "requests"
}

// wait takes a slot in each of the account's budget families at once, so
// that a request held back by one family spends nothing of another; done
// settles the slots once the answer came back (Limiter.Start).
func (a *Account) wait(ctx context.Context, families ...string) (done func(), err error) {
	keys := make([]string, len(families))
	for i, f := range families {
		keys[i] = a.opts.ID + "/" + f
	}
	return a.opts.Limiter.Start(ctx, keys...)
}

// call bounds one API call: go-mastodon's own client has no timeout.
func (a *Account) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.CallTimeout)
	defer cancel()
	return fn(ctx)
}

// IdempotencyKey derives the key of a job: the same article version on the
// same destination always gets the same key. Re-rendering shorter after a
// "too long" answer keeps the key: the refused attempt created nothing, and
// Mastodon stores a key only with the status it created. A server that
// replays the refusal instead moves the job on to its next key.
func IdempotencyKey(job syndicate.Delivery) string {
	h := sha256.New()
	for _, s := range []string{job.Destination, job.ArticleKey, string(job.Kind), job.Item.Fingerprint()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// generationKey is the key a job sends after gen replayed refusals. The
// sequence is fixed, so a retry after a restart walks it again: each key
// already refused is replayed as such, and the first key not refused
// either posts or returns the status an uncertain attempt made with it.
func generationKey(key string, gen int) string {
	if gen == 0 {
		return key
	}
	return key + "-" + strconv.Itoa(gen)
}

// Publish implements syndicate.Publisher.
func (a *Account) Publish(ctx context.Context, job syndicate.Delivery) (syndicate.Receipt, error) {
	r, err := a.publish(ctx, job)
	if err != nil {
		de := classify(err, a.now())
		de.Err = scrubError(de.Err, a.opts.Token)
		level := slog.LevelWarn
		if de.Kind == syndicate.ErrRateLimited {
			level = slog.LevelDebug // pacing, not a failure
		}
		a.opts.Logger.Log(ctx, level, "mastodon delivery failed", "destination", a.opts.ID, "item", job.ArticleKey,
			"kind", de.Kind.String(), "retry_after", de.RetryAfter, "error", de.Err)
		return syndicate.Receipt{}, de
	}
	return r, nil
}

func (a *Account) publish(ctx context.Context, job syndicate.Delivery) (syndicate.Receipt, error) {
	if job.Kind == syndicate.JobEdit {
		return a.edit(ctx, job)
	}
	key := IdempotencyKey(job)
	at := a.attempt(key, job)
	lim, err := a.limits(ctx)
	if err != nil {
		return syndicate.Receipt{}, err
	}

	a.mu.Lock()
	ignoresKeys := a.server.ignoresKeys
	a.mu.Unlock()
	if at.uncertain || job.Attempts > 0 {
		if ignoresKeys || a.now().Sub(at.first) > keyTrust {
			if r, ok := a.findPosted(ctx, job.Item); ok {
				a.done(key)
				return r, nil
			}
		}
	}

	st, err := a.render(ctx, job, lim)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	ids := at.media
	if ids == nil {
		if ids, err = a.uploadMedia(ctx, st, lim, job.ArticleKey); err != nil {
			return syndicate.Receipt{}, err
		}
		a.mu.Lock()
		at.media = ids
		a.mu.Unlock()
	}

	var sh shortening
	for replays := 0; ; {
		toot := &gomastodon.Toot{
			Status: st.Text, SpoilerText: st.SpoilerText, Visibility: st.Visibility,
			Language: st.Language, Sensitive: st.Sensitive, MediaIDs: ids,
		}
		done, err := a.wait(ctx, "statuses", "requests")
		if err != nil {
			return syndicate.Receipt{}, err
		}
		var posted *gomastodon.Status
		// The key also lets Go's transport resend the request once when a
		// reused connection breaks before the answer; servers that ignore
		// the key do not get it, so nothing resends behind our back.
		pctx := ctx
		if !ignoresKeys {
			a.mu.Lock()
			pctx = withIdempotencyKey(ctx, generationKey(key, at.gen))
			a.mu.Unlock()
		}
		err = a.call(pctx, func(ctx context.Context) error {
			var err error
			posted, err = a.client.PostStatus(ctx, toot)
			return err
		})
		done()
		if err == nil {
			a.done(key)
			return syndicate.Receipt{MessageIDs: []string{string(posted.ID)}, URL: posted.URL}, nil
		}
		switch {
		case isReplayedRefusal(err) && replays < maxReplays:
			replays++
			a.mu.Lock()
			at.gen++
			a.mu.Unlock()
			a.opts.Logger.Info("mastodon idempotency key renewed after a replayed refusal", "destination", a.opts.ID,
				"item", job.ArticleKey, "error", err)
			continue
		case isTooLong(err):
			if st, err = a.shorter(ctx, job, lim, st, &sh, err); err != nil {
				return syndicate.Receipt{}, err
			}
			continue
		case isMediaNotReady(err) && len(ids) > 0:
			if werr := a.waitMediaReady(ctx, ids); werr != nil {
				if !errors.Is(werr, errSkipMedia) {
					return syndicate.Receipt{}, werr
				}
				a.opts.Logger.Warn("mastodon status goes out without an image", "destination", a.opts.ID,
					"item", job.ArticleKey, "error", werr)
				ids = nil
			}
			continue
		case mayHaveReached(err):
			a.mu.Lock()
			at.uncertain = true
			a.mu.Unlock()
			if a.now().Sub(at.first) > keyTrust {
				a.opts.Logger.Warn("mastodon status may have been posted and the idempotency key is about to expire",
					"destination", a.opts.ID, "item", job.ArticleKey, "first_attempt", at.first, "error", scrubError(err, a.opts.Token))
				return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrAmbiguous,
					Err: fmt.Errorf("post status (first attempt %s ago): %w", a.now().Sub(at.first).Round(time.Second), err)}
			}
			return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: fmt.Errorf("post status: %w", err)}
		}
		if code, _, ok := apiStatus(err); ok && code == http.StatusNotFound {
			return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentDestination,
				Err: fmt.Errorf("server has no status API at %s: %w", a.opts.Server, err)}
		}
		return syndicate.Receipt{}, fmt.Errorf("post status: %w", err)
	}
}

// shortening is where a delivery stands after "too long" answers.
type shortening struct {
	// step counts the renderings made after refusals.
	step int
	// lim are the limits of those renderings: the strict count a tenth
	// below the limit.
	lim Limits
}

// shorter returns the status to send after a "too long" answer to st,
// whatever the status code and wording: once the whole status counted
// strictly a tenth below the limit (or the limit the answer states), then
// the title and link, then the link alone; after that a temporary error,
// so the delivery is tried again later rather than given up. A status is
// never refused for good for its length. What the refusal teaches is kept
// for the account's next statuses.
func (a *Account) shorter(ctx context.Context, job syndicate.Delivery, lim Limits, st Status, sh *shortening, cause error) (Status, error) {
	if sh.step == 0 {
		sh.lim = a.learnFrom(ctx, lim, cause)
	} else {
		a.mu.Lock()
		a.learnt.margin = true // a strictly counted status was refused
		a.mu.Unlock()
	}
	for sh.step < 3 {
		sh.step++
		p, f := Post{Item: job.Item}, a.opts.Format
		switch sh.step {
		case 1:
			next, err := a.render(ctx, job, sh.lim)
			if err != nil {
				return Status{}, err
			}
			a.opts.Logger.Info("mastodon status re-rendered under the strict count", "destination", a.opts.ID,
				"item", job.ArticleKey, "limit", sh.lim.MaxCharacters, "error", cause)
			return next, nil
		case 2:
			f = minimalFormat(f, "{{.Title}}\n\n{{.Link}}")
		case 3:
			f = minimalFormat(f, "{{.Link}}")
		}
		next, err := RenderPost(p, f, sh.lim)
		if err != nil || next.Text == st.Text && next.SpoilerText == st.SpoilerText {
			continue // nothing new to try at this step
		}
		a.opts.Logger.Warn("mastodon status reduced to a minimal status", "destination", a.opts.ID,
			"item", job.ArticleKey, "step", sh.step, "limit", sh.lim.MaxCharacters, "error", cause)
		return next, nil
	}
	return Status{}, &syndicate.DeliveryError{Kind: syndicate.ErrTemporary,
		Err: fmt.Errorf("server refuses even the shortest status as too long (%d characters counted strictly, limit %d): %w",
			Length(st.SpoilerText, st.Text, sh.lim), sh.lim.MaxCharacters, scrubError(cause, a.opts.Token))}
}

// learnFrom records what the first "too long" answer to a status fitted
// to lim teaches, and returns the limits of the re-rendering. A limit
// lower than lim's (stated in the answer, or read again when the answer
// states none, as Pleroma's) explains the refusal; otherwise the server
// counts more strictly than its identification says, or, when the status
// was counted strictly already, more strictly still.
func (a *Account) learnFrom(ctx context.Context, lim Limits, cause error) Limits {
	n, stated := statedLimit(cause)
	if !stated {
		if _, err := a.refreshLimits(ctx); err != nil {
			a.opts.Logger.Warn("mastodon instance limits unavailable after a too long answer", "destination", a.opts.ID,
				"error", scrubError(err, a.opts.Token))
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	advertised := a.server.limits.MaxCharacters
	lowered := advertised < lim.MaxCharacters
	if stated && n < lim.MaxCharacters {
		lowered = true
		if n < advertised {
			a.learnt.maxChars, a.learnt.advertised = n, advertised
		}
	}
	if !lowered {
		a.learnt.margin = a.learnt.margin || lim.Count == CountStrict
		a.learnt.strict = true
	}
	next := a.server.limits
	if a.learnt.maxChars > 0 && next.MaxCharacters == a.learnt.advertised {
		next.MaxCharacters = min(next.MaxCharacters, a.learnt.maxChars)
	}
	next.Count = CountStrict
	next.MaxCharacters = withMargin(next.MaxCharacters)
	return next
}

// minimalFormat is f reduced to the template tmpl: no share links, no
// hashtags, no Telegram link.
func minimalFormat(f Format, tmpl string) Format {
	off := false
	f.Template, f.ShareLinks, f.Hashtags = tmpl, nil, &off
	return f
}

// render renders the job's item with the Telegram link when there is one.
func (a *Account) render(ctx context.Context, job syndicate.Delivery, lim Limits) (Status, error) {
	p := Post{Item: job.Item}
	if a.opts.TelegramLinks != nil {
		u, err := a.opts.TelegramLinks.TelegramURL(ctx, job.ArticleKey)
		if err != nil {
			a.opts.Logger.Warn("telegram link unavailable", "destination", a.opts.ID, "item", job.ArticleKey, "error", err)
		}
		p.TelegramURL = u
	}
	st, err := RenderPost(p, a.opts.Format, lim)
	if err != nil {
		return Status{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: fmt.Errorf("render: %w", err)}
	}
	return st, nil
}

// attempt returns the attempt record of a key. A job retried after a
// restart has no record: its enqueue time stands in for the first attempt,
// which errs towards treating the key as expired.
func (a *Account) attempt(key string, job syndicate.Delivery) *attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at, ok := a.attempts[key]; ok {
		return at
	}
	at := &attempt{first: a.now()}
	if job.Attempts > 0 && !job.EnqueuedAt.IsZero() {
		at.first = job.EnqueuedAt
		at.uncertain = true
	}
	// Forget records no retry can use any more.
	for k, old := range a.attempts {
		if a.now().Sub(old.first) > 24*time.Hour {
			delete(a.attempts, k)
		}
	}
	a.attempts[key] = at
	return at
}

func (a *Account) done(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.attempts, key)
}

// findPosted looks among the account's latest statuses for one linking to
// the article, after an attempt that may have posted it.
func (a *Account) findPosted(ctx context.Context, it syndicate.Item) (syndicate.Receipt, bool) {
	link, ok := CleanLink(it.Link, a.opts.Format.UTM)
	if !ok {
		return syndicate.Receipt{}, false
	}
	done, err := a.wait(ctx, "requests", "requests")
	if err != nil {
		return syndicate.Receipt{}, false
	}
	var statuses []*gomastodon.Status
	err = a.call(ctx, func(ctx context.Context) error {
		acct, err := a.client.GetAccountCurrentUser(ctx)
		if err != nil {
			return err
		}
		statuses, err = a.client.GetAccountStatuses(ctx, acct.ID, &gomastodon.Pagination{Limit: 40})
		return err
	})
	done()
	if err != nil {
		a.opts.Logger.Warn("mastodon lookup of earlier status failed", "destination", a.opts.ID, "error", scrubError(err, a.opts.Token))
		return syndicate.Receipt{}, false
	}
	for _, s := range statuses {
		if strings.Contains(s.Content, `href="`+html.EscapeString(link)+`"`) {
			a.opts.Logger.Info("mastodon status found from an earlier attempt", "destination", a.opts.ID, "status", string(s.ID))
			return syndicate.Receipt{MessageIDs: []string{string(s.ID)}, URL: s.URL}, true
		}
	}
	return syndicate.Receipt{}, false
}
