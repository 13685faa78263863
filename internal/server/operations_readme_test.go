package server_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/testenv"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite README.md's list of supported GameLift operations")

const (
	opsBegin = "<!-- operations:begin (generated: go test ./internal/server -run TestReadmeListsEveryOperation -update-readme) -->"
	opsEnd   = "<!-- operations:end -->"
)

// operationGroups reads the operation table as this package registers it
// (each controlapi.Register(d.table, "Name", …) call), grouped by the file
// that wires the capability.
func operationGroups(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string][]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			fn := call.Fun
			if ix, ok := fn.(*ast.IndexListExpr); ok {
				fn = ix.X
			}
			sel, ok := fn.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Register" || fmt.Sprint(sel.X) != "controlapi" {
				return true
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok {
				t.Errorf("%s: an operation registered without a literal name", fset.Position(call.Pos()))
				return true
			}
			op, _ := strconv.Unquote(lit.Value)
			group := strings.TrimSuffix(name, ".go")
			if group == "server" {
				group = "locations and tags"
			}
			groups[group] = append(groups[group], op)
			return true
		})
	}
	return groups
}

// renderOperations is the README's list.
func renderOperations(groups map[string][]string) (string, int) {
	var b strings.Builder
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	slices.Sort(names)
	n := 0
	for _, g := range names {
		ops := slices.Clone(groups[g])
		slices.Sort(ops)
		n += len(ops)
		fmt.Fprintf(&b, "- **%s** (%d): %s\n", g, len(ops), "`"+strings.Join(ops, "`, `")+"`")
	}
	return fmt.Sprintf("%s\n%d GameLift operations, in both wire protocols:\n\n%s%s", opsBegin, n, b.String(), opsEnd), n
}

// TestReadmeListsEveryOperation keeps README.md's list of supported
// GameLift operations the operation table (-update-readme rewrites it),
// and checks that a running server knows every listed operation.
func TestReadmeListsEveryOperation(t *testing.T) {
	groups := operationGroups(t)
	want, n := renderOperations(groups)
	path := filepath.Join(testenv.ModuleRoot(), "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(readme, []byte(opsBegin)), bytes.Index(readme, []byte(opsEnd))
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q section", opsBegin, opsEnd)
	}
	if got := string(readme[i : j+len(opsEnd)]); got != want {
		if !*updateReadme {
			t.Fatalf("README.md's list of operations is not the operation table: run go test ./internal/server -run TestReadmeListsEveryOperation -update-readme\nwant:\n%s", want)
		}
		out := append(append(append([]byte{}, readme[:i]...), want...), readme[j+len(opsEnd):]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n < 50 {
		t.Fatalf("only %d operations found in the table's registrations", n)
	}

	// Every listed operation is in the running server's table: an unknown
	// one would answer UnknownOperationException.
	_, url := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, ops := range groups {
		for _, op := range ops {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "GameLift."+op)
			req.Header.Set("Authorization", adminBearer)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			_, _ = body.ReadFrom(res.Body)
			res.Body.Close()
			if strings.Contains(body.String(), "UnknownOperation") {
				t.Errorf("%s is listed but the server does not know it: %s", op, body.String())
			}
		}
	}
}
