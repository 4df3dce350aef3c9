package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Keeping posts fresh: an offer nobody has confirmed for StaleAfter is asked about ("is it still
// available?", with a one-click link), and paused if the helper does not answer within
// PauseAfterAsking, so that requesters are not matched with support that is no longer there.
// Members whose safeguarding check is due for renewal are told once, CheckDueWithin ahead.

// How long an offer stands without being confirmed, and how long an ask waits for an answer.
const (
	StaleAfter       = 90 * 24 * time.Hour
	PauseAfterAsking = 14 * 24 * time.Hour
)

// Notification kinds and audited actions of freshness.
const (
	NotifyOfferPaused  = "offer.paused"
	AuditOfferConfirm  = "offer.confirmed"
	freshnessBatch     = 500
	stillAvailableWhat = "offer-still-available" // the MAC's purpose, so a token is good for nothing else
	emailDateLayout    = "2 January 2006"
)

// FreshnessStore keeps what freshness reads and changes. The Mark, Pause and Confirm methods
// change a record only while it is still as the condition says and report whether they did, so
// that several processes running the job never ask twice or pause twice.
type FreshnessStore interface {
	Offer(ctx context.Context, id int64) (Offer, error)
	Category(ctx context.Context, id int64) (Category, error)
	// StaleOffers lists active offers of active members confirmed at or before confirmedBefore
	// and not asked about, longest unconfirmed first, at most limit.
	StaleOffers(ctx context.Context, confirmedBefore time.Time, limit int) ([]Offer, error)
	// UnansweredOffers lists active offers asked about at or before askedBefore, at most limit.
	UnansweredOffers(ctx context.Context, askedBefore time.Time, limit int) ([]Offer, error)
	// MarkOfferAsked records the ask at `at` while the offer is active, not asked about, and
	// confirmed at or before confirmedBefore.
	MarkOfferAsked(ctx context.Context, id int64, confirmedBefore, at time.Time) (bool, error)
	// PauseUnansweredOffer pauses the offer at `at` while it is active and was asked about at or
	// before askedBefore.
	PauseUnansweredOffer(ctx context.Context, id int64, askedBefore, at time.Time) (bool, error)
	// ConfirmOffer records the offer as confirmed at `at`, with nothing asked, while it is
	// active and (unless asked is zero) the ask outstanding is the one made at asked.
	ConfirmOffer(ctx context.Context, id int64, asked, at time.Time) (bool, error)
	// ChecksToRemind lists each active member's latest check whose re-check date is on or after
	// today and before `before`, whose member has not been told; at most limit.
	ChecksToRemind(ctx context.Context, today, before time.Time, limit int) ([]Check, error)
	// MarkCheckNotified records that the member was told at `at`, while nobody has been.
	MarkCheckNotified(ctx context.Context, id int64, at time.Time) (bool, error)
	AddNotifications(ctx context.Context, ns []Notification) error
}

// Freshness asks helpers whether their offers still stand, pauses those nobody vouches for, takes
// the answers (signed in, or through the emailed link), and reminds members of checks to renew.
type Freshness struct {
	store     FreshnessStore
	proposals ProposalStore
	tx        Transactor
	audit     *Audit
	clock     Clock
	loc       *time.Location
	key       []byte
}

// NewFreshness returns the freshness service. key signs the one-click links (the platform's
// secret key); loc is the co-op's time zone, in which dates are written.
func NewFreshness(store FreshnessStore, proposals ProposalStore, tx Transactor, audit *Audit, clock Clock, loc *time.Location, key []byte) *Freshness {
	if loc == nil {
		loc = time.UTC
	}
	return &Freshness{store: store, proposals: proposals, tx: tx, audit: audit, clock: clock, loc: loc, key: key}
}

// FreshnessCounts says what one run did.
type FreshnessCounts struct {
	Asked     int // offers asked about
	Paused    int // offers paused for want of an answer
	ChecksDue int // members told that a check is due for renewal
}

// Run pauses the offers whose ask went unanswered, asks about the offers unconfirmed for too long,
// and tells members of checks due for renewal: whatever is due at the service's now. Each record
// changes in its own transaction with its notification; running it again, or in two processes at
// once, does nothing twice.
func (f *Freshness) Run(ctx context.Context) (FreshnessCounts, error) {
	var c FreshnessCounts
	now := f.clock.now()
	var err error
	if c.Paused, err = f.pauseUnanswered(ctx, now); err != nil {
		return c, err
	}
	if c.Asked, err = f.askAboutStale(ctx, now); err != nil {
		return c, err
	}
	if c.ChecksDue, err = f.remindChecksDue(ctx, now); err != nil {
		return c, err
	}
	return c, nil
}

func (f *Freshness) what(ctx context.Context, o Offer) string {
	c, err := f.store.Category(ctx, o.CategoryID)
	if err != nil {
		return "support"
	}
	return strings.ToLower(c.Name)
}

func (f *Freshness) date(t time.Time) string { return t.In(f.loc).Format(emailDateLayout) }

func (f *Freshness) askAboutStale(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-StaleAfter)
	offers, err := f.store.StaleOffers(ctx, cutoff, freshnessBatch)
	if err != nil {
		return 0, fmt.Errorf("find offers to ask about: %w", err)
	}
	// The ask is kept to the second, so that the link signed over it reads the same in every
	// database and stays short.
	askedAt := now.Truncate(time.Second)
	n := 0
	for _, o := range offers {
		what, pauseOn := f.what(ctx, o), f.date(askedAt.Add(PauseAfterAsking))
		err := f.tx.Transact(ctx, func(ctx context.Context) error {
			ok, err := f.store.MarkOfferAsked(ctx, o.ID, cutoff, askedAt)
			if err != nil || !ok {
				return err
			}
			n++
			return f.store.AddNotifications(ctx, []Notification{{MemberID: o.MemberID, Kind: NotifyOfferStale, CreatedAt: now,
				Message: fmt.Sprintf("Is your offer of %s still available? Please confirm it by %s; if we do not hear from you, it will be paused so that nobody is matched with it.", what, pauseOn),
				Link:    StillAvailablePath(o.ID, f.token(o.ID, askedAt)),
				Data:    map[string]string{EmailDataWhat: what, EmailDataDate: pauseOn}}})
		})
		if err != nil {
			return n, fmt.Errorf("ask about offer %d: %w", o.ID, err)
		}
	}
	return n, nil
}

