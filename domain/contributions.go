package domain

import (
	"context"
	"fmt"
	"time"
)

// Contribution is what one completed match gave: the minutes of support a helper gave and a
// requester received, in a kind of support, on a day.
type Contribution struct {
	ID          int64
	MatchID     int64
	HelperID    int64
	RequesterID int64
	CategoryID  int64
	Minutes     int
	GivenOn     time.Time // a date: midnight UTC, the day in the co-op's time zone
	CreatedAt   time.Time
}

// ContributionQuery selects contributions to add up: of one member (given or received) or of
// the whole co-op, over dates from From (inclusive) to To (exclusive).
type ContributionQuery struct {
	MemberID int64 // 0 for the whole co-op
	From, To time.Time
}

// ContributionSum is the minutes given and received in one month and kind of support.
type ContributionSum struct {
	Month        time.Time // the first of the month, midnight UTC
	CategoryID   int64
	CategoryName string
	Given        int // minutes
	Received     int
	Occasions    int // completed matches counted
}

// MemberContribution is one member's totals, for coordinators.
type MemberContribution struct {
	MemberID int64
	Name     string
	Given    int
	Received int
}

// ContributionStore adds up contributions.
type ContributionStore interface {
	// SumContributions adds up by month and category; with a member, Given counts what they
	// gave and Received what they received; for the co-op both count every minute.
	SumContributions(ctx context.Context, q ContributionQuery) ([]ContributionSum, error)
	// MemberContributions lists each member's totals over the dates, most given first.
	MemberContributions(ctx context.Context, q ContributionQuery, limit int) ([]MemberContribution, error)
}

// Statement is what a member gave and received, by month and kind of support: recognition of
// what unpaid carers and volunteers give, worded so that a carer can show it in an assessment.
type Statement struct {
	Member   Member
	From, To time.Time // dates; To exclusive
	Rows     []ContributionSum
	Given    int // minutes in all
	Received int
	// ByCategory totals the rows over the months.
	ByCategory []ContributionSum
}

// Contributions reports what members gave and received.
type Contributions struct {
	store   ContributionStore
	members MemberStore
	audit   *Audit
	clock   Clock
	loc     *time.Location
}

// NewContributions returns the service of statements and totals.
func NewContributions(store ContributionStore, members MemberStore, audit *Audit, clock Clock, loc *time.Location) *Contributions {
	return &Contributions{store: store, members: members, audit: audit, clock: clock, loc: loc}
}

// Period reads a statement's dates, YYYY-MM-DD, in the co-op's calendar; empty from means
// twelve months back from the first of this month, empty to means up to today.
func (c *Contributions) Period(from, to string) (time.Time, time.Time, error) {
	now := c.clock.now().In(c.loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	v := &ValidationError{}
	f := time.Date(now.Year()-1, now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	t := today.AddDate(0, 0, 1)
	if from != "" {
		d, err := time.Parse(time.DateOnly, from)
		if err != nil {
			v.Add("from", "Enter the first date as YYYY-MM-DD, for example 2026-04-01")
		}
		f = d
	}
	if to != "" {
		d, err := time.Parse(time.DateOnly, to)
		if err != nil {
			v.Add("to", "Enter the last date as YYYY-MM-DD, for example 2027-03-31")
		}
		t = d.AddDate(0, 0, 1)
	}
	if !v.Has("from") && !v.Has("to") && !f.Before(t) {
		v.Add("to", "The last date must be on or after the first")
	}
	return f, t, v.OrNil()
}

// Statement returns a member's statement over the dates [from, to). The member or a coordinator.
func (c *Contributions) Statement(ctx context.Context, by Actor, memberID int64, from, to time.Time) (Statement, error) {
	if !owns(by, memberID) {
		return Statement{}, ErrForbidden
	}
	m, err := c.members.Member(ctx, memberID)
	if err != nil {
		return Statement{}, fmt.Errorf("statement of member %d: %w", memberID, err)
	}
	rows, err := c.store.SumContributions(ctx, ContributionQuery{MemberID: memberID, From: from, To: to})
	if err != nil {
		return Statement{}, fmt.Errorf("statement of member %d: %w", memberID, err)
	}
	st := Statement{Member: m, From: from, To: to, Rows: rows}
	st.Given, st.Received, st.ByCategory = totals(rows)
	return st, nil
}

func totals(rows []ContributionSum) (given, received int, byCat []ContributionSum) {
	index := map[int64]int{}
	for _, r := range rows {
		given += r.Given
		received += r.Received
		i, ok := index[r.CategoryID]
		if !ok {
			i = len(byCat)
			index[r.CategoryID] = i
			byCat = append(byCat, ContributionSum{CategoryID: r.CategoryID, CategoryName: r.CategoryName})
		}
		byCat[i].Given += r.Given
		byCat[i].Received += r.Received
		byCat[i].Occasions += r.Occasions
	}
	return given, received, byCat
}

// CoopTotals is what the whole co-op gave over some dates.
type CoopTotals struct {
	From, To   time.Time
	Rows       []ContributionSum // Given counts every minute given (equal to received)
	Minutes    int
	Occasions  int
	ByCategory []ContributionSum
	Members    []MemberContribution
}

// Totals returns the co-op's totals by month and category and the members' figures.
// Coordinators only.
func (c *Contributions) Totals(ctx context.Context, by Actor, from, to time.Time) (CoopTotals, error) {
	if err := requireCoordinator(by); err != nil {
		return CoopTotals{}, err
	}
	q := ContributionQuery{From: from, To: to}
	rows, err := c.store.SumContributions(ctx, q)
	if err != nil {
		return CoopTotals{}, fmt.Errorf("co-op totals: %w", err)
	}
	t := CoopTotals{From: from, To: to, Rows: rows}
	t.Minutes, _, t.ByCategory = totals(rows)
	for _, r := range rows {
		t.Occasions += r.Occasions
	}
	if t.Members, err = c.store.MemberContributions(ctx, q, 500); err != nil {
		return CoopTotals{}, fmt.Errorf("members' totals: %w", err)
	}
	return t, nil
}
