package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gomastodon "github.com/mattn/go-mastodon"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// edit updates a posted status to the article's new version with PUT
// /api/v1/statuses/:id: text, spoiler, language and media. Images are
// uploaded again with their current alt text (the server lets only
// unattached media be changed), and the old ones are kept when the new
// upload fails. Visibility cannot change on an edit and is not sent.
func (a *Account) edit(ctx context.Context, job syndicate.Delivery) (syndicate.Receipt, error) {
	if len(job.MessageIDs) == 0 || job.MessageIDs[0] == "" {
		return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: errors.New("edit job without a status id")}
	}
	id := gomastodon.ID(job.MessageIDs[0])
	lim, err := a.limits(ctx)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	st, err := a.render(ctx, job, lim)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	ids, err := a.uploadMedia(ctx, st, lim, job.ArticleKey)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	if len(ids) < len(st.Media) {
		ids = nil // keep what the status shows rather than drop images
	}
	var sh shortening
	for {
		toot := &gomastodon.Toot{Status: st.Text, SpoilerText: st.SpoilerText, Language: st.Language, Sensitive: st.Sensitive, MediaIDs: ids}
		done, err := a.wait(ctx, "requests")
		if err != nil {
			return syndicate.Receipt{}, err
		}
		var updated *gomastodon.Status
		err = a.call(ctx, func(ctx context.Context) error {
			var err error
			updated, err = a.client.UpdateStatus(ctx, toot, id)
			return err
		})
		done()
		if err == nil {
			return syndicate.Receipt{MessageIDs: []string{string(updated.ID)}, URL: updated.URL}, nil
		}
		switch {
		case isTooLong(err):
			if st, err = a.shorter(ctx, job, lim, st, &sh, err); err != nil {
				return syndicate.Receipt{}, err
			}
			continue
		case isMediaNotReady(err) && len(ids) > 0:
			if werr := a.waitMediaReady(ctx, ids); werr != nil {
				ids = nil
			}
			continue
		}
		if code, _, ok := apiStatus(err); ok && code == http.StatusNotFound {
			return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem,
				Err: fmt.Errorf("status %s no longer exists (deleted on the server): %w", id, err)}
		}
		// An edit is idempotent: repeating it after a timeout is harmless.
		return syndicate.Receipt{}, fmt.Errorf("edit status %s: %w", id, err)
	}
}
