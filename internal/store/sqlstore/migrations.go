package sqlstore

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema change a backend embeds: a file whose name
// starts with its version and an underscore ("0003_partial_indexes.sql").
type Migration struct {
	Version int
	Name    string // the file name
	Body    string // the SQL
}

// Migrations reads the .sql files of dir in fsys, in name order, which is
// version order: the names are zero-padded.
func (d Dialect) Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		version, convErr := strconv.Atoi(num)
		if !ok || convErr != nil {
			return nil, fmt.Errorf("%s: migration %s: name must start with a number and _", d.Name, base)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("%s: migration %s: %w", d.Name, base, err)
		}
		out = append(out, Migration{Version: version, Name: base, Body: string(body)})
	}
	return out, nil
}
