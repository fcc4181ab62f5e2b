package orders

import (
	"context"
	"database/sql"
	"fmt"
)

func byCustomer(ctx context.Context, db *sql.DB, customer string) (*sql.Rows, error) {
	// ruleid: acme/go-sql-sprintf
	return db.QueryContext(ctx, fmt.Sprintf("SELECT id FROM orders WHERE customer = '%s'", customer))
}

func byID(db *sql.DB, id string) *sql.Row {
	// ok: acme/go-sql-sprintf
	return db.QueryRow("SELECT total FROM orders WHERE id = $1", id)
}
