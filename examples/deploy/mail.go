package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/mail"
)

// mailDomain is the mail package's desired state for the stack's mail section: Google's MX,
// SPF and DMARC, and the DKIM key Workspace shows or, without one, dkimKey's.
func mailDomain(m *stack.Mail, dkimTXT string) mail.Domain {
	d := mail.Domain{
		Domain: m.Domain,
		DKIM:   mail.DKIM{Selector: dkimSelector(m), TXT: dkimTXT},
		DMARC:  mail.DMARC{Policy: m.DMARC.Policy},
	}
	if m.DMARC.ReportTo != "" {
		d.DMARC.RUA = []string{"mailto:" + m.DMARC.ReportTo}
	}
	return d
}

// ownSelector is the selector of a DKIM key the deployment generates: never Workspace's
// "google", under which our key would break the signatures of mail Gmail sends.
const ownSelector = "webinfra1"

// dkimSelector is the selector the stack's DKIM key is published under: the stack's, else
// Workspace's default for Workspace's key and ownSelector for a generated one.
func dkimSelector(m *stack.Mail) string {
	switch {
	case m.DKIMSelector != "":
		return m.DKIMSelector
	case m.DKIMRecord != "":
		return "google"
	}
	return ownSelector
}

// dkimKey returns the DKIM record text of the stack: the one given, or that of the key kept in
// STATE/mail/dkim-SELECTOR.pem, generated when there is none yet. A new key comes back as key
// files to write (0600): the programs sending the cloud's own mail sign with it.
func dkimKey(m *stack.Mail, state string) (txt string, files map[string][]byte, err error) {
	if m.DKIMRecord != "" {
		return m.DKIMRecord, nil, nil
	}
	name := "dkim-" + dkimSelector(m) + ".pem"
	path := filepath.Join(state, "mail", name)
	data, err := os.ReadFile(path)
	var key *mail.DKIMKey
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if key, err = mail.GenerateDKIMKey(mail.RSA2048); err != nil {
			return "", nil, err
		}
		data = []byte(key.PrivateKeyPEM().Reveal())
	case err != nil:
		return "", nil, err
	default:
		if key, err = mail.ParseDKIMPrivateKey(data); err != nil {
			return "", nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return key.TXT(), map[string][]byte{name: data}, nil
}

// mailRecords are the stack's mail records, as Cloudflare records of the stack's zone, and the
// DKIM key files the deployment keeps (nil when the stack gives Workspace's record).
func mailRecords(st *stack.Stack, state string) ([]cloudflare.Record, map[string][]byte, error) {
	if st.Mail == nil {
		return nil, nil, nil
	}
	txt, files, err := dkimKey(st.Mail, state)
	if err != nil {
		return nil, nil, fmt.Errorf("mail: dkim key: %w", err)
	}
	recs, err := mailDomain(st.Mail, txt).Records()
	if err != nil {
		var errs webinfra.ValidationError
		errs.Merge(webinfra.NewPath("mail"), err)
		return nil, nil, errs.Err()
	}
	out := make([]cloudflare.Record, 0, len(recs))
	for i, r := range recs {
		cr := cloudflare.Record{
			Name: r.Name, Type: cloudflare.RecordType(r.Type), Content: r.Content,
			TTL: r.TTL, Comment: "mail",
		}
		// mail's records carry the priority as a plain number, set on every MX; Cloudflare's
		// tells an unset priority from 0, so the MX's (0 included) is passed on explicitly.
		if cr.Type == cloudflare.TypeMX || cr.Type == cloudflare.TypeSRV {
			if r.Priority < 0 || r.Priority > 65535 {
				var errs webinfra.ValidationError
				errs.Invalid(webinfra.NewPath("mail", "records").Index(i).Child("priority"), r.Priority, "must be 0-65535")
				return nil, nil, errs.Err()
			}
			cr.Priority = new(uint16(r.Priority))
		}
		out = append(out, cr)
	}
	return out, files, nil
}
