package domain

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The steps of the match life cycle that time takes: approvals nobody answered lapse, silent
// requesters' completions are confirmed, and both people are reminded the day before.

// TimedCounts says what one run of the timed steps did.
type TimedCounts struct {
	Lapsed, Confirmed, Reminded int
	// AskedDone: helpers asked whether agreed support happened; Overdue: matches flagged to
	// coordinators because nobody said, a week after the end.
	AskedDone, Overdue int
}

// When the helper is asked whether agreed support happened, and when coordinators are told
// that nobody has said.
const (
	AskDoneAfter  = 2 * time.Hour
	OverdueAfter  = 7 * 24 * time.Hour
	NoticeOverdue = "match.overdue"
)

// RunTimed lapses, confirms and reminds whatever is due at the service's now. Each match is
// changed in its own transaction; one that changed meanwhile is left for the next run.
func (a *Agreements) RunTimed(ctx context.Context) (TimedCounts, error) {
	var c TimedCounts
	now := a.clock.now()
	system := SystemActor("matcher")

	lapsing, err := a.store.Lapsing(ctx, now)
	if err != nil {
		return c, fmt.Errorf("find lapsing matches: %w", err)
	}
	c.Lapsed, err = a.each(ctx, matchIDs(lapsing), "lapsed", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchApproved || m.AnswerBy.After(now) {
			return errMovedOn
		}
		m.Status, m.EndReason, m.EndedAt = MatchCancelled, EndedLapsed, now
		if err := a.audit.Record(ctx, system, AuditMatchCancelled, "match", m.ID, map[string]string{"reason": EndedLapsed}); err != nil {
			return err
		}
		msg := fmt.Sprintf("The match for %s on %s lapsed because it was not accepted in time.", a.categoryName(ctx, r.CategoryID), a.when(r))
		return a.notify(ctx,
			Notification{MemberID: m.HelperID, Data: a.about(ctx, r), Kind: NotifyLapsed, Message: msg, Link: matchLink(m.ID)},
			Notification{MemberID: r.MemberID, Data: a.about(ctx, r), Kind: NotifyLapsed, Message: msg + " Your request goes back to the matcher.", Link: matchLink(m.ID)})
	})
	if err != nil {
		return c, err
	}

	unconfirmed, err := a.store.Unconfirmed(ctx, now.Add(-ConfirmWithin))
	if err != nil {
		return c, fmt.Errorf("find unconfirmed completions: %w", err)
	}
	c.Confirmed, err = a.each(ctx, matchIDs(unconfirmed), "confirmed", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchAccepted || m.DoneAt.IsZero() || m.DoneAt.After(now.Add(-ConfirmWithin)) {
			return errMovedOn
		}
		if err := a.complete(ctx, m, r, m.MinutesClaimed, 0); err != nil {
			return err
		}
		return a.audit.Record(ctx, system, AuditMatchConfirmed, "match", m.ID, map[string]string{"minutes": fmt.Sprint(m.MinutesClaimed), "by": "seven days of silence"})
	})
	if err != nil {
		return c, err
	}

	upcoming, err := a.store.Upcoming(ctx, now, now.Add(24*time.Hour))
	if err != nil {
		return c, fmt.Errorf("find matches to remind of: %w", err)
	}
	c.Reminded, err = a.each(ctx, listingIDs(upcoming), "reminded", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchAccepted || !m.RemindedAt.IsZero() || !r.Start.After(now) {
			return errMovedOn
		}
		m.RemindedAt = now
		msg := fmt.Sprintf("A reminder: %s on %s.", a.categoryName(ctx, r.CategoryID), a.when(r))
		return a.notify(ctx,
			Notification{MemberID: m.HelperID, Data: a.about(ctx, r), Kind: NotifyReminder, Message: msg, Link: matchLink(m.ID)},
			Notification{MemberID: r.MemberID, Data: a.about(ctx, r), Kind: NotifyReminder, Message: msg, Link: matchLink(m.ID)})
	})
	if err != nil {
		return c, err
	}

	asking, err := a.store.NotSaidDone(ctx, now.Add(-AskDoneAfter), false)
	if err != nil {
		return c, fmt.Errorf("find support to ask about: %w", err)
	}
	c.AskedDone, err = a.each(ctx, listingIDs(asking), "asked about", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchAccepted || !m.DoneAt.IsZero() || !m.DoneAskedAt.IsZero() {
			return errMovedOn
		}
		m.DoneAskedAt = now
		return a.notify(ctx, Notification{MemberID: m.HelperID, Data: a.about(ctx, r), Kind: NotifyConfirm, Link: matchLink(m.ID),
			Message: fmt.Sprintf("Did the support on %s happen? Please say how long it took, so that it counts on both your statements.", a.when(r))})
	})
	if err != nil {
		return c, err
	}

	overdue, err := a.store.NotSaidDone(ctx, now.Add(-OverdueAfter), true)
	if err != nil {
		return c, fmt.Errorf("find support nobody said happened: %w", err)
	}
	names := make(map[int64]ProposalListing, len(overdue))
	for _, l := range overdue {
		names[l.ID] = l
	}
	c.Overdue, err = a.each(ctx, listingIDs(overdue), "flagged", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchAccepted || !m.DoneAt.IsZero() || !m.OverdueAt.IsZero() {
			return errMovedOn
		}
		m.OverdueAt = now
		l := names[m.ID]
		return a.store.AddNotice(ctx, &Notice{Kind: NoticeOverdue, Link: matchLink(m.ID), CreatedAt: now,
			Message: fmt.Sprintf("Nobody has said whether %s for %s with %s on %s happened. Ask them, then close the match if it did not.",
				a.categoryName(ctx, r.CategoryID), l.RequesterName, l.HelperName, a.when(r))})
	})
	return c, err
}

