package ipvs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// stateVersion is written to the state file; a file with another version
// is refused rather than misread.
const stateVersion = 1

type stateFile struct {
	Version int      `json:"version"`
	Owned   []string `json:"owned"`
}

// loadState reads the services a previous run owned. A missing file is an
// empty set (first start).
func loadState(path string) ([]ServiceKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ipvs: reading state file: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("ipvs: state file %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("ipvs: state file %s has version %d, want %d", path, st.Version, stateVersion)
	}
	keys := make([]ServiceKey, 0, len(st.Owned))
	for _, s := range st.Owned {
		k, err := ParseServiceKey(s)
		if err != nil {
			return nil, fmt.Errorf("ipvs: state file %s: %w", path, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// saveState writes the owned set atomically (temporary file, fsync,
// rename), so a crash leaves the old or the new set, never half of one.
func saveState(path string, keys []ServiceKey) error {
	st := stateFile{Version: stateVersion, Owned: make([]string, len(keys))}
	for i, k := range keys {
		st.Owned[i] = k.String()
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("ipvs: encoding state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("ipvs: writing state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("ipvs: writing state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ipvs: writing state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ipvs: writing state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("ipvs: writing state file: %w", err)
	}
	return nil
}

func sortKeys(keys []ServiceKey) { slices.SortFunc(keys, compareKeys) }
