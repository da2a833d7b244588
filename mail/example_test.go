package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

func ExampleDomain_Records() {
	d := mail.Domain{
		Domain: "example.com",
		SPF:    mail.SPF{All: "-"},
		DMARC:  mail.DMARC{Policy: "quarantine", RUA: []string{"mailto:dmarc@example.com"}},
		TLSRPT: &mail.TLSRPT{RUA: []string{"mailto:tls@example.com"}},
	}
	recs, err := d.Records()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		fmt.Println(r)
	}
	// Output:
	// example.com MX 1 smtp.google.com
	// example.com TXT v=spf1 include:_spf.google.com -all
	// _dmarc.example.com TXT v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com
	// _smtp._tls.example.com TXT v=TLSRPTv1; rua=mailto:tls@example.com
}

func ExampleChecker_Check() {
	dnsSrv, _ := mailtest.NewDNSServer(
		"example.com. 300 IN MX 10 mx.other-provider.net.",
		`example.com. 300 IN TXT "v=spf1 include:_spf.google.com ~all"`,
		`example.com. 300 IN TXT "v=spf1 -all"`,
		`_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"`,
	)
	defer dnsSrv.Close()
	c := &mail.Checker{Resolver: dnsSrv.Addr, Timeout: 2 * time.Second}
	fs, _ := c.Check(context.Background(), "example.com", nil)
	for _, f := range fs {
		fmt.Println(f.Severity, f.Code)
	}
	// Output:
	// error dkim.missing
	// error mx.not_google
	// error spf.duplicate
	// warning dmarc.policy_none
	// info dmarc.no_reports
	// info mta_sts.missing
	// info tls_rpt.missing
}

func ExampleSMTPSender() {
	srv, _ := mailtest.NewSMTPServer(mailtest.SMTPServerConfig{Users: map[string]string{"alerts@example.com": "app-password"}})
	defer srv.Close()
	key, _ := mail.GenerateDKIMKey(mail.Ed25519)
	signer, _ := mail.NewDKIMSigner(mail.DKIMSignerConfig{Domain: "example.com", Selector: "s1", Key: key})
	// For Gmail: Host "" (smtp.gmail.com:587) and no TLSConfig.
	s, _ := mail.NewSMTPSender(mail.SMTPConfig{
		Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS(),
		Username: "alerts@example.com", Password: webinfra.NewSecret("app-password"),
		Signer: signer,
	})
	err := s.Send(context.Background(), &mail.Message{
		From: "Alerts <alerts@example.com>", To: []string{"ops@example.org"},
		Subject: "backup finished", Text: "All 12 snapshots verified.\n",
	})
	fmt.Println(err)
	got := srv.Messages()[0]
	fmt.Println(got.TLS, got.User, bytes.HasPrefix(got.Data, []byte("DKIM-Signature:")))
	// Output:
	// <nil>
	// true alerts@example.com true
}

func ExampleGmailSender() {
	g := mailtest.NewGmailServer("token")
	defer g.Close()
	// In production: a service account with domain-wide delegation, e.g.
	// cfg, _ := google.JWTConfigFromJSON(keyJSON, gmail.GmailSendScope); cfg.Subject = "alerts@example.com"
	// and TokenSource: cfg.TokenSource(ctx), with no Endpoint.
	s, _ := mail.NewGmailSender(mail.GmailConfig{
		Endpoint:    g.URL(),
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token"}),
	})
	err := s.Send(context.Background(), &mail.Message{
		From: "alerts@example.com", To: []string{"ops@example.org"}, Subject: "report", Text: "ok\n",
	})
	fmt.Println(err, len(g.Sent()))
	// Output: <nil> 1
}