func (f *Freshness) pauseUnanswered(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-PauseAfterAsking)
	offers, err := f.store.UnansweredOffers(ctx, cutoff, freshnessBatch)
	if err != nil {
		return 0, fmt.Errorf("find unanswered offers: %w", err)
	}
	system := SystemActor("freshness")
	n := 0
	for _, o := range offers {
		what := f.what(ctx, o)
		err := f.tx.Transact(ctx, func(ctx context.Context) error {
			ok, err := f.store.PauseUnansweredOffer(ctx, o.ID, cutoff, now)
			if err != nil || !ok {
				return err
			}
			n++
			// As when the helper pauses it: proposals made from it no longer hold.
			if err := withdraw(ctx, f.proposals, ProposalScope{OfferID: o.ID}, WithdrawnOfferStopped, now); err != nil {
				return err
			}
			if err := f.audit.Record(ctx, system, AuditOfferChanged, "offer", o.ID,
				map[string]string{"change": string(OfferPaused), "reason": "not confirmed since " + o.StaleAskedAt.Format(time.RFC3339)}); err != nil {
				return err
			}
			asked := f.date(o.StaleAskedAt)
			return f.store.AddNotifications(ctx, []Notification{{MemberID: o.MemberID, Kind: NotifyOfferPaused, CreatedAt: now,
				Message: fmt.Sprintf("We paused your offer of %s: we asked on %s whether it was still available and did not hear back. Nobody will be matched with it. If it still stands, resume it from its page.", what, asked),
				Link:    fmt.Sprintf("/offers/%d", o.ID),
				Data:    map[string]string{EmailDataWhat: what, EmailDataDate: asked}}})
		})
		if err != nil {
			return n, fmt.Errorf("pause unanswered offer %d: %w", o.ID, err)
		}
	}
	return n, nil
}

