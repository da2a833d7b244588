package mailtest

import "github.com/webinfra/webinfra/mail"

// RRs renders records in zone-file form for [NewDNSServer].
func RRs(records []mail.Record) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = r.RR()
	}
	return out
}

// GoogleSPF returns Google's SPF chain as published (include:_spf.google.com reaching three
// netblock records), so that a test zone's include of it resolves as it does on the Internet:
// 4 DNS lookups of the 10 allowed.
func GoogleSPF() []string {
	return []string{
		`_spf.google.com. 300 IN TXT "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com include:_netblocks3.google.com ~all"`,
		`_netblocks.google.com. 300 IN TXT "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:74.125.0.0/16 ip4:108.177.8.0/21 ip4:173.194.0.0/16 ip4:209.85.128.0/17 ip4:216.58.192.0/19 ip4:216.239.32.0/19 ~all"`,
		`_netblocks2.google.com. 300 IN TXT "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ip6:2607:f8b0:4000::/36 ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ~all"`,
		`_netblocks3.google.com. 300 IN TXT "v=spf1 ip4:172.217.0.0/19 ip4:172.217.32.0/20 ip4:172.217.128.0/19 ip4:172.217.160.0/20 ip4:172.217.192.0/19 ip4:172.253.56.0/21 ip4:172.253.112.0/20 ip4:108.177.96.0/19 ip4:35.191.0.0/16 ip4:130.211.0.0/22 ~all"`,
	}
}
