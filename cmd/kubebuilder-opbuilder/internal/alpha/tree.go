package alpha

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// gitDir is the entry of a project that a re-scaffold keeps.
const gitDir = ".git"

// replaceTree makes dir hold what fresh holds, keeping dir's .git. It
// works by renames: dir's entries first move to a backup directory next to
// it, then fresh's move in; if any rename fails, the ones done are undone,
// so that dir is never left half replaced. fresh must be on dir's
// filesystem.
func replaceTree(dir, fresh string) error {
	backup, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+"-before-generate-")
	if err != nil {
		return fmt.Errorf("creating a backup directory: %w", err)
	}
	saved, err := moveEntries(dir, backup)
	if err != nil {
		return errors.Join(fmt.Errorf("moving the project's files aside: %w", err),
			undo(saved, backup, dir), os.Remove(backup))
	}
	placed, err := moveEntries(fresh, dir)
	if err != nil {
		return errors.Join(fmt.Errorf("moving the new scaffold in: %w", err),
			undo(placed, dir, fresh), undo(saved, backup, dir), os.Remove(backup))
	}
	if err := os.RemoveAll(backup); err != nil {
		return fmt.Errorf("removing the old files, now in %s: %w", backup, err)
	}
	return nil
}

// moveEntries renames every entry of from but .git into to, and returns
// the names it moved, also when it fails part way.
func moveEntries(from, to string) ([]string, error) {
	entries, err := os.ReadDir(from)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", from, err)
	}
	var moved []string
	for _, e := range entries {
		if e.Name() == gitDir {
			continue
		}
		if err := os.Rename(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			return moved, fmt.Errorf("moving %s: %w", e.Name(), err)
		}
		moved = append(moved, e.Name())
	}
	return moved, nil
}

// undo moves the entries names, which moveEntries moved to src, back to
// dst.
func undo(names []string, src, dst string) error {
	var errs []error
	for _, name := range names {
		if err := os.Rename(filepath.Join(src, name), filepath.Join(dst, name)); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s from %s: %w", name, src, err))
		}
	}
	return errors.Join(errs...)
}
