package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/synthetic"
)

// batchSize keeps each INSERT under both dialects' limits on bound parameters.
const batchSize = 1000

// CountRealMembers counts the members who are real people, not made by `coop seed`.
func (s *Store) CountRealMembers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&memberRow{}).Where("synthetic = ?", false).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: unable to count members: %w", translate(err))
	}
	return n, nil
}

// SeedUsed reports whether a synthetic community was already made with this seed.
func (s *Store) SeedUsed(ctx context.Context, seed uint64) (bool, error) {
	var n int64
	err := s.conn(ctx).Model(&memberRow{}).Where("synthetic = ? AND email LIKE ?", true, fmt.Sprintf("%%.s%d.%%@%s", seed, synthetic.EmailDomain)).
		Limit(1).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: unable to look for the seed: %w", translate(err))
	}
	return n > 0, nil
}

// SaveCommunity stores a synthetic community in one transaction, in batches. Areas whose code
// exists already are reused. Every member gets passwordHash (empty: they cannot sign in) and the
// data-holding consent.
func (s *Store) SaveCommunity(ctx context.Context, c synthetic.Community, passwordHash string) error {
	if err := s.saveCommunity(ctx, c, passwordHash); err != nil {
		return err
	}
	// Fresh statistics, so that the planner knows how big the tables have become before
	// autovacuum gets round to them.
	if err := s.conn(ctx).Exec("ANALYZE").Error; err != nil {
		return fmt.Errorf("store: unable to analyse the tables after seeding: %w", translate(err))
	}
	return nil
}

func (s *Store) saveCommunity(ctx context.Context, c synthetic.Community, passwordHash string) error {
	return s.Transact(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		var existing []areaRow
		if err := db.Where("code LIKE ?", "SYN%").Find(&existing).Error; err != nil {
			return translate(err)
		}
		byCode := map[string]int64{}
		for _, a := range existing {
			byCode[strings.ToUpper(a.Code)] = a.ID
		}
		areaIDs := make([]int64, len(c.Areas))
		var newAreas []areaRow
		var newIdx []int
		for i, a := range c.Areas {
			if id, ok := byCode[a.Code]; ok {
				areaIDs[i] = id
				continue
			}
			newAreas = append(newAreas, areaRow{Name: a.Name, Code: a.Code, Lat: a.Lat, Lon: a.Lon, CreatedAt: c.At, UpdatedAt: c.At})
			newIdx = append(newIdx, i)
		}
		if len(newAreas) > 0 {
			if err := db.CreateInBatches(&newAreas, batchSize).Error; err != nil {
				return fmt.Errorf("areas: %w", translate(err))
			}
			for k, i := range newIdx {
				areaIDs[i] = newAreas[k].ID
			}
		}

		members := make([]memberRow, len(c.Members))
		for i, m := range c.Members {
			m.AreaID, m.PasswordHash = areaIDs[m.AreaID-1], passwordHash
			members[i] = memberToRow(m)
		}
		if len(members) == 0 {
			return nil
		}
		if err := db.CreateInBatches(&members, batchSize).Error; err != nil {
			return fmt.Errorf("members: %w", translate(err))
		}
		consents := make([]consentRow, len(members))
		for i, m := range members {
			consents[i] = consentRow{MemberID: m.ID, Kind: string(domain.ConsentDataHolding), Wording: domain.DataHoldingConsentWording, GivenAt: m.CreatedAt}
		}
		if err := db.CreateInBatches(&consents, batchSize).Error; err != nil {
			return fmt.Errorf("consents: %w", translate(err))
		}
		memberID := func(i int64) int64 { return members[i-1].ID }

		offers := make([]offerRow, len(c.Offers))
		for i, o := range c.Offers {
			o.MemberID, o.CreatedBy = memberID(o.MemberID), memberID(o.CreatedBy)
			row, err := offerToRow(o)
			if err != nil {
				return err
			}
			offers[i] = row
		}
		if len(offers) > 0 {
			if err := db.CreateInBatches(&offers, batchSize).Error; err != nil {
				return fmt.Errorf("offers: %w", translate(err))
			}
		}

		series := make([]seriesRow, len(c.SeriesWeeks))
		owner := make([]int64, len(c.SeriesWeeks))
		for i, r := range c.Requests {
			if k := c.Series[i]; k != 0 {
				owner[k-1] = memberID(r.MemberID)
			}
		}
		for k, weeks := range c.SeriesWeeks {
			series[k] = seriesRow{MemberID: owner[k], Weeks: weeks, CreatedAt: c.At}
		}
		if len(series) > 0 {
			if err := db.CreateInBatches(&series, batchSize).Error; err != nil {
				return fmt.Errorf("series: %w", translate(err))
			}
		}
		requests := make([]requestRow, len(c.Requests))
		for i, r := range c.Requests {
			r.MemberID, r.CreatedBy, r.AreaID = memberID(r.MemberID), memberID(r.CreatedBy), areaIDs[r.AreaID-1]
			if k := c.Series[i]; k != 0 {
				r.SeriesID = series[k-1].ID
			}
			requests[i] = requestToRow(r)
		}
		if len(requests) > 0 {
			if err := db.CreateInBatches(&requests, batchSize).Error; err != nil {
				return fmt.Errorf("requests: %w", translate(err))
			}
		}
		checks := make([]checkRow, len(c.Checks))
		for i, ch := range c.Checks {
			checks[i] = checkRow{MemberID: memberID(ch.MemberID), Kind: ch.Kind, Level: ch.Level, CertificateNumber: ch.CertificateNumber,
				IssuedOn: dateOnly(ch.IssuedOn), ExpiresOn: dateOnly(ch.ExpiresOn), UpdateService: ch.UpdateService,
				VerifiedAt: ch.VerifiedAt.UTC(), CreatedAt: ch.CreatedAt.UTC()}
		}
		if len(checks) > 0 {
			if err := db.CreateInBatches(&checks, batchSize).Error; err != nil {
				return fmt.Errorf("checks: %w", translate(err))
			}
		}
		return nil
	})
}
