#!/usr/bin/env bash
# Installs and builds every real component the tests drive, into .testbin/bin.
#
# Idempotent: Debian packages already installed are left alone, and a binary is rebuilt only when
# its wrapper module (go.mod, go.sum), its build flags or the Go version changed. Safe to run on
# every test run; a warm run takes a second or two.
#
# Debian gives tincd, ip, ping, nft, clamscan and clamd. Syncthing, Traefik, kube-apiserver and etcd
# are built from the wrapper modules in hack/testbin (pinned versions, committed go.sum), because
# `go install pkg@version` cannot build modules that need replace directives.
# Syncthing is never installed from Debian: its package is too old and its install script signals
# every process named syncthing on the machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.testbin/bin"
mkdir -p "$bin"

log() { printf 'testbin: %s\n' "$*" >&2; }

apt_packages=(tinc iproute2 iputils-ping nftables clamav clamav-daemon curl)

install_debian_packages() {
	local missing=() p
	for p in "${apt_packages[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if ((${#missing[@]} == 0)); then
		return
	fi
	if [[ $(id -u) != 0 ]]; then
		log "missing Debian packages: ${missing[*]} (run this script as root to install them)"
		return 1
	fi
	log "installing Debian packages: ${missing[*]}"
	# Package scripts would start clamd and freshclam (which dials out for signatures). Tests start
	# their own daemons, so forbid service starts during the install, unless the machine already
	# has a policy of its own.
	local policy=/usr/sbin/policy-rc.d own_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		own_policy=1
	fi
	local rc=0
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } || rc=$?
	if ((own_policy)); then rm -f "$policy"; fi
	return "$rc"
}

# build NAME WRAPPER_DIR PACKAGE [go build flags...]
# Builds PACKAGE inside the wrapper module into $bin/NAME unless the stamp says it is current.
build() {
	local name=$1 dir="$root/hack/testbin/$2" pkg=$3
	shift 3
	local stamp="$bin/.$name.stamp" want
	want=$({ go version; printf '%s\n' "$pkg" "$@"; cat "$dir/go.mod" "$dir/go.sum"; } | sha256sum | cut -d' ' -f1)
	if [[ -x $bin/$name && -f $stamp && $(cat "$stamp") == "$want" ]]; then
		return
	fi
	log "building $name (the first build takes minutes)"
	local start=$SECONDS
	(cd "$dir" && go build -trimpath -o "$bin/$name.tmp" "$@" "$pkg")
	mv -f "$bin/$name.tmp" "$bin/$name"
	printf '%s\n' "$want" >"$stamp"
	log "built $name in $((SECONDS - start))s"
}

install_debian_packages

build syncthing syncthing github.com/syncthing/syncthing/cmd/syncthing \
	-tags noassets -ldflags '-s -w -X github.com/syncthing/syncthing/lib/build.Version=v1.30.0'
build etcd etcd go.etcd.io/etcd/server/v3 -ldflags '-s -w'
build kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver \
	-ldflags '-s -w -X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37'
build traefik traefik github.com/traefik/traefik/v3/cmd/traefik \
	-ldflags '-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=v3.6.12'
build staticcheck staticcheck honnef.co/go/tools/cmd/staticcheck -ldflags '-s -w'
