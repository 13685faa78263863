package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/musterhq/muster/internal/fault"
)

// Mux is where routes are registered (*http.ServeMux).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Routes mounts the JSON routes of one API on a mux: each wrapped by the
// same middleware (the API's authentication), logging to the same logger,
// reading bodies of at most the same limit.
type Routes struct {
	mux   Mux
	wrap  func(http.Handler) http.Handler
	log   *slog.Logger
	limit int64
}

// NewRoutes returns the routes of an API on mux. wrap may be nil (no
// middleware), log nil (discarded), and limit 0 or less for defaultLimit.
func NewRoutes(mux Mux, wrap func(http.Handler) http.Handler, log *slog.Logger, limit, defaultLimit int64) Routes {
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if limit <= 0 {
		limit = defaultLimit
	}
	return Routes{mux: mux, wrap: wrap, log: log, limit: limit}
}

// Wrapped returns the same routes behind another middleware.
func (rt Routes) Wrapped(wrap func(http.Handler) http.Handler) Routes {
	rt.wrap = wrap
	return rt
}

// Without mounts a route without a body that answers status with what call
// returns (see Answer).
func (rt Routes) Without(pattern string, status int, call func(*http.Request) (any, error)) {
	rt.mux.Handle(pattern, rt.wrap(Without(rt.log, status, call)))
}

// Handle mounts a route that reads a JSON body of type In (optional: may be
// empty) with the routes' limit and answers status with what call returns.
func Handle[In any](rt Routes, pattern string, status int, optional bool, call func(*http.Request, In) (any, error)) {
	rt.mux.Handle(pattern, rt.wrap(WithBody(Body{Limit: rt.limit, Optional: optional}, rt.log, status, call)))
}

// DefaultPageLimit is the page size of a list route called without ?limit=.
const DefaultPageLimit = 50

// PageQuery reads a list route's ?limit= (DefaultPageLimit when absent; the
// service checks its range) and ?nextToken=.
func PageQuery(r *http.Request) (limit int, token string, err error) {
	limit = DefaultPageLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			return 0, "", fault.BadField("limit", "must be 1 to 100")
		}
	}
	return limit, r.URL.Query().Get("nextToken"), nil
}

// Collection is the service side of an operator-managed collection: create
// from a C, list a page, read one, update one from a U, delete one.
type Collection[C, U, Created, One, Page any] struct {
	Create func(ctx context.Context, in C) (Created, error)
	List   func(ctx context.Context, limit int, token string) (Page, error)
	Get    func(ctx context.Context, id string) (One, error)
	Update func(ctx context.Context, id string, in U) (One, error)
	Delete func(ctx context.Context, id string) error
}

// Register mounts the collection's five routes at base: POST base (201),
// GET base (a page: ?limit=, ?nextToken=), and GET, PATCH and DELETE (204)
// base/{id}.
func (c Collection[C, U, Created, One, Page]) Register(rt Routes, base string) {
	one := base + "/{id}"
	Handle(rt, "POST "+base, http.StatusCreated, false, func(r *http.Request, in C) (any, error) {
		return c.Create(r.Context(), in)
	})
	rt.Without("GET "+base, http.StatusOK, func(r *http.Request) (any, error) {
		limit, token, err := PageQuery(r)
		if err != nil {
			return nil, err
		}
		return c.List(r.Context(), limit, token)
	})
	rt.Without("GET "+one, http.StatusOK, func(r *http.Request) (any, error) {
		return c.Get(r.Context(), r.PathValue("id"))
	})
	Handle(rt, "PATCH "+one, http.StatusOK, false, func(r *http.Request, in U) (any, error) {
		return c.Update(r.Context(), r.PathValue("id"), in)
	})
	rt.Without("DELETE "+one, http.StatusNoContent, func(r *http.Request) (any, error) {
		return nil, c.Delete(r.Context(), r.PathValue("id"))
	})
}
