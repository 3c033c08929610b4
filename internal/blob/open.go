package blob

import "path/filepath"

// Open builds the configured store. local is the same store when it is a directory on this
// machine (the gateway serves it under MediaPathPrefix), nil for Qiniu. The local directory
// is <dataDir>/blobs, so several processes share it only on one machine.
func Open(cfg Config, dataDir string) (store Store, local *Local, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	switch cfg.Backend {
	case BackendQiniu:
		q, err := NewQiniu(cfg.Qiniu)
		if err != nil {
			return nil, nil, err
		}
		return q, nil, nil
	default:
		l, err := NewLocal(filepath.Join(dataDir, "blobs"))
		if err != nil {
			return nil, nil, err
		}
		return l, l, nil
	}
}
