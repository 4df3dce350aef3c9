package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

func TestEscalationLifeCycle(t *testing.T) {
	for _, c := range []struct {
		side     domain.Side
		from, to domain.EscalationStatus
		reason   string
		outcome  string
		want     string // "" allowed; "move" refused by the life cycle; a field name when invalid
	}{
		{domain.SideCoop, domain.EscalationDraft, domain.EscalationRequested, "", "", ""},
		{domain.SideService, domain.EscalationDraft, domain.EscalationAccepted, "", "", "move"}, // a draft was never sent
		{domain.SideService, domain.EscalationRequested, domain.EscalationAccepted, "", "", ""},
		{domain.SideService, domain.EscalationRequested, domain.EscalationRejected, "", "", "reason"},
		{domain.SideService, domain.EscalationRequested, domain.EscalationRejected, "Outside our area", "", ""},
		{domain.SideService, domain.EscalationRequested, domain.EscalationCompleted, "", "Visited", "move"}, // accept first
		{domain.SideService, domain.EscalationAccepted, domain.EscalationInProgress, "", "", ""},
		{domain.SideService, domain.EscalationInProgress, domain.EscalationCompleted, "", "", "outcome"},
		{domain.SideService, domain.EscalationInProgress, domain.EscalationCompleted, "", "Care package arranged", ""},
		{domain.SideService, domain.EscalationOnHold, domain.EscalationInProgress, "", "", ""},
		{domain.SideCoop, domain.EscalationAccepted, domain.EscalationCancelled, "A neighbour can help after all", "", ""},
		{domain.SideCoop, domain.EscalationRequested, domain.EscalationAccepted, "", "", "move"}, // only the service accepts
		{domain.SideService, domain.EscalationCompleted, domain.EscalationInProgress, "", "", "move"},
		{domain.SideCoop, domain.EscalationCancelled, domain.EscalationRequested, "", "", "move"},
	} {
		err := domain.CheckMove(c.side, c.from, domain.EscalationMove{To: c.to, Reason: c.reason, Outcome: c.outcome})
		var moveErr *domain.MoveNotAllowedError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %s → %s refused: %v", c.side, c.from, c.to, err)
		case c.want == "move" && !errors.As(err, &moveErr):
			t.Errorf("%s: %s → %s: got %v, want a refusal by the life cycle", c.side, c.from, c.to, err)
		case c.want == "move":
			if !errors.Is(err, domain.ErrConflict) {
				t.Errorf("a refused move is not a conflict: %v", err)
			}
			for _, s := range moveErr.Allowed {
				if !strings.Contains(err.Error(), string(s)) {
					t.Errorf("the refusal %q does not list %s", err, s)
				}
			}
		case c.want != "move" && c.want != "":
			if f := fieldsOf(err); len(f) != 1 || f[0] != c.want {
				t.Errorf("%s → %s: got %v, want a message about %s", c.from, c.to, err, c.want)
			}
		}
	}
	// Ended escalations change no more, and say so.
	for _, s := range []domain.EscalationStatus{domain.EscalationCompleted, domain.EscalationRejected, domain.EscalationCancelled} {
		if s.Open() || len(domain.AllowedMoves(domain.SideService, s)) != 0 || len(domain.AllowedMoves(domain.SideCoop, s)) != 0 {
			t.Errorf("%s can still change", s)
		}
	}
}

func TestWhenANeedIsDueToBeEscalated(t *testing.T) {
	posted := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		urgency domain.Urgency
		start   time.Time
		own     map[domain.Urgency]domain.EscalationTiming
		want    time.Time
	}{
		// Urgent, tomorrow afternoon: two hours after posting comes first.
		{domain.Urgent, posted.Add(30 * time.Hour), nil, posted.Add(2 * time.Hour)},
		// Urgent, this evening: twelve hours before the start is already past, so due now-ish.
		{domain.Urgent, posted.Add(10 * time.Hour), nil, posted.Add(-2 * time.Hour)},
		// Routine in a fortnight: three days after posting.
		{domain.Routine, posted.Add(14 * 24 * time.Hour), nil, posted.Add(72 * time.Hour)},
		// Routine in three days: two days before the start.
		{domain.Routine, posted.Add(72 * time.Hour), nil, posted.Add(24 * time.Hour)},
		// A category with its own timings.
		{domain.Soon, posted.Add(10 * 24 * time.Hour), map[domain.Urgency]domain.EscalationTiming{domain.Soon: {Wait: 6 * time.Hour, Lead: time.Hour}}, posted.Add(6 * time.Hour)},
	} {
		r := domain.Request{Urgency: c.urgency, CreatedAt: posted, Start: c.start, End: c.start.Add(time.Hour)}
		if got := domain.EscalationDue(r, c.own); !got.Equal(c.want) {
			t.Errorf("%s starting %v: due %v, want %v", c.urgency, c.start, got, c.want)
		}
	}
	if got := domain.RespondBy(domain.Urgent, posted); !got.Equal(posted.Add(4 * time.Hour)) {
		t.Errorf("urgent respond-by %v", got)
	}
	if got := domain.RespondBy(domain.Routine, posted); !got.Equal(posted.Add(24 * time.Hour)) {
		t.Errorf("routine respond-by %v", got)
	}
}
