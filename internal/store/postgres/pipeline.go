package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeline is the writer's transaction with some statements held back.
// The writer is bound by round trips to the server, so a statement whose
// only result is success or failure — taking the write lock, opening and
// releasing a savepoint, appending an event — waits in held and goes out
// in the same round trip as the next statement that returns something
// (one pipelined batch), or with flush. Held statements keep their order,
// and a failure among them is the error of the call that sent them.
//
// Every round trip runs under the transaction's context, never under the
// context of the function that makes the call: a function's statements
// ride with the transaction's (the write lock, an earlier function's
// release), so one caller's cancellation or deadline would otherwise end
// the transaction of every function in its batch. A function's context is
// looked at once, before it runs (runOne); once running, it finishes.
type pipeline struct {
	ctx  context.Context
	tx   pgx.Tx
	held []heldStatement
	// rounds counts the round trips that sent held statements, so a
	// caller can tell whether one it held has gone out.
	rounds int
	// broken is the failure of a statement held for the transaction
	// rather than for the function that sent it (holdForAll): whatever
	// that function makes of the error, the transaction is lost.
	broken error
}

type heldStatement struct {
	what string // names the statement in an error
	sql  string
	args []any
	// forAll marks a statement of the transaction's, not of the function
	// whose statement carries it.
	forAll bool
	// missed, when set, is the error of a statement that fails with
	// division_by_zero when it changes no row (a held Put whose version
	// check failed: see writer.PutHeld).
	missed error
}

// hold queues a statement of the running function for the next round trip.
func (p *pipeline) hold(what, sql string, args ...any) {
	p.held = append(p.held, heldStatement{what: what, sql: sql, args: args})
}

// divisionByZero is PostgreSQL's SQLSTATE for division_by_zero.
const divisionByZero = "22012"

// holdOneRow queues a statement of the running function that fails with
// division_by_zero unless it changes a row; missed is its error then.
func (p *pipeline) holdOneRow(what string, missed error, sql string, args ...any) {
	p.held = append(p.held, heldStatement{what: what, sql: sql, args: args, missed: missed})
}

// holdForAll queues a statement of the transaction's (the write lock, an
// earlier function's release), whose failure no function can answer for.
func (p *pipeline) holdForAll(what, sql string, args ...any) {
	p.held = append(p.held, heldStatement{what: what, sql: sql, args: args, forAll: true})
}

// send sends what is held followed by sql, checks the held statements'
// results, and returns the batch positioned at sql's result; the caller
// reads that result and closes the batch.
func (p *pipeline) send(sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	for _, h := range p.held {
		b.Queue(h.sql, h.args...)
	}
	b.Queue(sql, args...)
	held := p.held
	p.held = p.held[:0]
	p.rounds++
	br := p.tx.SendBatch(p.ctx, b)
	for _, h := range held {
		_, err := br.Exec()
		if err = h.result(err); err != nil {
			br.Close()
			if h.forAll {
				p.broken = err
			}
			return nil, err
		}
	}
	return br, nil
}

// result is the error of a held statement from what it returned.
func (h heldStatement) result(err error) error {
	var pgErr *pgconn.PgError
	if h.missed != nil && errors.As(err, &pgErr) && pgErr.Code == divisionByZero {
		return h.missed
	}
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", h.what, err)
	}
	return nil
}

// Exec runs sql after what is held, in one round trip.
func (p *pipeline) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if len(p.held) == 0 {
		return p.tx.Exec(p.ctx, sql, args...)
	}
	br, err := p.send(sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	return tag, err
}

// QueryRow runs sql after what is held, in one round trip.
func (p *pipeline) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	if len(p.held) == 0 {
		return p.tx.QueryRow(p.ctx, sql, args...)
	}
	br, err := p.send(sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// Query runs sql after what is held, in one round trip. The rows belong to
// the batch, which closes with them.
func (p *pipeline) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	if len(p.held) == 0 {
		return p.tx.Query(p.ctx, sql, args...)
	}
	br, err := p.send(sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// flush sends what is held, alone.
func (p *pipeline) flush() error {
	if len(p.held) == 0 {
		return nil
	}
	last := p.held[len(p.held)-1]
	p.held = p.held[:len(p.held)-1]
	br, err := p.send(last.sql, last.args)
	if err != nil {
		return err
	}
	_, err = br.Exec()
	err = last.result(err)
	if closeErr := br.Close(); err == nil && closeErr != nil {
		err = fmt.Errorf("postgres: %s: %w", last.what, closeErr)
	}
	return err
}

// forget drops what was held after the first n statements, unsent.
func (p *pipeline) forget(n int) { p.held = p.held[:n] }

// batchRow is a row of a batch: scanning it closes the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if closeErr := r.br.Close(); err == nil {
		err = closeErr
	}
	return err
}

// batchRows are the rows of a batch: closing them closes the batch, whose
// error, if the rows had none, is theirs.
type batchRows struct {
	pgx.Rows
	br       pgx.BatchResults
	closed   bool
	closeErr error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.closeErr = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// errRow is a row that could not be read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