func (f *Freshness) remindChecksDue(ctx context.Context, now time.Time) (int, error) {
	t := now.In(f.loc)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) // dates are stored as midnight UTC
	checks, err := f.store.ChecksToRemind(ctx, today, today.Add(CheckDueWithin+24*time.Hour), freshnessBatch)
	if err != nil {
		return 0, fmt.Errorf("find checks due: %w", err)
	}
	n := 0
	for _, c := range checks {
		kind, by := c.Kind+" check", c.ExpiresOn.UTC().Format(emailDateLayout)
		err := f.tx.Transact(ctx, func(ctx context.Context) error {
			ok, err := f.store.MarkCheckNotified(ctx, c.ID, now)
			if err != nil || !ok {
				return err
			}
			n++
			return f.store.AddNotifications(ctx, []Notification{{MemberID: c.MemberID, Kind: NotifyCheckDue, CreatedAt: now, Link: "/account",
				Message: fmt.Sprintf("Your %s needs renewing by %s. Until it is renewed, you cannot be suggested for support that needs a check; a coordinator can help you with this.", kind, by),
				Data:    map[string]string{EmailDataCheck: kind, EmailDataDate: by}}})
		})
		if err != nil {
			return n, fmt.Errorf("remind of check %d: %w", c.ID, err)
		}
	}
	return n, nil
}

// StillAvailablePath is the one-click page for an offer and a token.
func StillAvailablePath(offerID int64, token string) string {
	return fmt.Sprintf("/offers/%d/still-available?t=%s", offerID, token)
}

// token signs an ask: the offer and when it was asked about, so that the link works for that
// offer and that ask only, without signing in.
func (f *Freshness) token(offerID int64, askedAt time.Time) string {
	ts := strconv.FormatInt(askedAt.Unix(), 10)
	return ts + "." + f.mac(offerID, ts)
}

func (f *Freshness) mac(offerID int64, ts string) string {
	return linkMAC(f.key, stillAvailableWhat, strconv.FormatInt(offerID, 10), ts)
}

