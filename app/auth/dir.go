package auth

import (
	"fmt"
	"os"
	"path/filepath"
)

// authDir returns <dataDir>/auth, creating it with mode 0700 if needed.
func authDir(dataDir string) (string, error) {
	if dataDir == "" {
		return "", fmt.Errorf("data directory must not be empty")
	}
	dir := filepath.Join(dataDir, "auth")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", dir, err)
	}
	return dir, nil
}
