// Package store reads orders.
package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ByCustomer lists a customer's orders.
func ByCustomer(ctx context.Context, db *sql.DB, customer string) (*sql.Rows, error) {
	return db.QueryContext(ctx, fmt.Sprintf("SELECT id FROM orders WHERE customer = '%s'", customer))
}