// errMovedOn: a match found due had moved on by the time its step ran; it is left alone.
var errMovedOn = &ConflictError{Message: "changed meanwhile"}

// each runs one timed step on each of the matches, in a transaction of its own, and counts
// those it changed; a match someone else moved on meanwhile is skipped.
func (a *Agreements) each(ctx context.Context, ids []int64, wanted string, step func(ctx context.Context, m *Match, r Request) error) (int, error) {
	n := 0
	for _, id := range ids {
		_, err := a.change(ctx, id, wanted, step)
		if err := skipConflict(err); err != nil {
			return n, err
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}

func matchIDs(ms []Match) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func listingIDs(ls []ProposalListing) []int64 {
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	return ids
}

// skipConflict passes on every error but a conflict or a duplicate, which mean someone acted
// first (a requester confirming as the seven days run out, say).
func skipConflict(err error) error {
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrDuplicate) {
		return nil
	}
	return err
}

// Queue cursors sort by urgency, then start, then id: the letter of the sort carries the urgency.
const (
	SortQueueUrgent  = "queue-urgent"
	SortQueueSoon    = "queue-soon"
	SortQueueRoutine = "queue-routine"
)

// QueueSort is the cursor sort of a queue page ending on a request of urgency u.
func QueueSort(u Urgency) string {
	switch u {
	case Urgent:
		return SortQueueUrgent
	case Soon:
		return SortQueueSoon
	}
	return SortQueueRoutine
}

// UrgencyRank orders urgencies most urgent first: 0 urgent, 1 soon, 2 routine.
func UrgencyRank(sort string) int {
	switch sort {
	case SortQueueUrgent:
		return 0
	case SortQueueSoon:
		return 1
	}
	return 2
}

// LetThrough approves, on the platform's behalf, the proposals of a pass in categories whose
// proposals go straight to the two people, and asks both; it says how many.
func (a *Agreements) LetThrough(ctx context.Context, passID int64) (int, error) {
	ids, err := a.store.DirectProposals(ctx, passID)
	if err != nil {
		return 0, fmt.Errorf("find proposals to let through: %w", err)
	}
	return a.each(ctx, ids, "approved", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchProposed {
			return errMovedOn
		}
		if err := a.approve(ctx, m, r, 0, a.clock.now()); err != nil {
			return err
		}
		return a.askBoth(ctx, *m, r)
	})
}
