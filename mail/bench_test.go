package mail_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

// BenchmarkSMTPReuse DKIM-signs and sends MAIL_BENCH_MESSAGES messages (default 1000) to the
// in-process server with STARTTLS and AUTH PLAIN, over one reused connection (SendBatch) and
// with a new connection per message (Send), interleaved in each iteration. It reports
// per-message times and the ratio reuse/fresh.
func BenchmarkSMTPReuse(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("MAIL_BENCH_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	signer, _ := dkimSetup(b, mail.RSA2048)
	srv := mailtest.StartSMTP(b, mailtest.SMTPServerConfig{Users: map[string]string{"alerts@example.com": "pw"}})
	s, err := mail.NewSMTPSender(mail.SMTPConfig{
		Host: srv.Host, Port: srv.Port, TLSConfig: srv.ClientTLS(),
		Username: "alerts@example.com", Password: webinfra.NewSecret("pw"), Signer: signer,
	})
	require.NoError(b, err)
	ms := make([]*mail.Message, n)
	for i := range ms {
		ms[i] = testMessage(i)
	}
	var reuse, fresh time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := s.SendBatch(b.Context(), ms); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for _, m := range ms {
			if err := s.Send(b.Context(), m); err != nil {
				b.Fatal(err)
			}
		}
		reuse += t1.Sub(t0)
		fresh += time.Since(t1)
	}
	per := float64(b.N * n)
	b.ReportMetric(float64(reuse.Microseconds())/per, "reuse-µs/msg")
	b.ReportMetric(float64(fresh.Microseconds())/per, "fresh-µs/msg")
	b.ReportMetric(float64(reuse)/float64(fresh), "reuse/fresh")
	b.ReportMetric(float64(srv.Connections())/float64(b.N), "conns/op")
}
