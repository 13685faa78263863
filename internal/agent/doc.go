// Package agent is Muster's host agent (`muster agent`): it registers its host
// as a compute of an ANYWHERE fleet and keeps the fleet's runtime
// configuration running on it. It implements the agent side of
// docs/agent-protocol.md:
//
//   - Client talks to the control plane with an operator key: RegisterCompute,
//     GetComputeAuthToken, DescribeRuntimeConfiguration and DeregisterCompute
//     over AWS JSON 1.1 (POST / with X-Amz-Target: GameLift.<Op>), and the
//     heartbeat, POST /v1/admin/fleets/{fleetId}/computes/{computeName}/heartbeat,
//     all SigV4-signed (service "gamelift", region default mu-local-1). The
//     heartbeat's messages are internal/agent/agentwire's, which the control
//     plane answers with too.
//   - Supervisor runs the loop. Every heartbeat carries the agent's
//     instance id (Config.InstanceID, random per run), and the first one,
//     sent before RegisterCompute, claims the compute: when the control
//     plane answers 409 (another agent runs it) Run returns
//     ErrComputeTaken without registering; a 409 later (another agent took
//     the compute over while this one could not get through) stops the
//     processes as a drain does, without telling the control plane or
//     deregistering, and Run returns ErrComputeTaken. It registers
//     (re-registering whenever a heartbeat answers 404; when that
//     RegisterCompute answers NotFoundException the fleet was deleted, and
//     Run stops the processes as for ErrComputeTaken and returns
//     ErrFleetGone), fetches an auth token and fetches the next one at
//     three quarters of its lifetime, and heartbeats at the interval the
//     control plane answers (default 10 s) with the processes it runs. From
//     each answer it takes the runtime configuration and the process statuses,
//     then launches and stops processes so that each ServerProcess line runs
//     ConcurrentExecutions copies. Processes that exit are replaced at once.
//     A line whose processes keep crashing within 10 s of launch is retried
//     after 1 s, 2 s, … up to a minute, with a log line at each backoff. A
//     non-zero exit is a crash; an exit with status 0 is judged by the
//     control plane's answer to the next heartbeat, which names it in
//     "exited": a process that called ProcessReady and then ProcessEnding,
//     or that hosted a game session, ended cleanly however short its life.
//     While every slot of a line has turned over on an exit not judged yet,
//     the line waits for that answer (within a second) before launching
//     again. A process still PENDING processReadyTimeoutSeconds after its
//     launch is stopped; one TERMINATING (told to end) for DrainGrace is stopped; one
//     TERMINATED but still alive after StopGrace is killed, and one TERMINATED
//     with "kill": true (its game session was force-terminated, or it failed
//     its health checks) is killed at once. "Stopped" means
//     SIGTERM to its process group, SIGKILL after StopGrace. Surplus processes
//     (the runtime configuration shrank) are stopped, those not ACTIVE first,
//     then the newest; when the heartbeat answer gives a process's
//     "gameSessionId" (it hosts a live game session) that process is left
//     to end with its game session instead. An exit is reported by a heartbeat
//     within a second rather than at the next interval.
//   - On ctx cancellation (SIGTERM) the Supervisor drains: one heartbeat with
//     "draining": true, after which the control plane pushes TerminateProcess
//     to each ACTIVE process; processes not yet ACTIVE (or all, if the control
//     plane cannot be reached) get SIGTERM; after DrainGrace the rest are
//     killed; then DeregisterCompute.
//   - ExecLauncher starts each process in its own process group (the process
//     itself is killed with the agent on Linux; what is left of its group is
//     killed when it exits), in a writable working directory, with the agent's
//     environment minus MUSTER_* and GAMELIFT_* plus GAMELIFT_SDK_WEBSOCKET_URL
//     (the compute's GameLiftServiceSdkEndpoint), GAMELIFT_SDK_AUTH_TOKEN,
//     GAMELIFT_SDK_PROCESS_ID (a fresh UUID per launch, never reused),
//     GAMELIFT_SDK_HOST_ID (the compute name) and GAMELIFT_SDK_FLEET_ID, so
//     that server.InitSDKFromEnvironment() connects. Its stdout and stderr go to
//     <log-dir>/<processId>.log, rotated at a size cap with a number of old
//     files kept; the logs of all but the last KeepExited exited processes
//     are deleted. Variables such as SSL_CERT_FILE (to trust a self-signed
//     wss:// SDK endpoint) pass through from the agent's environment.
//     GAMELIFT_REGION is not set: with an auth token the SDK ignores it.
//
// Parameters are split into arguments by SplitParameters (quotes and
// backslashes, no shell). All time goes through clock.Clock; Config.OnEvent
// lets tests step a fake clock in lockstep with the loop.
package agent
