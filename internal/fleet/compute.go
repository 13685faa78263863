package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Compute is a registered host as stored. Status is ACTIVE, TERMINATING
// (its agent is draining) or IMPAIRED (lost: its agent stopped heartbeating
// for LostAfterHeartbeats intervals; a later heartbeat or RegisterCompute
// makes it ACTIVE again). Computes without an agent (Agent false: processes
// started by the studio's own tooling) are never declared lost.
type Compute struct {
	FleetID         string    `json:"fleetId"`
	Name            string    `json:"name"`
	ARN             string    `json:"arn"`
	Location        string    `json:"location"`
	IPAddress       string    `json:"ipAddress,omitempty"`
	DNSName         string    `json:"dnsName,omitempty"`
	CertificatePath string    `json:"certificatePath,omitempty"`
	Status          string    `json:"status"`
	CreatedAt       time.Time `json:"createdAt"`
	Agent           bool      `json:"agent,omitempty"`
	Heartbeat       time.Time `json:"heartbeat,omitzero"`
	// AgentInstance is the instance id of the agent that runs it, from
	// its heartbeats: while the compute is live no other agent may
	// (claimAgent). Empty until an agent that sends one heartbeats.
	AgentInstance string `json:"agentInstance,omitempty"`
	// DrainGrace is how long its agent lets processes end before killing
	// them, as its heartbeat reports it.
	DrainGrace time.Duration `json:"drainGrace,omitempty"`
	// ScaleIn says Muster drains it to lower capacity (DrainCompute):
	// processes hosting game sessions are left to finish them, not told to
	// end, until its agent drains itself.
	ScaleIn bool `json:"scaleIn,omitempty"`
}

func computeID(fleetID, name string) string { return fleetID + "/" + name }

func computeKeys(c Compute) store.Keys { return store.Keys{c.FleetID, c.FleetID + "/" + c.Location} }

