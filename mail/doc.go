// Package mail sets up mail on Google Workspace for the cloud's domains: the DNS records it
// needs, a checker of what is published, DKIM keys and signing, and senders through Gmail's
// SMTP servers or the Gmail API.
//
//   - [Domain] is the desired mail setup of a domain (MX style, SPF, DKIM, DMARC, MTA-STS,
//     TLS-RPT); [Domain.Records] renders it as plain [Record]s for the cloudflare package's
//     desired state (the examples convert them), [Domain.MTASTSPolicy] the policy file to serve
//     and [Domain.Warnings] the advice that is not an error.
//   - [Checker] queries DNS (miekg/dns, any resolver, per-query timeouts) in the spirit of
//     checkdmarc and returns [Findings] with stable codes and a [Severity]: SPF counted to
//     RFC 7208's limits of 10 lookups and 2 void lookups, includes followed with loop detection;
//     DMARC parsed by go-msgauth; DKIM keys parsed and judged by size; MX checked for Google;
//     the MTA-STS policy fetched and matched against the MX hosts; TLS-RPT.
//   - [GenerateDKIMKey] makes RSA 2048 or Ed25519 keys, [DKIMKey.TXT] their record, and
//     [DKIMSigner] signs with go-msgauth over [DefaultSignedHeaders] (From oversigned);
//     [Checker.VerifyDKIM] verifies through the checker's resolver.
//   - [Sender] has three implementations: [SMTPSender] (smtp.gmail.com on 587 with STARTTLS
//     or 465 with implicit TLS, smtp-relay.gmail.com; AUTH PLAIN with an app password or
//     XOAUTH2 from an oauth2.TokenSource; one connection per batch), [GmailSender]
//     (users.messages.send with the raw message) and mailtest.Recorder. [Message]s are
//     rendered by go-mail and validated first: CR, LF or NUL in any header value, any
//     address net/mail does not parse, and any address the SMTP envelope cannot carry as it
//     is (a control character, '<' or '>', a local part over 64 octets) are refused before
//     anything is sent. [Message.Envelope] gives MAIL FROM and RCPT TO in RFC 5321 form:
//     a local part that is no dot-string stays quoted, an IDN domain goes as A-labels.
//
// # Errors
//
// Invalid input (a [Domain], a [Message], a sender or signer config) gives a
// *webinfra.ValidationError matching webinfra.ErrInvalidArgument, naming field paths such as
// "dmarc.rua[1]" or "to[0]". Record parsers return a *[ParseError] (also ErrInvalidArgument);
// a revoked DKIM key gives [ErrKeyRevoked]. Senders return [ErrAuth]
// (webinfra.ErrPermissionDenied) for refused credentials, [ErrTLSRequired]
// (webinfra.ErrFailedPrecondition) when a server offers no STARTTLS, [ErrRejected]
// (webinfra.ErrInvalidArgument) for permanent SMTP refusals and Gmail 400s, [ErrTemporary]
// (webinfra.ErrUnavailable) for 4xx replies, 5xx API answers and unreachable servers, and
// webinfra.ErrRateLimited for Gmail's 429; the upstream *smtp.SMTPError or *googleapi.Error
// stays in the chain for errors.As. Batches fail with a *[BatchError] saying which message
// failed. Context errors are never hidden. The checker reports DNS failures as findings
// ([CodeDNSUnavailable]), not errors.
//
// # Testing
//
// Package mailtest has an in-process SMTP server on go-smtp (STARTTLS or implicit TLS with a
// throwaway CA, AUTH PLAIN and XOAUTH2 accounts, captured messages and connection counts), a
// wire-level Gmail API fake (users.messages.send storing the decoded raw message), an
// authoritative DNS server on miekg/dns (UDP and TCP, truncation, dropped queries) serving
// zones given as records, RRs to turn [Record]s into its zone, GoogleSPF with Google's
// include chain, and Recorder, a capturing [Sender].
package mail
