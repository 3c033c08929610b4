package recommend

import (
	"context"
	"fmt"
)

// MemoryState is the State of the embedded mode: the model itself, rebuilt from SQL at start.
type MemoryState struct {
	model *Model
}

var _ State = (*MemoryState)(nil)

// NewMemoryState returns the state held by m.
func NewMemoryState(m *Model) *MemoryState { return &MemoryState{model: m} }

// Start rebuilds the model from source when it is empty.
func (s *MemoryState) Start(ctx context.Context, source Source) error {
	if source == nil || !s.model.Empty() {
		return nil
	}
	err := source.Load(ctx, func(e Event) error { s.model.Apply(e); return nil })
	if err != nil {
		return fmt.Errorf("rebuild the recommender from SQL: %w", err)
	}
	return nil
}

// Model returns the model.
func (s *MemoryState) Model() *Model { return s.model }

// Apply applies e to the model.
func (s *MemoryState) Apply(_ context.Context, e Event) error {
	s.model.Apply(e)
	return nil
}

// Close does nothing: the model is garbage once the service is.
func (s *MemoryState) Close() error { return nil }
