package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Column describes one column of the schema in terms both dialects share.
type Column struct {
	Table    string
	Name     string
	Kind     string // integer, real, text, boolean, time
	Nullable bool
}

// Schema lists every column of every table (but goose's own), for comparing the dialects.
func (s *Store) Schema(ctx context.Context) ([]Column, error) {
	m := s.db.WithContext(ctx).Migrator()
	tables, err := m.GetTables()
	if err != nil {
		return nil, fmt.Errorf("store: unable to list tables: %w", translate(err))
	}
	sort.Strings(tables)
	var out []Column
	for _, table := range tables {
		if table == "goose_db_version" || strings.HasPrefix(table, "sqlite_") {
			continue
		}
		types, err := m.ColumnTypes(table)
		if err != nil {
			return nil, fmt.Errorf("store: unable to read columns of %s: %w", table, translate(err))
		}
		for _, ct := range types {
			nullable, _ := ct.Nullable()
			if pk, _ := ct.PrimaryKey(); pk {
				nullable = false // SQLite reports an INTEGER PRIMARY KEY as nullable; it is not
			}
			out = append(out, Column{Table: table, Name: ct.Name(), Kind: kindOf(ct.DatabaseTypeName()), Nullable: nullable})
		}
	}
	return out, nil
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
