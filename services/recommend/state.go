package recommend

import "context"

// State is where the recommender's events are kept, and it owns the in-process model that
// ranks. The memory state is the model alone (the embedded mode); the Redis state is the
// source of truth shared by every recommend instance, each following it into its own model.
type State interface {
	// Start fills the model: from the state, after rebuilding the state from source when it
	// is empty (source may be nil). It then keeps the model current until Close.
	Start(ctx context.Context, source Source) error
	// Model is the current model (the Redis state may replace it by a reloaded one).
	Model() *Model
	// Apply applies e to the state and to the model. An event applied twice, or one older
	// than what was applied, changes nothing.
	Apply(ctx context.Context, e Event) error
	// Close stops following the state.
	Close() error
}

// Source is the committed state the model is rebuilt from when it is empty.
type Source interface {
	// Load calls apply with an event for every ready video, current like, comment and follow.
	Load(ctx context.Context, apply func(Event) error) error
}
