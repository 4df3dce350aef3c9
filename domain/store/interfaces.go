package store

import "github.com/coop-exchange/coop/domain"

// The store implements every storage interface the domain declares.
var (
	_ domain.MemberStore    = (*Store)(nil)
	_ domain.SessionStore   = (*Store)(nil)
	_ domain.CatalogueStore = (*Store)(nil)
	_ domain.AuditStore     = (*Store)(nil)
	_ domain.RateLimitStore = (*Store)(nil)
	_ domain.Transactor     = (*Store)(nil)
	_ domain.ExchangeStore  = (*Store)(nil)
	_ domain.MatchStore     = (*Store)(nil)
	_ domain.ProposalStore  = (*Store)(nil)

	_ domain.PreferenceStore = (*Store)(nil)
	_ domain.DirectoryStore  = (*Store)(nil)
)
