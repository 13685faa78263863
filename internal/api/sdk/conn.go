package sdk

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/session"
)

// maxMessage bounds one SDK message (the SDK's own are small; backfill
// requests with 199 players stay far below).
const maxMessage = 1 << 20

// rememberedRequests is how many answered state-changing requests each
// process remembers for re-sent RequestIds (the C++ SDK re-sends a request
// unanswered for 20 s; 64 answers of ~200 bytes keep a process's memory
// small).
//
// These answers live in memory. A re-send that reaches a restarted control
// plane is applied again, and every state-changing action is idempotent
// for that case by itself: activating an ACTIVE game session, ending an
// ended process and setting a creation policy change nothing; a player
// session keeps the RequestId that accepted or removed it and answers that
// call again with success; a backfill ticket's id is derived from the
// RequestId when the SDK gives none; stopping a stopped ticket is refused
// only if it was not this process's.
const rememberedRequests = 64

// activationHold bounds how long pushes wait, after the answer to
// ActivateServerProcess, for the process's first health check (real time:
// it is the peer's pace, see activate).
const activationHold = 2 * time.Second

// pushTimeout bounds the write of one push to a socket.
const pushTimeout = 10 * time.Second

// proc is the in-memory side of one server process: its current socket
// and the answers it may be asked for again.
type proc struct {
	id          string
	fleetID     string
	computeName string

	mu   sync.Mutex
	conn *websocket.Conn // the newest socket; nil while disconnected
	// pending are pushes that found no socket, sent on the next one, or
	// that came while the process was activating (holding; see activate).
	pending [][]byte
	holding bool
	answers map[string]*answer
	order   []string
	// ended is set when the process ended: its entry goes when its socket does.
	ended bool
	// createdFor is the game session whose CreateGameSession this replica
	// sent (or keeps for the next socket); terminating says it sent
	// TerminateProcess. A catch-up from the store (replicas.go) sends
	// neither twice.
	createdFor  string
	terminating bool
	// sendingUpdates serializes the senders of its pending updates (the
	// socket's catch-up, a wake, the periodic round), so no two send the
	// same one before either deletes it.
	sendingUpdates sync.Mutex
	// unconfirmed are the pending updates (store ids) written to socket
	// unconfirmedOn, kept until the next socket (updates.go): those whose
	// ping has not come back yet stay in the store, and none is written to
	// that socket twice.
	unconfirmedOn *websocket.Conn
	unconfirmed   map[string]bool
	// activations counts ActivateServerProcess requests (for tests: a
	// reconnect must not bring a second one).
	activations atomic.Int64
	// connections counts sockets attached (for tests of reconnects).
	connections atomic.Int64
}

// socket is the process's newest socket, nil while it is disconnected.
func (pr *proc) socket() *websocket.Conn {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.conn
}

// answer is the response to a state-changing request, kept for re-sends.
type answer struct {
	body [32]byte // SHA-256 of the request frame
	done chan struct{}
	resp []byte
}

func httpStatus(err error) int {
	switch fault.KindOf(err) {
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Internal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// serveHTTP authenticates an upgrade and runs the socket.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token, fleetID, computeName, pid := q.Get("Authorization"), q.Get("FleetId"), q.Get("ComputeId"), q.Get("pID")
	switch {
	case token == "SigV4":
		http.Error(w, "Muster authenticates server processes with compute auth tokens (GetComputeAuthToken), not SigV4", http.StatusUnauthorized)
		return
	case token == "" || fleetID == "" || computeName == "" || pid == "":
		http.Error(w, "the query must carry Authorization, FleetId, ComputeId and pID", http.StatusUnauthorized)
		return
	}
	p, _, err := s.cfg.Fleets.AttachProcess(r.Context(), token, fleetID, computeName, pid)
	if err != nil {
		status := httpStatus(err)
		if status == http.StatusInternalServerError {
			s.cfg.Logger.Error("sdk attach", "err", err, "pID", pid)
			http.Error(w, "internal error", status)
			return
		}
		s.cfg.Logger.Info("sdk connection refused", "pID", pid, "fleet", fleetID, "compute", computeName, "reason", err)
		http.Error(w, err.Error(), status)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	c.SetReadLimit(maxMessage)
	pr := s.proc(p)
	reconnect := pr.connections.Add(1) > 1
	pr.mu.Lock()
	pr.conn = c
	pending := pr.pending
	pr.pending = nil
	if reconnect && len(pending) == 0 {
		// A push written to the socket this one replaces may have died
		// with it: the SDK reads an old socket on for a few seconds after
		// opening a new one, but not one that dropped. So the catch-up
		// below sends again what the store says still applies — the game
		// session while it is ACTIVATING, TerminateProcess while the
		// process lives — once on this socket.
		pr.createdFor, pr.terminating = "", false
	}
	pr.mu.Unlock()
	s.cfg.Logger.Debug("sdk connected", "pID", pid, "sdkLanguage", q.Get("sdkLanguage"), "sdkVersion", q.Get("sdkVersion"))
	ctx := auth.With(r.Context(), auth.Principal{Kind: auth.Process, FleetID: p.FleetID, ComputeName: p.ComputeName, ProcessID: p.ID})
	for i, msg := range pending {
		if c.Write(ctx, websocket.MessageText, msg) != nil {
			// This socket died too: the rest wait for the next one.
			pr.mu.Lock()
			pr.pending = append(pending[i:len(pending):len(pending)], pr.pending...)
			pr.mu.Unlock()
			break
		}
	}
	// What a socket that died (here or on another replica) or a lost wake
	// did not deliver comes from the store. A process that has not called
	// ProcessReady yet has nothing to catch up: it gets no game session,
	// update or TerminateProcess before it is ready, and whatever comes
	// after that reaches this socket by its wake.
	if p.Status != fleet.ProcessPending {
		go func() {
			s.catchUp(ctx, pr)
			s.deliverUpdates(ctx, pr)
		}()
	}
	var wg sync.WaitGroup
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			break
		}
		if typ != websocket.MessageText {
			continue
		}
		wg.Go(func() { s.handle(ctx, pr, c, data) })
	}
	wg.Wait()
	pr.mu.Lock()
	if pr.conn == c {
		pr.conn = nil
	}
	gone := pr.ended && pr.conn == nil
	pr.mu.Unlock()
	c.CloseNow()
	if gone {
		s.forget(pr)
	}
}

