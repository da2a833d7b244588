package webinfra

import (
	"github.com/webinfra/webinfra/internal/command"
	"github.com/webinfra/webinfra/internal/ratelimit"
	"github.com/webinfra/webinfra/internal/retry"
)

// The types below configure the mechanics every client shares (retries, rate limits, running
// programs). They are defined once, in the module's internal packages that implement them, and
// named here as aliases, so that a program outside the module can write a Config literal, plug
// in a Runner of its own (over SSH, say) and match an [ExitError] with errors.As: an alias, not
// a copy, keeps one definition and lets the internal code and the users' code pass the same
// values. Their fields are listed in each comment, since go doc does not show an internal
// package's.

// RetryPolicy says how often and how long a client retries a failed call; the zero value takes
// the defaults. Fields:
//
//   - Attempts int: total calls, the first included; 0 means 5, 1 means no retry.
//   - BaseDelay, MaxDelay time.Duration: the backoff before the second attempt, doubled each
//     time, with full jitter (0 means 200ms), and its cap, which also bounds a Retry-After
//     hint (0 means 30s; a longer hint returns the error instead of waiting).
//   - Retryable func(error) bool: whether an error is worth another attempt; nil retries
//     everything but context errors. Errors with a Retry-After hint are always retried.
//   - Sleep func(ctx, d) error and Jitter func(d) time.Duration: the wait and its randomness;
//     nil means a real timer and math/rand/v2 (tests inject their own).
//   - OnRetry func(attempt int, err error, wait time.Duration): called before each wait.
type RetryPolicy = retry.Policy

// RateBudget is a request limit as an API documents it: Requests per Per, with Burst requests
// allowed at once after a quiet spell (0 means 1, spreading calls evenly). Requests and Per
// must be positive.
type RateBudget = ratelimit.Budget

// Runner runs programs (tincd, ip, nft, clamscan, odscan, ...) for the packages that drive
// them: Run(ctx, cmd) runs cmd to completion. A program that exits non-zero gives its
// [CmdResult] and an [*ExitError]; one that cannot start gives an error wrapping the cause;
// cancelling ctx kills it and the error matches ctx.Err(). Implementations must be safe for
// concurrent use. [LocalRunner] runs on this machine; a user's own can run them over SSH.
type Runner = command.Runner

// Cmd is one run of a program: Name (a path or a name looked up in PATH), Args (without the
// name), Env (the whole environment as "KEY=value"; nil inherits), Dir (the working directory),
// Stdin (the standard input) and Netns (a named network namespace to run in, through
// `ip netns exec`). Its String method renders it as a shell would show it.
type Cmd = command.Cmd

// CmdResult is what a finished program left: Stdout, Stderr and ExitCode (-1 when it did not
// start or was killed by a signal).
type CmdResult = command.Result

// ExitError reports a program that ran and exited non-zero: Cmd (the command line), ExitCode
// and Stderr (the tail of its standard error, which the message quotes).
type ExitError = command.ExitError

// LocalRunner runs programs on this machine with os/exec; the zero value is ready to use.
type LocalRunner = command.Exec
