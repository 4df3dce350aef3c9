package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coop-exchange/coop/domain/openreferral"
)

// ImportOutcome is what an import did with one record.
type ImportOutcome string

// The outcomes of a record.
const (
	Imported  ImportOutcome = "imported"  // a new service
	Updated   ImportOutcome = "updated"   // the directory's fields of a known service changed
	Unchanged ImportOutcome = "unchanged" // nothing to change
	Skipped   ImportOutcome = "skipped"   // not imported; Reason says why
)

// ImportItem is one record of an import and what became of it.
type ImportItem struct {
	Index     int // 1-based position in the file or feed
	SourceID  string
	Name      string
	Outcome   ImportOutcome
	Reason    string // why it was skipped, or a note (areas not matched)
	ServiceID int64  // 0 when skipped and unknown
	// UnmatchedAreas are the directory's service areas that match none of the co-op's.
	UnmatchedAreas []string
}

// ImportReport says what an import did, record by record.
type ImportReport struct {
	Source    string // the file name or the feed's address
	Feed      bool
	At        time.Time
	Items     []ImportItem
	Imported  int
	Updated   int
	Unchanged int
	Skipped   int
}

// Summary is one line for the report: "40 records: 40 imported, 0 updated, 0 unchanged, 0 skipped."
func (r ImportReport) Summary() string {
	return fmt.Sprintf("%d %s: %d imported, %d updated, %d unchanged, %d skipped.", len(r.Items), plural(len(r.Items), "record", "records"),
		r.Imported, r.Updated, r.Unchanged, r.Skipped)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ServiceImport is the log entry of one import.
type ServiceImport struct {
	ID        int64
	Source    string
	Format    string
	Feed      bool
	FetchedAt time.Time // for a feed, the next import asks for what changed since
	Imported  int
	Updated   int
	Unchanged int
	Skipped   int
	ActorName string
}

// maxImportRecords bounds one import, so that a runaway file cannot hold a transaction for ever.
const maxImportRecords = 50000

// ImportFile imports an Open Referral file (HSDS 3.x, ORUK 3.0 or ORUK v1: one service, a list,
// or a page object). A file that is not one is refused with a ValidationError on "file" naming
// its first problems, and nothing is imported; otherwise every record is imported, updated, left
// unchanged or skipped with its reason, all in one transaction. Coordinators only.
func (d *Directory) ImportFile(ctx context.Context, by Actor, name string, data []byte) (ImportReport, error) {
	if err := requireCoordinator(by); err != nil {
		return ImportReport{}, err
	}
	batch, err := d.reader.Parse(data)
	if err != nil {
		return ImportReport{}, importRefused("file", name, err)
	}
	return d.apply(ctx, by, name, false, d.clock.now(), batch.Records)
}

// ImportFeed imports every service of an HSDS API (its /services?full=true, page by page); after
// the first import of a feed, only those changed since the last (modified_after). Nothing is
// imported unless every page was read. Coordinators only.
func (d *Directory) ImportFeed(ctx context.Context, by Actor, feedURL string) (ImportReport, error) {
	if err := requireCoordinator(by); err != nil {
		return ImportReport{}, err
	}
	u, err := openreferral.ServicesURL(feedURL)
	if err != nil {
		return ImportReport{}, importRefused("feed_url", feedURL, err)
	}
	source := u.String()
	var since time.Time
	switch last, err := d.store.LastServiceImport(ctx, source); {
	case err == nil:
		since = last.FetchedAt
	case !errors.Is(err, ErrNotFound):
		return ImportReport{}, fmt.Errorf("import feed: %w", err)
	}
	fetchedAt := d.clock.now()
	records, err := d.reader.Fetch(ctx, d.client, u, since)
	if err != nil {
		return ImportReport{}, importRefused("feed_url", source, err)
	}
	return d.apply(ctx, by, source, true, fetchedAt, records)
}

// importRefused turns a document's or a feed's problem into a message on the field.
func importRefused(field, source string, err error) error {
	var fe *openreferral.FormatError
	var feedErr *openreferral.FeedError
	switch {
	case errors.As(err, &fe):
		what := "This file"
		if field == "feed_url" {
			what = "This feed"
		} else if source != "" {
			what = source
		}
		return Invalid(field, "%s is not an Open Referral (HSDS or ORUK) list of services, so nothing was imported: %s", what, strings.Join(fe.Problems, "; "))
	case errors.As(err, &feedErr):
		return Invalid(field, "Nothing was imported: %s", feedErr.Message)
	}
	return err
}

// apply writes the records in one transaction and logs the import.
func (d *Directory) apply(ctx context.Context, by Actor, source string, feed bool, at time.Time, records []openreferral.Record) (ImportReport, error) {
	if len(records) > maxImportRecords {
		return ImportReport{}, Invalid("file", "There are %d services; import at most %d at a time", len(records), maxImportRecords)
	}
	report := ImportReport{Source: source, Feed: feed, At: at, Items: make([]ImportItem, 0, len(records))}
	formats := map[openreferral.Format]bool{}
	err := d.tx.Transact(ctx, func(ctx context.Context) error {
		areas, err := d.areas.Areas(ctx)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(records))
		for _, r := range records {
			if r.ID != "" {
				ids = append(ids, r.ID)
			}
		}
		known, err := d.store.ServicesBySourceID(ctx, ids)
		if err != nil {
			return err
		}
		seen := map[string]int{}
		for _, rec := range records {
			item, err := d.applyRecord(ctx, by, at, rec, known, seen, areas)
			if err != nil {
				return err
			}
			formats[rec.Format] = true
			switch item.Outcome {
			case Imported:
				report.Imported++
			case Updated:
				report.Updated++
			case Unchanged:
				report.Unchanged++
			case Skipped:
				report.Skipped++
			}
			report.Items = append(report.Items, item)
		}
		var names []string
		for _, f := range []openreferral.Format{openreferral.HSDS3, openreferral.ORUK1} {
			if formats[f] {
				names = append(names, string(f))
			}
		}
		imp := ServiceImport{Source: clip(source, 2000), Format: strings.Join(names, "+"), Feed: feed, FetchedAt: at,
			Imported: report.Imported, Updated: report.Updated, Unchanged: report.Unchanged, Skipped: report.Skipped, ActorName: by.Name}
		if err := d.store.RecordServiceImport(ctx, &imp); err != nil {
			return err
		}
		return d.audit.Record(ctx, by, AuditServicesImported, "service_import", imp.ID, map[string]string{
			"source": imp.Source, "format": imp.Format, "imported": strconv.Itoa(imp.Imported), "updated": strconv.Itoa(imp.Updated),
			"unchanged": strconv.Itoa(imp.Unchanged), "skipped": strconv.Itoa(imp.Skipped)})
	})
	if err != nil {
		return ImportReport{}, fmt.Errorf("import services from %s: %w", source, err)
	}
	return report, nil
}

