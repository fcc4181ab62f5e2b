package invoices

import (
	"context"
	"database/sql"
	"fmt"
)

func byCustomer(ctx context.Context, db *sql.DB, customer string) (*sql.Rows, error) {
	// ruleid: acme/go-sql-sprintf
	return db.QueryContext(ctx, fmt.Sprintf("SELECT id FROM invoices WHERE customer = '%s'", customer))
}

func byID(db *sql.DB, id string) *sql.Row {
	// ruleid: acme/go-sql-sprintf
	return db.QueryRow(fmt.Sprintf(
		"SELECT total FROM invoices WHERE id = %s", id,
	))
}

func safe(ctx context.Context, db *sql.DB, id string) *sql.Row {
	// ok: acme/go-sql-sprintf
	return db.QueryRowContext(ctx, "SELECT total FROM invoices WHERE id = $1", id)
}

func constantOnly(db *sql.DB) (sql.Result, error) {
	// ok: acme/go-sql-sprintf
	return db.Exec(fmt.Sprintf("VACUUM"))
}

// A comment mentioning db.Query(fmt.Sprintf("%s", x)) is not code.
func label(id string) string {
	// ok: acme/go-sql-sprintf
	return fmt.Sprintf("invoice %s", id)
}
