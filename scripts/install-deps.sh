#!/usr/bin/env bash
# Installs everything rdprobe's lab, tests and benchmarks need on a fresh Debian 12 machine with Node 20:
# the Debian packages in lab/packages.txt (xrdp, FreeRDP, Xvfb, nmap, nftables, iputils …), the npm packages,
# the TypeScript build and the optional native addon. Idempotent. Must run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "install-deps.sh: run as root (it installs Debian packages and the lab needs network namespaces)" >&2; exit 2; fi
mapfile -t pkgs < <(grep -v '^\s*#' lab/packages.txt | tr -s ' \t' '\n' | grep -v '^$')
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  # xrdp's postinst would start a system-wide xrdp on 3389: forbid service starts during the install.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1; fi
  trap '[ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl disable --now xrdp xrdp-sesman >/dev/null 2>&1 || true; fi
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