// stateChanging are the actions answered once per RequestId.
var stateChanging = map[string]bool{
	ActionActivateGameSession: true, ActionAcceptPlayerSession: true, ActionRemovePlayerSession: true,
	ActionUpdatePlayerSessionCreationPolicy: true, ActionTerminateServerProcess: true,
	ActionStartMatchBackfill: true, ActionStopMatchBackfill: true,
}

func (s *Server) handle(ctx context.Context, pr *proc, c *websocket.Conn, data []byte) {
	req, err := DecodeRequest(data)
	if err != nil {
		if req.RequestId == "" {
			s.cfg.Logger.Warn("sdk message without a RequestId dropped", "pID", pr.id, "err", err)
			return
		}
		c.Write(ctx, websocket.MessageText, errorResponse(req, http.StatusBadRequest, err.Error()))
		return
	}
	if req.Action == ActionActivateServerProcess {
		s.activate(ctx, pr, c, req)
		return
	}
	if !stateChanging[req.Action] {
		c.Write(ctx, websocket.MessageText, s.dispatch(ctx, pr, req))
		if req.Action == ActionHeartbeatServerProcess {
			releaseHeld(pr)
		}
		return
	}
	sum := sha256.Sum256(data)
	pr.mu.Lock()
	a := pr.answers[req.RequestId]
	if a != nil && a.body == sum {
		pr.mu.Unlock()
		<-a.done
		c.Write(ctx, websocket.MessageText, a.resp)
		return
	}
	a = &answer{body: sum, done: make(chan struct{})}
	if _, seen := pr.answers[req.RequestId]; !seen {
		pr.order = append(pr.order, req.RequestId)
		if len(pr.order) > rememberedRequests {
			delete(pr.answers, pr.order[0])
			pr.order = pr.order[1:]
		}
	}
	pr.answers[req.RequestId] = a
	pr.mu.Unlock()
	a.resp = s.dispatch(ctx, pr, req)
	close(a.done)
	c.Write(ctx, websocket.MessageText, a.resp)
}

// activate answers ActivateServerProcess. ProcessReady makes the process
// placeable as it commits, before its answer is written, and the SDK
// ignores a game session that arrives before it knows itself active —
// which it learns only after it has read the answer, on another goroutine.
// So pushes to the process are held from before ProcessReady until its
// first health check (sent once the SDK is active) or, for an SDK that
// sends none at once, activationHold after the answer; then sent in order.
func (s *Server) activate(ctx context.Context, pr *proc, c *websocket.Conn, req Request) {
	pr.mu.Lock()
	pr.holding = true
	pr.mu.Unlock()
	resp := s.dispatch(ctx, pr, req)
	if hook := s.beforeActivationAnswer.Load(); hook != nil {
		(*hook)()
	}
	c.Write(ctx, websocket.MessageText, resp)
	time.AfterFunc(activationHold, func() { releaseHeld(pr) })
}

// releaseHeld sends the pushes held while the process was activating.
func releaseHeld(pr *proc) {
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	for {
		pr.mu.Lock()
		held, conn := pr.pending, pr.conn
		if !pr.holding || len(held) == 0 || conn == nil {
			pr.holding = false
			pr.mu.Unlock()
			return
		}
		pr.pending = nil
		pr.mu.Unlock()
		for i, msg := range held {
			if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
				// Kept for the next socket, as a push that finds none is.
				pr.mu.Lock()
				pr.pending = append(held[i:len(held):len(held)], pr.pending...)
				pr.holding = false
				pr.mu.Unlock()
				return
			}
		}
	}
}

