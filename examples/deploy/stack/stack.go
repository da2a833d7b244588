package stack

import "slices"

// Stack is a whole deployment. Addresses and durations are kept as the text the user wrote, so
// that Validate can name the field of any that does not parse; the accessor methods return the
// parsed values of a validated stack.
type Stack struct {
	// Name identifies the deployment; a DNS label.
	Name string `json:"name"`
	// Domain is the stack's own Cloudflare zone: its mail domain lives there, and sites'
	// hostnames may.
	Domain string `json:"domain"`
	// Zones are further Cloudflare zones the stack manages, for sites on domains of their own
	// (a hosting business's customers): each site hostname goes to the zone it is inside (the
	// longest match), and every zone gets the same zone settings. Each is a domain name, none
	// inside another or equal to Domain.
	Zones []string `json:"zones,omitempty"`
	// Nodes are the servers.
	Nodes []Node `json:"nodes"`
	// Mesh is the Tinc VPN joining the nodes.
	Mesh Mesh `json:"mesh"`
	// Cluster holds the Kubernetes address ranges.
	Cluster Cluster `json:"cluster"`
	// Sites are the web services and their data.
	Sites []Site `json:"sites"`
	// Backup sends snapshots of the sites' data off-site; nil means no backups.
	Backup *Backup `json:"backup,omitempty"`
	// Mail sets up Google Workspace mail for a domain; nil means no mail.
	Mail *Mail `json:"mail,omitempty"`
	// Security configures scanning and OS updates; nil means none.
	Security *Security `json:"security,omitempty"`
}

// Role is what a node does in the cloud.
type Role string

// The roles a node can have.
const (
	// RoleFirewall nodes take public traffic from Cloudflare and forward it into the mesh.
	RoleFirewall Role = "firewall"
	// RoleControlPlane nodes run the Kubernetes control plane.
	RoleControlPlane Role = "control-plane"
	// RoleWorker nodes run services and hold replicas of their data.
	RoleWorker Role = "worker"
)

var roles = []string{string(RoleFirewall), string(RoleControlPlane), string(RoleWorker)}

// Node is one server.
type Node struct {
	// Name is the node's name in Kubernetes and the mesh; a DNS label, unique.
	Name string `json:"name"`
	// PublicAddresses are the IP addresses other nodes reach it at over the internet.
	PublicAddresses []string `json:"publicAddresses"`
	// MeshAddress is the node's address inside the mesh subnet; "" lets the mesh allocate one.
	MeshAddress string `json:"meshAddress,omitempty"`
	// Region groups nodes by location ("eu-west"); replicas spread across regions.
	Region string `json:"region"`
	// Roles lists what the node does; at least one.
	Roles []Role `json:"roles"`
	// Capacity weighs how much data the node takes relative to others; 0 means 1.
	Capacity int `json:"capacity,omitempty"`
}

// Has reports whether the node has role r.
func (n Node) Has(r Role) bool {
	return slices.Contains(n.Roles, r)
}

// Mesh is the Tinc VPN.
type Mesh struct {
	// Network is the Tinc network name (letters, digits, '_').
	Network string `json:"network"`
	// Subnet is the overlay address range, e.g. "10.88.0.0/16".
	Subnet string `json:"subnet"`
	// Port is the TCP/UDP port tincd listens on; 0 means 655.
	Port int `json:"port,omitempty"`
}

// Cluster holds the Kubernetes address ranges; none may overlap another or the mesh.
type Cluster struct {
	// PodSubnet is the pods' address range.
	PodSubnet string `json:"podSubnet"`
	// ServiceSubnet is the cluster IP range of services.
	ServiceSubnet string `json:"serviceSubnet"`
	// LoadBalancerPool is the MetalLB pool. It lies outside the mesh, pod and service ranges:
	// every worker announces it into the mesh as a tinc Subnet, since MetalLB's layer-2
	// announcements (ARP) do not cross tinc's routed mesh.
	LoadBalancerPool string `json:"loadBalancerPool"`
}

// Site is one web service.
type Site struct {
	// Name identifies the site; a DNS label, unique.
	Name string `json:"name"`
	// Hosts are the public hostnames served, each inside the stack's domain or one of its zones.
	Hosts []string `json:"hosts"`
	// Service is the Kubernetes service behind the hostnames.
	Service Service `json:"service"`
	// Data are the folders the service needs on whichever node runs it.
	Data []DataFolder `json:"data,omitempty"`
}

