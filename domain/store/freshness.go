package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/coop-exchange/coop/domain"
)

// Freshness: offers asked whether they still stand, paused when nobody answers, confirmed; and
// checks whose members are told they are due for renewal. Every change is a conditional UPDATE
// that says whether it took, so that two processes running the job never ask or pause twice (on
// PostgreSQL the second UPDATE waits for the first's row lock, then finds its condition false;
// on SQLite transactions take the write lock at BEGIN and follow one another).

var _ domain.FreshnessStore = (*Store)(nil)

// staleOffersSQL picks active offers of active members confirmed at or before a time and not yet
// asked about, longest unconfirmed first.
const staleOffersSQL = `SELECT o.* FROM offers o JOIN members m ON m.id = o.member_id
	WHERE o.status = 'active' AND o.stale_asked_at IS NULL AND o.confirmed_at <= ? AND m.status = 'active'
	ORDER BY o.confirmed_at, o.id LIMIT ?`

// checksToRemindSQL picks each active member's latest check (by re-check date, then id) whose
// re-check date is on or after the first date and before the second, not yet told of.
const checksToRemindSQL = `SELECT c.* FROM checks c JOIN members m ON m.id = c.member_id
	WHERE m.status = 'active' AND c.due_notified_at IS NULL AND c.expires_on >= ? AND c.expires_on < ?
	  AND NOT EXISTS (SELECT 1 FROM checks d WHERE d.member_id = c.member_id
	                  AND (d.expires_on > c.expires_on OR (d.expires_on = c.expires_on AND d.id > c.id)))
	ORDER BY c.expires_on, c.id LIMIT ?`

func offersOf(rows []offerRow) ([]domain.Offer, error) {
	out := make([]domain.Offer, len(rows))
	for i, r := range rows {
		o, err := r.domain()
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

// StaleOffers lists the offers to ask about; see domain.FreshnessStore.
func (s *Store) StaleOffers(ctx context.Context, confirmedBefore time.Time, limit int) ([]domain.Offer, error) {
	var rows []offerRow
	if err := s.conn(ctx).Raw(staleOffersSQL, confirmedBefore.UTC(), limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list offers to ask about: %w", translate(err))
	}
	return offersOf(rows)
}

// UnansweredOffers lists active offers asked about at or before askedBefore, longest asked first.
func (s *Store) UnansweredOffers(ctx context.Context, askedBefore time.Time, limit int) ([]domain.Offer, error) {
	var rows []offerRow
	err := s.conn(ctx).Where("status = ? AND stale_asked_at IS NOT NULL AND stale_asked_at <= ?", string(domain.OfferActive), askedBefore.UTC()).
		Order("stale_asked_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to list unanswered offers: %w", translate(err))
	}
	return offersOf(rows)
}

// updated reports whether a conditional update changed a row.
func updated(res *gorm.DB, what string) (bool, error) {
	if res.Error != nil {
		return false, fmt.Errorf("store: unable to %s: %w", what, translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// MarkOfferAsked records that the helper was asked at `at`, while the offer is active, not asked
// about and confirmed at or before confirmedBefore. It leaves updated_at, the offer's version for
// editing and matching, alone: nothing the helper wrote changed.
func (s *Store) MarkOfferAsked(ctx context.Context, id int64, confirmedBefore, at time.Time) (bool, error) {
	res := s.conn(ctx).Model(&offerRow{}).
		Where("id = ? AND status = ? AND stale_asked_at IS NULL AND confirmed_at <= ?", id, string(domain.OfferActive), confirmedBefore.UTC()).
		Update("stale_asked_at", at.UTC())
	return updated(res, fmt.Sprintf("mark offer %d asked about", id))
}

// PauseUnansweredOffer pauses an active offer asked about at or before askedBefore. The ask stays
// recorded; resuming clears it.
func (s *Store) PauseUnansweredOffer(ctx context.Context, id int64, askedBefore, at time.Time) (bool, error) {
	res := s.conn(ctx).Model(&offerRow{}).
		Where("id = ? AND status = ? AND stale_asked_at IS NOT NULL AND stale_asked_at <= ?", id, string(domain.OfferActive), askedBefore.UTC()).
		Updates(map[string]any{"status": string(domain.OfferPaused), "updated_at": at.UTC()})
	return updated(res, fmt.Sprintf("pause offer %d", id))
}

// ConfirmOffer records an active offer as confirmed at `at` with nothing asked; when asked is not
// zero, only while the outstanding ask is the one made then.
func (s *Store) ConfirmOffer(ctx context.Context, id int64, asked, at time.Time) (bool, error) {
	db := s.conn(ctx).Model(&offerRow{}).Where("id = ? AND status = ?", id, string(domain.OfferActive))
	if !asked.IsZero() {
		db = db.Where("stale_asked_at = ?", asked.UTC())
	}
	res := db.Updates(map[string]any{"confirmed_at": at.UTC(), "stale_asked_at": nil})
	return updated(res, fmt.Sprintf("confirm offer %d", id))
}

// ChecksToRemind lists the checks whose members should be told they are due; see
// domain.FreshnessStore.
func (s *Store) ChecksToRemind(ctx context.Context, today, before time.Time, limit int) ([]domain.Check, error) {
	var rows []checkRow
	if err := s.conn(ctx).Raw(checksToRemindSQL, dateOnly(today), dateOnly(before), limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list checks to remind of: %w", translate(err))
	}
	out := make([]domain.Check, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// MarkCheckNotified records that a check's member was told at `at` that it is due, while nobody has.
func (s *Store) MarkCheckNotified(ctx context.Context, id int64, at time.Time) (bool, error) {
	res := s.conn(ctx).Model(&checkRow{}).Where("id = ? AND due_notified_at IS NULL", id).Update("due_notified_at", at.UTC())
	return updated(res, fmt.Sprintf("mark check %d notified", id))
}
