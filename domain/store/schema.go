package store

import (
	"context"
	"fmt"
	"strings"
)

// Column describes one column of the schema in terms both dialects share.
type Column struct {
	Table    string
	Name     string
	Kind     string // integer, real, text, boolean, time
	Nullable bool
}

// The catalogue queries behind Schema: each dialect's own, rather than GORM's migrator, whose
// SQLite version re-parses CREATE TABLE text and is misled by comments inside it.
const (
	postgresColumnsSQL = `SELECT table_name, column_name, data_type, is_nullable = 'YES'
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'
		ORDER BY table_name, ordinal_position`
	sqliteColumnsSQL = `SELECT m.name, p.name, p.type, p."notnull" = 0 AND p.pk = 0
		FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'
		ORDER BY m.name, p.cid`
)

// Schema lists every column of every table (but goose's own), for comparing the dialects.
func (s *Store) Schema(ctx context.Context) ([]Column, error) {
	query := sqliteColumnsSQL
	if s.dialect == Postgres {
		query = postgresColumnsSQL
	}
	rows, err := s.conn(ctx).Raw(query).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the schema: %w", translate(err))
	}
	defer rows.Close()
	var out []Column
	for rows.Next() {
		var c Column
		var dbType string
		if err := rows.Scan(&c.Table, &c.Name, &dbType, &c.Nullable); err != nil {
			return nil, fmt.Errorf("store: unable to read the schema: %w", err)
		}
		c.Kind = kindOf(dbType)
		out = append(out, c)
	}
	return out, rows.Err()
}

// kindOf maps a dialect's type name to the kind both dialects share.
func kindOf(dbType string) string {
	t := strings.ToLower(dbType)
	switch {
	case strings.Contains(t, "int"):
		return "integer"
	case strings.Contains(t, "bool"):
		return "boolean"
	case strings.Contains(t, "real"), strings.Contains(t, "double"), strings.Contains(t, "float"), strings.Contains(t, "numeric"):
		return "real"
	case strings.Contains(t, "time"), strings.Contains(t, "date"):
		return "time"
	case strings.Contains(t, "text"), strings.Contains(t, "char"), strings.Contains(t, "json"):
		return "text"
	}
	return t
}