// verify reads a token for offerID and returns the ask it is for.
func (f *Freshness) verify(offerID int64, token string) (time.Time, bool) {
	ts, sig, ok := strings.Cut(token, ".")
	if !ok {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || secs <= 0 || !linkMACValid(f.key, sig, stillAvailableWhat, strconv.FormatInt(offerID, 10), ts) {
		return time.Time{}, false
	}
	return time.Unix(secs, 0).UTC(), true
}

// LinkRefusedError is a one-click link that cannot be used, with why in words for its holder.
type LinkRefusedError struct {
	Message string
	// Stopped: the link was good, but the offer is paused or withdrawn.
	Stopped bool
}

func (e *LinkRefusedError) Error() string { return "link refused: " + e.Message }

var errBadLink = &LinkRefusedError{Message: "This link does not work for this offer. Check that you copied the whole address from the email, or sign in and look at the offer's page."}

// StillAvailable is an offer as the one-click page shows it.
type StillAvailable struct {
	OfferID     int64
	What        string    // the kind of support, in words
	Description string    // what the helper wrote
	PauseOn     time.Time // when it is paused unless confirmed
	// Already: the ask this link is for has been answered (the offer was confirmed or changed
	// since), so there is nothing more to do.
	Already bool
}

// readLink checks a one-click link and reads its offer and the ask it is for.
func (f *Freshness) readLink(ctx context.Context, offerID int64, token string) (Offer, time.Time, error) {
	asked, ok := f.verify(offerID, token)
	if !ok {
		return Offer{}, time.Time{}, errBadLink
	}
	o, err := f.store.Offer(ctx, offerID)
	if errors.Is(err, ErrNotFound) {
		return Offer{}, time.Time{}, errBadLink
	}
	if err != nil {
		return Offer{}, time.Time{}, fmt.Errorf("offer %d: %w", offerID, err)
	}
	switch {
	case o.Status == OfferWithdrawn:
		return o, asked, &LinkRefusedError{Stopped: true, Message: "This offer was withdrawn, so there is nothing to confirm. Thank you for offering it. You can post a new offer at any time."}
	case o.Status == OfferPaused:
		return o, asked, &LinkRefusedError{Stopped: true, Message: "This offer is paused, so this link no longer works. If it still stands, sign in and resume it from its page; that confirms it too."}
	case !o.StaleAskedAt.IsZero() && o.StaleAskedAt.Unix() != asked.Unix():
		return o, asked, &LinkRefusedError{Message: "This link is from an earlier email about this offer. Use the link in the latest email, or sign in and press \"Still available\" on the offer's page."}
	}
	return o, asked, nil
}

func (f *Freshness) view(ctx context.Context, o Offer, asked time.Time) StillAvailable {
	return StillAvailable{OfferID: o.ID, What: f.what(ctx, o), Description: o.Description,
		PauseOn: asked.Add(PauseAfterAsking), Already: o.StaleAskedAt.IsZero()}
}

// StillAvailableLink reads the one-click link of an offer, changing nothing (email scanners
// follow links): what it is about, or a LinkRefusedError saying why it cannot be used. Anyone
// holding the link may use it; the link is the permission.
func (f *Freshness) StillAvailableLink(ctx context.Context, offerID int64, token string) (StillAvailable, error) {
	o, asked, err := f.readLink(ctx, offerID, token)
	if err != nil {
		return StillAvailable{}, err
	}
	return f.view(ctx, o, asked), nil
}

// ConfirmByLink confirms an offer as still available through its one-click link. Confirming
// again is harmless: the answer says it was already done.
func (f *Freshness) ConfirmByLink(ctx context.Context, by Actor, offerID int64, token string) (StillAvailable, error) {
	o, asked, err := f.readLink(ctx, offerID, token)
	if err != nil {
		return StillAvailable{}, err
	}
	v := f.view(ctx, o, asked)
	if v.Already {
		return v, nil
	}
	if by.ID == 0 {
		by.Name = "the emailed link"
	}
	err = f.tx.Transact(ctx, func(ctx context.Context) error {
		ok, err := f.store.ConfirmOffer(ctx, offerID, asked, f.clock.now())
		if err != nil {
			return err
		}
		if !ok {
			return ErrConflict
		}
		return f.audit.Record(ctx, by, AuditOfferConfirm, "offer", offerID, map[string]string{"by": "emailed link"})
	})
	if errors.Is(err, ErrConflict) {
		// Answered, paused or asked again meanwhile: say which.
		return f.StillAvailableLink(ctx, offerID, token)
	}
	if err != nil {
		return StillAvailable{}, fmt.Errorf("confirm offer %d: %w", offerID, err)
	}
	return v, nil
}

// Confirm records, for its member or a coordinator, that an active offer still stands, and says
// whether it had already been (nothing was asked); either way it counts as confirmed now.
func (f *Freshness) Confirm(ctx context.Context, by Actor, offerID int64) (already bool, err error) {
	err = f.tx.Transact(ctx, func(ctx context.Context) error {
		o, err := f.store.Offer(ctx, offerID)
		if err != nil {
			return err
		}
		if !canPost(by.Role) || !owns(by, o.MemberID) {
			return refuse(canPost(by.Role) && o.Status == OfferActive)
		}
		switch o.Status {
		case OfferWithdrawn:
			return errWithdrawn
		case OfferPaused:
			return &ConflictError{Message: "This offer is paused. Resume it to make it available again; that confirms it too."}
		}
		already = o.StaleAskedAt.IsZero()
		ok, err := f.store.ConfirmOffer(ctx, offerID, time.Time{}, f.clock.now())
		if err != nil {
			return err
		}
		if !ok {
			return &ConflictError{Message: "Someone changed this offer just now. Look at it again."}
		}
		return f.audit.Record(ctx, by, AuditOfferConfirm, "offer", offerID, behalf(by, o.MemberID, nil))
	})
	if err != nil {
		return false, fmt.Errorf("confirm offer %d: %w", offerID, err)
	}
	return already, nil
}
