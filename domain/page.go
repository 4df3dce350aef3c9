package domain

// Page limits for list endpoints and pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// PageQuery asks for one page of a list ordered by id: at most Limit items after the id After.
type PageQuery struct {
	Limit int
	After int64
}

// Normalised returns q with Limit inside [1, MaxPageSize] (DefaultPageSize when unset).
func (q PageQuery) Normalised() PageQuery {
	switch {
	case q.Limit <= 0:
		q.Limit = DefaultPageSize
	case q.Limit > MaxPageSize:
		q.Limit = MaxPageSize
	}
	if q.After < 0 {
		q.After = 0
	}
	return q
}

// Page is one page of a list and the cursor for the next one (0 when this is the last).
type Page[T any] struct {
	Items []T
	Next  int64
}

// PageOf cuts rows, fetched with Limit+1, into a page: the extra row only says that more exist.
func PageOf[T any](rows []T, q PageQuery, id func(T) int64) Page[T] {
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		return Page[T]{Items: rows, Next: id(rows[len(rows)-1])}
	}
	return Page[T]{Items: rows}
}
