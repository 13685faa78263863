package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

func beginPipeline(t *testing.T, pool *pgxpool.Pool) *pipeline {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) })
	return &pipeline{ctx: ctx, tx: tx}
}

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestHeldStatementsGoFirstInOneRoundTrip: what is held runs, in order,
// before the statement that carries it, and one round trip carries all.
func TestHeldStatementsGoFirstInOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	p := beginPipeline(t, newPool(t))
	if _, err := p.Exec(ctx, "CREATE TEMP TABLE t (v int)"); err != nil {
		t.Fatal(err)
	}
	p.hold("insert 1", "INSERT INTO t VALUES (1)")
	p.holdForAll("insert 2", "INSERT INTO t VALUES ($1)", 2)
	rows, err := p.Query(ctx, "SELECT v FROM t ORDER BY v")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || len(got) != 2 || got[0] != 1 || got[1] != 2 || p.rounds != 1 {
		t.Fatalf("rows %v, %v after %d round trips; want [1 2] after one", got, err, p.rounds)
	}
	p.hold("insert 3", "INSERT INTO t VALUES (3)")
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 3 || p.rounds != 2 {
		t.Fatalf("count %d, %v after %d round trips; want 3 after two", n, err, p.rounds)
	}
}

// TestAFailureHeldForTheTransactionBreaksIt: a held statement of the
// running function fails that function's call; one held for the whole
// transaction (the write lock, an earlier function's release) also marks
// the transaction lost, whatever the function does with the error.
func TestAFailureHeldForTheTransactionBreaksIt(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	var v int

	own := beginPipeline(t, pool)
	own.hold("the function's", "SELECT 1/0")
	if err := own.QueryRow(ctx, "SELECT 1").Scan(&v); err == nil || own.broken != nil {
		t.Fatalf("a function's own held statement failed: err %v, broken %v; want an error and a transaction not marked lost", err, own.broken)
	}

	all := beginPipeline(t, pool)
	all.holdForAll("the transaction's", "SELECT 1/0")
	err := all.QueryRow(ctx, "SELECT 1").Scan(&v)
	if err == nil || all.broken == nil {
		t.Fatalf("the transaction's held statement failed: err %v, broken %v; want both", err, all.broken)
	}
}
