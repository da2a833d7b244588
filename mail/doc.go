// Package mail sets up mail on Google Workspace for the cloud's domains: the DNS records it needs
// (MX, SPF, DKIM, DMARC), checks of what is published, DKIM signing, and senders through Gmail SMTP
// or the Gmail API.
//
// The content of this package arrives with its own issue; for now it states the scope.
package mail
