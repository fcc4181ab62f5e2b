// Package inventory keeps stock levels per item.
package inventory

import (
	"errors"
	"sync"
)

// ErrInsufficient is returned when a removal exceeds the stock.
var ErrInsufficient = errors.New("insufficient stock")

// Stock holds quantities by item code.
type Stock struct {
	mu    sync.Mutex
	items map[string]int
}

// NewStock returns an empty stock.
func NewStock() *Stock {
	return &Stock{items: map[string]int{}}
}

// Add puts n units of code into stock.
func (s *Stock) Add(code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[code] += n
}

// Remove takes n units of code out of stock.
func (s *Stock) Remove(code string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items[code] < n {
		return ErrInsufficient
	}
	s.items[code] -= n
	return nil
}

// Count returns the units of code in stock.
func (s *Stock) Count(code string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[code]
}