func (d *Directory) applyRecord(ctx context.Context, by Actor, at time.Time, rec openreferral.Record, known map[string]Service,
	seen map[string]int, areas []Area) (ImportItem, error) {
	item := ImportItem{Index: rec.Index, SourceID: rec.ID, Name: rec.Label()}
	existing, isKnown := known[rec.ID]
	if isKnown {
		item.ServiceID = existing.ID
	}
	if first, dup := seen[rec.ID]; dup && rec.ID != "" {
		item.Outcome, item.Reason = Skipped, fmt.Sprintf("the same id is given earlier, in record %d", first)
		return item, nil
	}
	if rec.ID != "" {
		seen[rec.ID] = rec.Index
	}
	if !rec.Usable() {
		item.Outcome, item.Reason = Skipped, sentence(rec.Problems)
		if isKnown {
			item.Reason += " The co-op's copy is left as it is."
		}
		return item, nil
	}
	if utf8.RuneCountInString(rec.Name) > maxServiceNameLen {
		item.Outcome, item.Reason = Skipped, fmt.Sprintf("Its name is longer than %d characters.", maxServiceNameLen)
		return item, nil
	}
	source := SourceHSDS
	if rec.Format == openreferral.ORUK1 {
		source = SourceORUK1
	}
	terms := rec.TaxonomyTerms
	if terms == nil {
		terms = []string{}
	}
	dir := Service{Source: source, SourceID: rec.ID, Organisation: clip(rec.Organisation, maxServiceNameLen), Name: rec.Name,
		Description: clip(rec.Description, maxServiceTextLen), DirectoryTerms: terms, MinAge: rec.MinAge, MaxAge: rec.MaxAge,
		EligibilityDescription: clip(rec.Eligibility, maxServiceTextLen), DirectoryEmail: clip(rec.Email, maxEmailLen),
		LastModified: rec.LastModified}
	matched, unmatched := matchAreas(rec.Areas, areas)
	item.UnmatchedAreas = unmatched
	if len(unmatched) > 0 {
		item.Reason = "Service areas that match none of the co-op's: " + strings.Join(quoted(unmatched), ", ") + "."
	}

	if !isKnown {
		secret, err := NewSecret(webhookSecretPrefix, webhookSecretEntropy)
		if err != nil {
			return item, err
		}
		s := dir
		s.TaxonomyTerms, s.AreaIDs, s.Active, s.CreatedAt, s.UpdatedAt = slices.Clone(terms), matched, true, at, at
		if err := d.store.CreateService(ctx, &s, secret); err != nil {
			return item, err
		}
		known[rec.ID] = s
		item.ServiceID, item.Outcome = s.ID, Imported
		return item, d.audit.Record(ctx, by, AuditServiceChanged, "service", s.ID, serviceDetail("imported", s))
	}
	if sameDirectoryFields(existing, dir) {
		item.Outcome = Unchanged
		return item, nil
	}
	s := existing
	// Terms a coordinator added survive: only the directory's own old terms are replaced.
	s.TaxonomyTerms = mergeTerms(existing.TaxonomyTerms, existing.DirectoryTerms, terms)
	s.Source, s.Organisation, s.Name, s.Description, s.DirectoryTerms = dir.Source, dir.Organisation, dir.Name, dir.Description, dir.DirectoryTerms
	s.MinAge, s.MaxAge, s.EligibilityDescription, s.DirectoryEmail, s.LastModified = dir.MinAge, dir.MaxAge, dir.EligibilityDescription, dir.DirectoryEmail, dir.LastModified
	s.UpdatedAt = at
	if err := d.store.UpdateService(ctx, s); err != nil {
		return item, err
	}
	known[rec.ID] = s
	item.Outcome = Updated
	return item, d.audit.Record(ctx, by, AuditServiceChanged, "service", s.ID, serviceDetail("re-imported", s))
}

