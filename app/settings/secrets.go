package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// confinePasswordFile checks password_file p of an instance made on /settings against
// secretsDir (server.secrets_dir). It returns the path to store (cleaned; a relative p is
// taken inside secretsDir) or a reason for the form. p must lie inside secretsDir both as
// written and once symbolic links are resolved (in both p and secretsDir), so that an admin
// cannot have redwatch send an arbitrary file of this host to a Redis of their choosing as
// its password. An empty secretsDir allows no password_file at all; an empty p is fine.
// The file is not read here beyond resolving its path.
func confinePasswordFile(secretsDir, p string) (clean, problem string) {
	if p == "" {
		return "", ""
	}
	if secretsDir == "" {
		return "", "not allowed for instances made here (server.secrets_dir is not set); enter the password, or set server.secrets_dir to a directory of password files"
	}
	dir, err := filepath.Abs(secretsDir)
	if err != nil {
		return "", fmt.Sprintf("cannot resolve server.secrets_dir %q: %s", secretsDir, err)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	p = filepath.Clean(p)
	outside := fmt.Sprintf("must be a file inside server.secrets_dir (%s)", dir)
	if !inside(dir, p) {
		return "", outside
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Sprintf("cannot resolve server.secrets_dir %q: %s", dir, pathReason(err))
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Sprintf("cannot read %q: %s", p, pathReason(err))
	}
	if !inside(realDir, real) {
		return "", outside + "; it is a symbolic link to a file outside"
	}
	return p, ""
}

// inside reports whether path is strictly below dir (both clean and absolute).
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// pathReason is err without the path an *fs.PathError repeats.
func pathReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
