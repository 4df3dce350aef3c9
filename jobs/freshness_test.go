package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain"
)

type freshenerFunc func(ctx context.Context) (domain.FreshnessCounts, error)

func (f freshenerFunc) Run(ctx context.Context) (domain.FreshnessCounts, error) { return f(ctx) }

// TestFreshnessJob checks that the job's schedule parses, that a run that did something says
// what in the log, that a quiet run logs nothing, and that a failure reaches the scheduler.
func TestFreshnessJob(t *testing.T) {
	if err := ParseSchedule(FreshnessSchedule); err != nil {
		t.Fatalf("FreshnessSchedule %q: %v", FreshnessSchedule, err)
	}
	cases := []struct {
		name    string
		counts  domain.FreshnessCounts
		err     error
		wantLog string
	}{
		{"busy", domain.FreshnessCounts{Asked: 2, Paused: 1, ChecksDue: 3}, nil, "offers_asked=2 offers_paused=1 checks_due_told=3"},
		{"quiet", domain.FreshnessCounts{}, nil, ""},
		{"failed part way", domain.FreshnessCounts{Asked: 1}, errors.New("database gone"), "offers_asked=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log, out := testLogger()
			err := FreshnessJob(freshenerFunc(func(context.Context) (domain.FreshnessCounts, error) { return c.counts, c.err }), log)(context.Background())
			if !errors.Is(err, c.err) {
				t.Errorf("error %v, want %v", err, c.err)
			}
			if got := out.String(); (c.wantLog == "") != (got == "") || !strings.Contains(got, c.wantLog) {
				t.Errorf("log %q, want %q", got, c.wantLog)
			}
		})
	}
}