// sameDirectoryFields reports whether a re-import would change nothing the directory owns.
func sameDirectoryFields(a, b Service) bool {
	return a.Source == b.Source && a.Organisation == b.Organisation && a.Name == b.Name && a.Description == b.Description &&
		slices.Equal(a.DirectoryTerms, b.DirectoryTerms) && sameAge(a.MinAge, b.MinAge) && sameAge(a.MaxAge, b.MaxAge) &&
		a.EligibilityDescription == b.EligibilityDescription && a.DirectoryEmail == b.DirectoryEmail && a.LastModified.Equal(b.LastModified)
}

func sameAge(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// mergeTerms replaces the directory's old terms in current by its new ones, keeping the rest.
func mergeTerms(current, oldDir, newDir []string) []string {
	old := map[string]bool{}
	for _, t := range oldDir {
		old[TermKey(t)] = true
	}
	out := []string{}
	for _, t := range current {
		if !old[TermKey(t)] {
			out = append(out, t)
		}
	}
	return normaliseTerms(append(out, newDir...))
}

// matchAreas finds the co-op's areas a directory's service areas name (by the area's name or
// code, any case), and the service areas that match none.
func matchAreas(names []string, areas []Area) (matched []int64, unmatched []string) {
	matched = []int64{}
	for _, n := range names {
		key := strings.ToLower(strings.Join(strings.Fields(n), " "))
		found := false
		for _, a := range areas {
			if key == strings.ToLower(a.Name) || key == strings.ToLower(a.Code) || key == strings.ToLower(a.Label()) {
				if !slices.Contains(matched, a.ID) {
					matched = append(matched, a.ID)
				}
				found = true
			}
		}
		if !found {
			unmatched = append(unmatched, clip(n, 80))
		}
	}
	slices.Sort(matched)
	return matched, unmatched
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// sentence joins problems into one sentence starting with a capital: "It has no name; ...".
func sentence(problems []string) string {
	s := strings.Join(problems, "; ")
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:] + "."
}

// clip shortens s to at most n characters, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