type computeToken struct {
	FleetID     string    `json:"fleetId"`
	ComputeName string    `json:"computeName"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

func (s *Service) computeWire(c Compute, f Fleet) gamelift.Compute {
	return gamelift.Compute{FleetId: c.FleetID, FleetArn: f.ARN, ComputeName: c.Name, ComputeArn: c.ARN, IpAddress: c.IPAddress,
		DnsName: c.DNSName, ComputeStatus: c.Status, Location: c.Location, CreationTime: gamelift.At(c.CreatedAt),
		GameLiftServiceSdkEndpoint: s.cfg.SDKEndpoint()}
}

func (s *Service) computeName(nameOrArn string) string {
	if typ, id, ok := s.cfg.ARNs.Parse(nameOrArn); ok && typ == gamelift.ResourceCompute {
		return id
	}
	return nameOrArn
}

// GetCompute reads a compute inside a transaction; fault.NotFound if absent.
func GetCompute(ctx context.Context, r store.Reader, fleetID, name string) (Compute, int64, error) {
	return service.Get[Compute](ctx, r, KindCompute, computeID(fleetID, name), "ComputeName: compute %s is not registered in fleet %s", name, fleetID)
}

// PutCompute writes c at version (0: a new compute).
func PutCompute(ctx context.Context, w store.Writer, c Compute, version int64) (int64, error) {
	return w.Put(ctx, store.Record{Kind: KindCompute, ID: computeID(c.FleetID, c.Name), Doc: store.MustJSON(c), Keys: computeKeys(c), Version: version})
}

// ComputeProcesses returns the processes of c that have not ended, each
// with its version. (A process that ended before the compute index left out
// ended ones may be among them.)
func ComputeProcesses(ctx context.Context, r store.Reader, c Compute) ([]Process, []int64, error) {
	items, err := r.Find(ctx, store.Query{Kind: KindProcess, Key: 2, Value: computeID(c.FleetID, c.Name), Limit: 10000})
	if err != nil {
		return nil, nil, err
	}
	ps, err := store.Decode[Process](items)
	if err != nil {
		return nil, nil, err
	}
	versions := make([]int64, len(items))
	for i, it := range items {
		versions[i] = it.Version
	}
	return ps, versions, nil
}

// RegisterCompute registers a host in a fleet location. Registering an
// existing compute again updates its address and makes it ACTIVE (an agent
// that restarts does this). It keeps the compute's agent instance: an agent
// claims the compute with a heartbeat before it registers it (see
// claimAgent), so an agent refused there never gets here to overwrite the
// address of the one that runs it.
func (s *Service) RegisterCompute(ctx context.Context, in *gamelift.RegisterComputeInput) (*gamelift.RegisterComputeOutput, error) {
	if err := s.agentOp(ctx, true, in.FleetId, in.ComputeName, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		s.cfg.Formats.Check(v, "ComputeName", "ComputeName", in.ComputeName)
		s.cfg.Formats.Check(v, "Location", "LocationStringModel", in.Location)
		v.Check(in.IpAddress != "" || in.DnsName != "", "IpAddress", "IpAddress or DnsName is required")
		s.cfg.Formats.CheckSet(v, "IpAddress", "IpAddress", in.IpAddress)
		s.cfg.Formats.CheckSet(v, "DnsName", "DnsNameInput", in.DnsName)
		gamelift.CheckLengthSet(v, "CertificatePath", in.CertificatePath, 1, 1024)
	}); err != nil {
		return nil, err
	}
	var c Compute
	var f Fleet
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var err error
		f, _, err = GetFleet(ctx, w, s.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		if f.Status != gamelift.FleetStatusActive {
			return fault.New(fault.NotReady, "FleetId: fleet %s is %s", f.ID, f.Status)
		}
		if !f.HasLocation(in.Location) {
			return fault.BadField("Location", "fleet %s has no location %s", f.ID, in.Location)
		}
		old, version, err := GetCompute(ctx, w, f.ID, in.ComputeName)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return err
		}
		now := s.cfg.Clock.Now().UTC()
		c = Compute{FleetID: f.ID, Name: in.ComputeName, ARN: s.cfg.ARNs.Build(gamelift.ResourceCompute, in.ComputeName),
			Location: in.Location, IPAddress: in.IpAddress, DNSName: in.DnsName, CertificatePath: in.CertificatePath,
			Status: gamelift.ComputeActive, CreatedAt: now}
		if version > 0 {
			if old.Location != in.Location {
				return fault.New(fault.Conflict, "ComputeName: compute %s is registered in %s; deregister it before registering it in %s", c.Name, old.Location, in.Location)
			}
			c.CreatedAt, c.Agent, c.Heartbeat, c.DrainGrace = old.CreatedAt, old.Agent, now, old.DrainGrace
			c.AgentInstance = old.AgentInstance
		}
		_, err = PutCompute(ctx, w, c, version)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register compute: %w", err)
	}
	wc := s.computeWire(c, f)
	return &gamelift.RegisterComputeOutput{Compute: &wc}, nil
}

// DeregisterCompute removes a compute: its processes end (and their game
// sessions with them) and its auth tokens stop working.
func (s *Service) DeregisterCompute(ctx context.Context, in *gamelift.DeregisterComputeInput) (*gamelift.DeregisterComputeOutput, error) {
	if err := s.agentComputeOp(ctx, in.FleetId, in.ComputeName); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		fleetID := s.FleetID(in.FleetId)
		it, err := w.Get(ctx, KindCompute, computeID(fleetID, s.computeName(in.ComputeName)))
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound, "ComputeName: compute %s is not registered in fleet %s", s.computeName(in.ComputeName), fleetID)
		}
		if err != nil {
			return err
		}
		return s.dropCompute(ctx, w, it)
	})
	if err != nil {
		return nil, fmt.Errorf("deregister compute: %w", err)
	}
	return &gamelift.DeregisterComputeOutput{}, nil
}

// dropCompute ends a compute's processes, deletes its tokens and itself.
func (s *Service) dropCompute(ctx context.Context, w store.Writer, it store.Item) error {
	cs, err := store.Decode[Compute]([]store.Item{it})
	if err != nil {
		return err
	}
	c := cs[0]
	if err := s.endComputeProcesses(ctx, w, c, EndDeregistered); err != nil {
		return err
	}
	tokens, err := w.Find(ctx, store.Query{Kind: KindComputeToken, Key: 1, Value: it.ID, Limit: 10000})
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if err := store.Forget(ctx, w, KindComputeToken, t.ID); err != nil {
			return err
		}
	}
	return w.Delete(ctx, KindCompute, it.ID, 0)
}

func (s *Service) endComputeProcesses(ctx context.Context, w store.Writer, c Compute, reason string) error {
	ps, versions, err := ComputeProcesses(ctx, w, c)
	if err != nil {
		return err
	}
	for i, p := range ps {
		if err := s.endProcess(ctx, w, p, versions[i], reason); err != nil {
			return err
		}
	}
	return nil
}

// ListCompute pages through a fleet's computes, optionally in one location.
func (s *Service) ListCompute(ctx context.Context, in *gamelift.ListComputeInput) (*gamelift.ListComputeOutput, error) {
	n, after, err := service.AuthorizeList(ctx, in.Limit, 100, 0, in.NextToken, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		s.cfg.Formats.CheckSet(v, "Location", "LocationStringModel", in.Location)
		v.Check(in.ContainerGroupDefinitionName == "", "ContainerGroupDefinitionName", "is for container fleets, which Muster does not have")
		v.Check(in.ComputeStatus == "" || in.ComputeStatus == "ACTIVE" || in.ComputeStatus == "IMPAIRED", "ComputeStatus", "must be ACTIVE or IMPAIRED")
	})
	if err != nil {
		return nil, err
	}
	out := &gamelift.ListComputeOutput{ComputeList: []gamelift.Compute{}}
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		f, _, err := GetFleet(ctx, r, s.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		q := store.Query{Kind: KindCompute, Key: 1, Value: f.ID, After: after}
		if in.Location != "" {
			q.Key, q.Value = 2, f.ID+"/"+in.Location
		}
		cs, next, err := store.FilterPage(ctx, r, q, n, func(c *Compute) bool { return in.ComputeStatus == "" || in.ComputeStatus == c.Status })
		for _, c := range cs {
			out.ComputeList = append(out.ComputeList, s.computeWire(c, f))
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list compute: %w", err)
	}
	return out, nil
}

// DescribeCompute returns one compute.
func (s *Service) DescribeCompute(ctx context.Context, in *gamelift.DescribeComputeInput) (*gamelift.DescribeComputeOutput, error) {
	if err := s.computeOp(ctx, false, in.FleetId, in.ComputeName); err != nil {
		return nil, err
	}
	var wc gamelift.Compute
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		f, c, err := s.fleetCompute(ctx, r, in.FleetId, in.ComputeName)
		wc = s.computeWire(c, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe compute: %w", err)
	}
	return &gamelift.DescribeComputeOutput{Compute: &wc}, nil
}

// newToken returns a compute auth token: "mt-" and 48 hex digits (192 bits
// of randomness) — only [a-zA-Z0-9-], which the C++ SDK puts in the URL
// unencoded, and 51 characters (GameLift allows up to 64).
func newToken() string {
	var b [24]byte
	rand.Read(b[:])
	return "mt-" + hex.EncodeToString(b[:])
}

// GetComputeAuthToken issues a token bound to one fleet and compute that
// server processes on the compute pass to InitSDK.
func (s *Service) GetComputeAuthToken(ctx context.Context, in *gamelift.GetComputeAuthTokenInput) (*gamelift.GetComputeAuthTokenOutput, error) {
	if err := s.agentComputeOp(ctx, in.FleetId, in.ComputeName); err != nil {
		return nil, err
	}
	var out gamelift.GetComputeAuthTokenOutput
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		f, c, err := s.fleetCompute(ctx, w, in.FleetId, in.ComputeName)
		if err != nil {
			return err
		}
		tok := newToken()
		exp := s.cfg.Clock.Now().UTC().Add(s.cfg.TokenTTL)
		doc := computeToken{FleetID: f.ID, ComputeName: c.Name, ExpiresAt: exp}
		if _, err := w.Put(ctx, store.Record{Kind: KindComputeToken, ID: tok, Doc: store.MustJSON(doc),
			Keys: store.Keys{computeID(f.ID, c.Name)}, ExpiresAt: exp.Add(tokenGrace)}); err != nil {
			return err
		}
		out = gamelift.GetComputeAuthTokenOutput{FleetId: f.ID, FleetArn: f.ARN, ComputeName: c.Name, ComputeArn: c.ARN,
			AuthToken: tok, ExpirationTimestamp: gamelift.At(exp)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get compute auth token: %w", err)
	}
	return &out, nil
}

// AttachProcess authenticates a server process connecting with a compute
// auth token and returns its record, creating it (PENDING) on first
// contact. The token must be bound to fleetID and computeName and unexpired
// — except that a live process already known to this compute may reconnect
// with a token that expired less than a day ago, since the SDK reconnects
// with the URL it started with. An ended process id cannot be reused.
func (s *Service) AttachProcess(ctx context.Context, token, fleetID, computeName, processID string) (Process, Compute, error) {
	var p Process
	var c Compute
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		tok, _, err := store.GetJSON[computeToken](ctx, w, KindComputeToken, token)
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.Unauthenticated, "unknown or expired compute auth token")
		}
		if err != nil {
			return err
		}
		if tok.FleetID != fleetID || tok.ComputeName != computeName {
			return fault.New(fault.Forbidden, "the auth token is not for fleet %s compute %s", fleetID, computeName)
		}
		c, _, err = GetCompute(ctx, w, fleetID, computeName)
		if err != nil {
			return fault.New(fault.Forbidden, "compute %s is not registered in fleet %s", computeName, fleetID)
		}
		now := s.cfg.Clock.Now().UTC()
		p, _, err = GetProcess(ctx, w, processID)
		switch {
		case fault.Is(err, fault.NotFound):
			if now.After(tok.ExpiresAt) {
				return fault.New(fault.Unauthenticated, "the compute auth token expired at %s", tok.ExpiresAt.Format(time.RFC3339))
			}
			p = Process{ID: processID, FleetID: fleetID, ComputeName: computeName, Location: c.Location, Status: ProcessPending,
				IPAddress: c.IPAddress, DNSName: c.DNSName, CreatedAt: now, Draining: c.Status != gamelift.ComputeActive}
			_, err = PutProcess(ctx, w, p, 0)
			return err
		case err != nil:
			return err
		case p.FleetID != fleetID || p.ComputeName != computeName:
			return fault.New(fault.Forbidden, "process %s belongs to another compute", processID)
		case p.Status == ProcessTerminated:
			return fault.New(fault.Forbidden, "process %s has ended; a new process needs a new process id", processID)
		}
		return nil
	})
	return p, c, err
}

// ComputeOf returns a compute by fleet id and name.
func (s *Service) ComputeOf(ctx context.Context, fleetID, name string) (Compute, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (Compute, error) {
		c, _, err := GetCompute(ctx, r, fleetID, name)
		return c, err
	})
}

// ComputeCertificate answers a server process's GetComputeCertificate:
// the compute's certificate path as it was registered. Muster issues no
// certificates of its own (GameLift does, on managed fleets), so a compute
// registered without a CertificatePath has none.
func (s *Service) ComputeCertificate(ctx context.Context, fleetID, computeName string) (Compute, error) {
	c, err := s.ComputeOf(ctx, fleetID, computeName)
	if err == nil && c.CertificatePath == "" {
		err = fault.New(fault.NotFound, "compute %s was registered without a CertificatePath; Muster issues no compute certificates: pass CertificatePath to RegisterCompute", c.Name)
	}
	return c, err
}

// FleetRoleCredentials answers a server process's GetFleetRoleCredentials:
// Muster fleets have no IAM role, so there are none.
func (s *Service) FleetRoleCredentials(ctx context.Context, fleetID string) error {
	return fault.New(fault.Unsupported, "Muster fleets have no IAM role: GetFleetRoleCredentials is not available (fleet role credentials exist only on managed GameLift fleets)")
}

// fleetCompute reads one compute and the fleet it is registered in, both
// named as the operations name them (id or ARN).
func (s *Service) fleetCompute(ctx context.Context, r store.Reader, fleetIdOrArn, computeNameOrArn string) (Fleet, Compute, error) {
	f, _, err := GetFleet(ctx, r, s.FleetID(fleetIdOrArn))
	if err != nil {
		return f, Compute{}, err
	}
	c, _, err := GetCompute(ctx, r, f.ID, s.computeName(computeNameOrArn))
	return f, c, err
}

// computeOp authorises an operator's call on one compute (write: one that
// changes it) and checks the FleetId and ComputeName members that name it
// (DeregisterCompute, DescribeCompute, GetComputeAuthToken).
// agentOp authorises the calls a host agent makes (RegisterCompute,
// GetComputeAuthToken, DeregisterCompute, DescribeRuntimeConfiguration and
// the heartbeat), and only those: the one place where an agent key
// (auth.RoleAgent) is let in, for its own fleet and compute(s) only
// (computeName "": a call on the fleet as a whole). Other keys are held
// to their role as anywhere else (write: the call changes state). Then
// check validates the input, as service.Authorize does.
func (s *Service) agentOp(ctx context.Context, write bool, fleetID, computeName string, check func(v *fault.Validator)) error {
	name := computeName
	if name != "" {
		name = s.computeName(name)
	}
	if err := auth.RequireAgent(ctx, write, s.FleetID(fleetID), name); err != nil {
		return err
	}
	var v fault.Validator // not service.Authorize: it would refuse an agent key
	check(&v)
	return v.Err()
}

// agentComputeOp is agentOp for a call that changes a compute named by
// fleet and compute name, checking both.
func (s *Service) agentComputeOp(ctx context.Context, fleetID, computeName string) error {
	return s.agentOp(ctx, true, fleetID, computeName, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", fleetID)
		s.cfg.Formats.Check(v, "ComputeName", "ComputeNameOrArn", computeName)
	})
}

func (s *Service) computeOp(ctx context.Context, write bool, fleetID, computeName string) error {
	return service.Authorize(ctx, write, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", fleetID)
		s.cfg.Formats.Check(v, "ComputeName", "ComputeNameOrArn", computeName)
	})
}
