package inventory

import "testing"

func TestAddThenRemove(t *testing.T) {
	s := NewStock()
	s.Add("bolt", 3)
	if err := s.Remove("bolt", 2); err != nil {
		t.Fatal(err)
	}
	if got := s.Count("bolt"); got != 1 {
		t.Fatalf("count = %d, want 1", got)
	}
}

func TestRemovingTooMuchFails(t *testing.T) {
	s := NewStock()
	if err := s.Remove("nut", 1); err != ErrInsufficient {
		t.Fatalf("err = %v, want ErrInsufficient", err)
	}
}