func errorResponse(req Request, status int, msg string) []byte {
	b, _ := json.Marshal(Envelope{Action: req.Action, RequestId: req.RequestId, StatusCode: status, ErrorMessage: msg})
	return b
}

func ok(req Request) Envelope {
	return Envelope{Action: req.Action, RequestId: req.RequestId, StatusCode: http.StatusOK}
}

func (s *Server) failure(pr *proc, req Request, err error) []byte {
	status := httpStatus(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.cfg.Logger.Error("sdk request failed", "pID", pr.id, "action", req.Action, "err", err)
		msg = "internal error"
	}
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Kind != fault.Internal {
		msg = fe.Error()
	}
	return errorResponse(req, status, msg)
}

// dispatch serves one request and returns the response frame.
func (s *Server) dispatch(ctx context.Context, pr *proc, req Request) []byte {
	var resp any = ok(req)
	var err error
	switch req.Action {
	case ActionActivateServerProcess:
		pr.activations.Add(1)
		_, err = s.cfg.Fleets.ProcessReady(ctx, pr.id, req.Port, req.SdkVersion, req.SdkLanguage, req.LogPaths)
	case ActionHeartbeatServerProcess:
		err = s.cfg.Fleets.ProcessHeartbeat(ctx, pr.id, req.HealthStatus)
	case ActionActivateGameSession:
		err = s.cfg.Sessions.ActivateGameSession(ctx, pr.id, req.GameSessionId)
	case ActionAcceptPlayerSession:
		err = s.cfg.Sessions.AcceptPlayerSession(ctx, pr.id, req.GameSessionId, req.PlayerSessionId, req.RequestId)
	case ActionRemovePlayerSession:
		err = s.cfg.Sessions.RemovePlayerSession(ctx, pr.id, req.GameSessionId, req.PlayerSessionId, req.RequestId)
	case ActionUpdatePlayerSessionCreationPolicy:
		err = s.cfg.Sessions.SetPlayerSessionCreationPolicy(ctx, pr.id, req.GameSessionId, req.PlayerSessionPolicy)
	case ActionDescribePlayerSessions:
		var ps []session.PlayerSession
		var next string
		ps, next, err = s.cfg.Sessions.DescribePlayerSessions(ctx, session.PlayerQuery{GameSessionID: req.GameSessionId, PlayerID: req.PlayerId,
			PlayerSessionID: req.PlayerSessionId, StatusFilter: req.PlayerSessionStatusFilter, Limit: req.Limit, NextToken: req.NextToken, FleetID: pr.fleetID})
		out := describePlayerSessionsResponse{Envelope: ok(req), NextToken: next, PlayerSessions: make([]PlayerSession, 0, len(ps))}
		for _, p := range ps {
			out.PlayerSessions = append(out.PlayerSessions, sdkPlayerSession(p))
		}
		resp = out
	case ActionStartMatchBackfill:
		var id string
		br := session.BackfillRequest{GameSessionArn: req.GameSessionArn, MatchmakingConfigurationArn: req.MatchmakingConfigurationArn,
			TicketID: req.TicketId, Players: req.Players}
		if br, err = s.cfg.Sessions.ProcessBackfill(ctx, pr.id, req.RequestId, br); err == nil {
			id, err = s.cfg.Backfill.StartMatchBackfill(ctx, br)
		}
		resp = startMatchBackfillResponse{Envelope: ok(req), TicketId: id}
	case ActionStopMatchBackfill:
		if err = s.cfg.Sessions.HostedBy(ctx, pr.id, req.GameSessionArn); err == nil {
			err = s.cfg.Backfill.StopMatchBackfill(ctx, req.GameSessionArn, req.MatchmakingConfigurationArn, req.TicketId)
		}
	case ActionTerminateServerProcess:
		err = s.cfg.Fleets.EndProcess(ctx, pr.id, fleet.EndProcessEnding)
	case ActionGetComputeCertificate:
		var c fleet.Compute
		c, err = s.cfg.Fleets.ComputeCertificate(ctx, pr.fleetID, pr.computeName)
		resp = computeCertificateResponse{Envelope: ok(req), CertificatePath: c.CertificatePath, ComputeName: c.Name}
	case ActionGetFleetRoleCredentials:
		err = s.cfg.Fleets.FleetRoleCredentials(ctx, pr.fleetID)
	default:
		err = fault.New(fault.Invalid, "unknown action %q", req.Action)
	}
	if err != nil {
		return s.failure(pr, req, err)
	}
	b, merr := json.Marshal(resp)
	if merr != nil {
		return s.failure(pr, req, merr)
	}
	return b
}