// Service names a Kubernetes service and port.
type Service struct {
	// Namespace is the service's namespace; a DNS label.
	Namespace string `json:"namespace"`
	// Name is the service's name; a DNS label.
	Name string `json:"name"`
	// Port is the service port traffic goes to (1-65535).
	Port int `json:"port"`
}

// DataFolder is data replicated among the nodes that may run its site.
type DataFolder struct {
	// Name identifies the folder across the stack; a DNS label, unique.
	Name string `json:"name"`
	// Path is where it lives on the nodes; absolute.
	Path string `json:"path"`
	// Replicas is how many worker nodes hold a copy; 1 to the number of workers.
	Replicas int `json:"replicas"`
}

// Backup is the off-site backup policy.
type Backup struct {
	// Remote is an rclone connection string (":googlecloudstorage:bucket/path",
	// ":local:/var/backups") or an absolute path; a named remote ("gcs:bucket") would need an
	// rclone.conf, which a stack does not have, and is refused saying so.
	Remote string `json:"remote"`
	// Encryption is "crypt" (what "" means: contents and names encrypted with rclone crypt under
	// the key in the BACKUP_KEY environment variable, never in the stack file) or "none", which
	// must be said.
	Encryption string `json:"encryption,omitempty"`
	// Every is the time between snapshots, a Go duration of at least 1m ("1h").
	Every string `json:"every"`
	// Keep says which snapshots retention keeps.
	Keep Keep `json:"keep"`
}

// Keep counts the snapshots retention keeps, as restic's forget does; at least one is positive.
type Keep struct {
	// Last keeps the newest N snapshots.
	Last int `json:"last,omitempty"`
	// Hourly keeps the newest snapshot of each of the last N hours that have one.
	Hourly int `json:"hourly,omitempty"`
	// Daily keeps the newest snapshot of each of the last N days that have one.
	Daily int `json:"daily,omitempty"`
	// Weekly keeps the newest snapshot of each of the last N weeks that have one.
	Weekly int `json:"weekly,omitempty"`
	// Monthly keeps the newest snapshot of each of the last N months that have one.
	Monthly int `json:"monthly,omitempty"`
	// Yearly keeps the newest snapshot of each of the last N years that have one.
	Yearly int `json:"yearly,omitempty"`
}

// Mail is the Google Workspace mail setup of a domain.
type Mail struct {
	// Domain receives mail; inside or equal to the stack's domain.
	Domain string `json:"domain"`
	// DKIMSelector is the DKIM selector of the published key. With DKIMRecord (Workspace's
	// key) "" means "google", Workspace's default. For a key the deployment generates, "" means
	// "webinfra1", and "google" is refused: that selector is Workspace's, and publishing a key
	// of ours under it would break the signatures of mail Gmail sends.
	DKIMSelector string `json:"dkimSelector,omitempty"`
	// DKIMRecord is the DKIM record's text as the Workspace admin console shows it
	// ("v=DKIM1; k=rsa; p=MIIB..."); "" means a key generated by the deployment and kept
	// under its state directory, for programs that sign their own mail.
	DKIMRecord string `json:"dkimRecord,omitempty"`
	// DMARC is the published DMARC policy.
	DMARC DMARC `json:"dmarc"`
}

// DMARC is a DMARC policy.
type DMARC struct {
	// Policy is none, quarantine or reject.
	Policy string `json:"policy"`
	// ReportTo is the address aggregate reports go to; optional.
	ReportTo string `json:"reportTo,omitempty"`
}

// Security configures scanning and OS updates.
type Security struct {
	// Scanner is eset or clamav.
	Scanner string `json:"scanner"`
	// ScanPaths are the absolute paths scanned.
	ScanPaths []string `json:"scanPaths"`
	// Updates configures rolling OS updates.
	Updates Updates `json:"updates"`
}

// Updates configures rolling OS updates through Landscape.
type Updates struct {
	// Window is the daily time range updates may run in, "HH:MM-HH:MM" (UTC); it may wrap midnight.
	Window string `json:"window"`
	// MaxUnavailable is how many nodes may update at once; at least 1.
	MaxUnavailable int `json:"maxUnavailable"`
}

// AllZones returns Domain and then Zones: every Cloudflare zone the stack manages.
func (s *Stack) AllZones() []string {
	return append([]string{s.Domain}, s.Zones...)
}

// ZoneOf returns the zone of AllZones that host is inside, the longest one when several are
// (a zone for shop.example.com beside example.com), or "" when none is.
func (s *Stack) ZoneOf(host string) string {
	best := ""
	for _, z := range s.AllZones() {
		if inZone(host, z) && len(z) > len(best) {
			best = z
		}
	}
	return best
}
