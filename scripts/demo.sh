#!/usr/bin/env bash
# The main job on the embedded default: installs what it needs, brings up rdprobe's lab (real xrdp and FreeRDP
# servers, a closed and a filtered port, a PMTU black hole and a UDP-dropping path, all in network namespaces on this
# machine), diagnoses every lab host from the lab's client namespace, and tears the lab down again.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
trap 'bash lab/lab.sh down >/dev/null 2>&1' EXIT
bash lab/lab.sh up || exit 1
run() { echo "\$ rdprobe $*"; ip netns exec rdplab-client node bin/rdprobe.js "$@"; echo; }
run diagnose tls.rdplab.test
run diagnose rdp.rdplab.test --client mstsc
run diagnose nla.rdplab.test --client mstsc-nla-off
run diagnose closed.rdplab.test
run diagnose filtered.rdplab.test --phase-timeout 2000
run diagnose no-such-host.nx.rdplab.test
run diagnose blackhole.rdplab.test --pmtu --phase-timeout 3000
run diagnose mtu1400.rdplab.test --pmtu
run diagnose udpdrop.rdplab.test --udp
run diagnose udp.rdplab.test --udp
