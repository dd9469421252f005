#!/usr/bin/env bash
# rdprobe integration lab: real xrdp and FreeRDP servers in Linux network namespaces behind a router with a
# reduced-MTU inner link, ICMP/UDP filtering and a DNS test peer. See lab/README.md for the map and measured facts.
#
#   lab/lab.sh up            (re)build the whole lab; a half-up lab is torn down first
#   lab/lab.sh ensure        keep a healthy lab as it is (prints "lab: reused"), otherwise `up`
#   lab/lab.sh down          remove everything (namespaces, /etc/netns/rdplab-*, processes, run dir); always succeeds
#   lab/lab.sh status        what is up; exit 0 only when every namespace, process and listener is healthy
#   lab/lab.sh flush-pmtu    forget learned path MTUs (route cache + TCP metrics) in every lab namespace
#   lab/lab.sh exec NS CMD…  run CMD inside rdplab-NS (NS: client, router, wan, tls, rdp, nla, … or rdplab-…)
#
# Needs root. Nothing is added to the root namespace: every link lives between lab namespaces, so 198.19.0.0/16 is
# reachable only from inside rdplab-client (the prober's home) and only while the lab is up.
#
# Test runs (test/lab/global-setup.ts) hold a shared flock on /run/lock/rdplab-users.lock while they use the lab.
# `up` and `down` wait for an exclusive one first (up: 300 s; down: 60 s, then it tears down anyway), so a rebuild
# never pulls the servers from under a running test. RDPLAB_SKIP_USERS_LOCK=1 skips that wait (for callers that
# already hold the lock).
set -euo pipefail
shopt -s nullglob
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

SELF=$(readlink -f "${BASH_SOURCE[0]}")
LAB_SRC=$(dirname "$SELF")
REPO=$(dirname "$LAB_SRC")
readonly SELF LAB_SRC REPO
readonly P=rdplab                      # namespace prefix
readonly RUN=/tmp/rdplab               # run dir: configs, certs, logs, pids (removed by `down`)
if [[ -d /run/lock ]]; then LOCK_DIR=/run/lock; else LOCK_DIR=/tmp; fi
readonly LOCK=$LOCK_DIR/rdplab.lock          # serialises up/down/ensure
readonly USERS_LOCK=$LOCK_DIR/rdplab-users.lock  # shared while a test run uses the lab
readonly DOMAIN=rdplab.test
readonly TLS_PORT=3389

# name | subnet index N (198.19.N.10, gateway 198.19.N.1) | upstream router namespace | service | RSA bits of the cert
readonly HOST_TABLE="
tls        1 router xrdp-tls   2048
rdp        2 router xrdp-rdp   2048
nla        3 router shadow-nla -
closed     4 router none       -
filtered   5 router none       -
blackhole  6 wan    xrdp-tls   4096
mtu1400    7 wan    xrdp-tls   4096
udpdrop    8 router xrdp-tls   2048
udp        9 router xrdp-tls   2048
"
HOSTS=()
declare -A IDX=() UPLINK=() SERVICE=() BITS=()
while read -r h n up svc bits; do
  [[ -n $h ]] || continue
  HOSTS+=("$h"); IDX[$h]=$n; UPLINK[$h]=$up; SERVICE[$h]=$svc; BITS[$h]=$bits
done <<<"$HOST_TABLE"
readonly NAMESPACES=(client router wan "${HOSTS[@]}")
readonly CORE_MTU=1400
readonly SAM_USER=labuser SAM_PASS='LabPass123!'
readonly NLA_HOSTNAME=RDPLAB-NLA
readonly UDP_PEER=test/peers/rdpeudp-responder.ts
readonly DNS_PEER=test/peers/dns-server.ts

T0=${EPOCHREALTIME/./}
log() {
  local now=${EPOCHREALTIME/./} ms
  ms=$(( (now - T0) / 1000 ))
  printf 'lab [%3d.%02ds] %s\n' $((ms / 1000)) $(((ms % 1000) / 10)) "$*" >&2
}
die() { log "ERROR: $*"; exit 1; }
addr() { echo "198.19.${IDX[$1]}.10"; }
nsname() { local n=${1#"$P"-}; echo "$P-$n"; }

need_root() { [[ $EUID -eq 0 ]] || die "must run as root (network namespaces, nft, port 53/3389)"; }
need_bins() {
  local missing=() b
  for b in "$@"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
  ((${#missing[@]} == 0)) || die "missing binaries: ${missing[*]} (install the Debian packages in lab/packages.txt)"
}

# A process counts as alive unless it is gone or a zombie.
alive() {
  local s
  [[ -r /proc/$1/stat ]] || return 1
  s=$(</proc/"$1"/stat) 2>/dev/null || return 1
  s=${s##*) }
  [[ ${s%% *} != Z ]]
}

lab_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-" || true; }

# ---------------------------------------------------------------------------------------------------------------- down
do_down() {
  set +e
  local quiet=${1:-} ns p pids=() displays=() d args i left=() still
  # Everything the lab started runs inside a lab namespace, so the namespaces themselves are the process list: this
  # also catches processes of an earlier run whose pid file is gone.
  for ns in $(lab_namespaces); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      [[ $p == "$$" || $p == "$BASHPID" ]] && continue
      pids+=("$p")
      mapfile -d '' -t args <"/proc/$p/cmdline" 2>/dev/null
      if [[ ${args[0]:-} == *Xvfb ]]; then
        for i in "${args[@]:1}"; do [[ $i =~ ^:([0-9]+)$ ]] && displays+=("${BASH_REMATCH[1]}"); done
      fi
    done
  done
  [[ -r $RUN/displays ]] && while read -r d; do [[ $d =~ ^[0-9]+$ ]] && displays+=("$d"); done <"$RUN/displays"

  if ((${#pids[@]})); then
    [[ -n $quiet ]] || log "stopping ${#pids[@]} process(es): ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null
    # xrdp and freerdp-shadow-cli take ~2 s to exit on SIGTERM: signal all at once, then wait for all.
    for i in $(seq 50); do
      left=()
      for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
      ((${#left[@]})) || break
      sleep 0.1
    done
    left=()
    for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
    if ((${#left[@]})); then
      log "SIGKILL to ${left[*]}"
      kill -KILL "${left[@]}" 2>/dev/null
      for i in $(seq 30); do
        still=0
        for p in "${left[@]}"; do alive "$p" && still=1; done
        ((still)) || break
        sleep 0.1
      done
    fi
  fi

  for ns in $(lab_namespaces); do
    ip netns del "$ns" 2>/dev/null || { umount "/run/netns/$ns" 2>/dev/null; rm -f "/run/netns/$ns"; }
  done
  rm -rf /etc/netns/"$P"-*
  rmdir /etc/netns 2>/dev/null   # only if empty (others may keep their own entries there)

  # Xvfb removes its lock and socket on SIGTERM; after a SIGKILL they stay. Remove them only for our displays and
  # only when the pid in the lock is gone.
  for d in $(printf '%s\n' "${displays[@]}" | sort -u); do
    local lock=/tmp/.X$d-lock lpid
    [[ -e $lock ]] || { rm -f "/tmp/.X11-unix/X$d"; continue; }
    lpid=$(tr -dc '0-9' <"$lock")
    if [[ -z $lpid ]] || ! alive "$lpid"; then rm -f "$lock" "/tmp/.X11-unix/X$d"; fi
  done

  [[ $RUN == /tmp/rdplab ]] && rm -rf "$RUN"
  [[ -n $quiet ]] || log "lab down"
  return 0
}

# ------------------------------------------------------------------------------------------------------------------ up
# Start CMD detached inside namespace NS; stdio to a log file, no inherited lock fd; record "pid name ns".
start_proc() {
  local name=$1 ns=$2; shift 2
  (cd "$REPO" && exec ip netns exec "$(nsname "$ns")" setsid "$@" >"$RUN/logs/$name.log" 2>&1 </dev/null 8>&- 9>&-) &
  echo "$! $name $(nsname "$ns")" >>"$RUN/pids"
}

pick_display() {
  local n
  for n in $(seq 190 239); do
    grep -qx "$n" "$RUN/displays" 2>/dev/null && continue
    [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] && continue
    echo "$n" >>"$RUN/displays"
    echo "$n"
    return 0
  done
  die "no free X display number in 190-239"
}

# One RSA key per size, shared by the hosts of that size (key generation is the slowest part of `up`; RSA-4096
# takes 0.5-3 s), and one self-signed certificate per host with CN/SAN = its lab name.
gen_certs() {
  local h bits pids=() rc=0
  for bits in $(printf '%s\n' "${BITS[@]}" | grep -x '[0-9]*' | sort -u); do
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$RUN/certs/rsa-$bits.key" \
      >>"$RUN/logs/openssl.log" 2>&1 &
    pids+=($!)
  done
  for h in "${pids[@]}"; do wait "$h" || rc=1; done
  ((rc == 0)) || return 1
  for h in "${HOSTS[@]}"; do
    [[ ${SERVICE[$h]} == xrdp-* ]] || continue
    cp "$RUN/certs/rsa-${BITS[$h]}.key" "$RUN/certs/$h.key"
    openssl req -x509 -new -key "$RUN/certs/$h.key" -sha256 -days 30 \
      -subj "/CN=$h.$DOMAIN" -addext "subjectAltName=DNS:$h.$DOMAIN,IP:$(addr "$h")" \
      -out "$RUN/certs/$h.crt" >>"$RUN/logs/openssl.log" 2>&1 || return 1
  done
}

# Links are created straight inside the namespaces (veth + peer netns), never in the root namespace.
make_links() {
  local h
  ip link add eth0 netns "$P-client" type veth peer name client netns "$P-router"
  ip link add core netns "$P-router" type veth peer name core netns "$P-wan"
  for h in "${HOSTS[@]}"; do
    ip link add eth0 netns "$P-$h" type veth peer name "h${IDX[$h]}" netns "$P-${UPLINK[$h]}"
  done
}

# One shell per namespace: sysctls, offloads off, addresses/routes (ip batch), nft rules.
ns_script() {
  local ns=$1 h devs=() batch="" nft=""
  case $ns in
    client)
      devs=(eth0)
      batch+="addr add 198.19.0.10/24 dev eth0"$'\n'"link set eth0 up"$'\n'"route add default via 198.19.0.1"$'\n'
      ;;
    router)
      devs=(client core)
      batch+="addr add 198.19.0.1/24 dev client"$'\n'"link set client up"$'\n'
      batch+="link set core mtu $CORE_MTU"$'\n'"addr add 198.19.100.1/30 dev core"$'\n'"link set core up"$'\n'
      for h in "${HOSTS[@]}"; do
        if [[ ${UPLINK[$h]} == router ]]; then
          devs+=("h${IDX[$h]}")
          batch+="addr add 198.19.${IDX[$h]}.1/24 dev h${IDX[$h]}"$'\n'"link set h${IDX[$h]} up"$'\n'
        else
          batch+="route add 198.19.${IDX[$h]}.0/24 via 198.19.100.2"$'\n'
        fi
      done
      # udpdrop: UDP 3389 to 198.19.8.10 vanishes on the router (no ICMP); TCP passes.
      # blackhole: the frag-needed this router would send for a client->blackhole packet that does not fit the core
      # link is matched on the destination quoted inside the ICMP error (ICMP header 8 bytes + offset 16 of the quoted
      # IPv4 header = bit 192 of the transport header) and dropped, so DF probes towards blackhole get no answer.
      nft="table inet $P {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip daddr $(addr udpdrop) udp dport $TLS_PORT counter drop comment \"udpdrop: UDP $TLS_PORT silently dropped\"
  }
  chain output {
    type filter hook output priority filter; policy accept;
    icmp type destination-unreachable icmp code frag-needed @th,192,32 $(printf '0x%02x%02x%02x%02x' 198 19 "${IDX[blackhole]}" 10) counter drop comment \"blackhole: no frag-needed about packets to $(addr blackhole)\"
  }
}"
      ;;
    wan)
      devs=(core)
      batch+="link set core mtu $CORE_MTU"$'\n'"addr add 198.19.100.2/30 dev core"$'\n'"link set core up"$'\n'
      for h in "${HOSTS[@]}"; do
        [[ ${UPLINK[$h]} == wan ]] || continue
        devs+=("h${IDX[$h]}")
        batch+="addr add 198.19.${IDX[$h]}.1/24 dev h${IDX[$h]}"$'\n'"link set h${IDX[$h]} up"$'\n'
      done
      batch+="route add default via 198.19.100.1"$'\n'
      # blackhole: the server's 1500-byte segments towards the client do not fit the core link; the frag-needed this
      # router sends back to the server is dropped, so the server never learns the path MTU.
      nft="table inet $P {
  chain output {
    type filter hook output priority filter; policy accept;
    ip daddr $(addr blackhole) icmp type destination-unreachable icmp code frag-needed counter drop comment \"blackhole: server never hears frag-needed\"
  }
}"
      ;;
    *)
      devs=(eth0)
      batch+="addr add $(addr "$ns")/24 dev eth0"$'\n'"link set eth0 up"$'\n'"route add default via 198.19.${IDX[$ns]}.1"$'\n'
      if [[ $ns == filtered ]]; then
        nft="table inet $P {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport $TLS_PORT counter drop comment \"filtered: silent\"
    udp dport $TLS_PORT counter drop comment \"filtered: silent\"
  }
}"
      fi
      ;;
  esac
  local fwd=0
  [[ $ns == router || $ns == wan ]] && fwd=1
  cat <<EOF
set -e
sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
  net.ipv4.ip_forward=$fwd net.ipv4.tcp_mtu_probing=0 net.ipv4.icmp_ratelimit=0
for d in ${devs[*]}; do ethtool -K "\$d" tx off tso off gso off gro off >/dev/null 2>&1 || echo "ethtool -K \$d failed" >&2; done
ip -b - <<'IPB'
link set lo up
${batch}IPB
EOF
  if [[ -n $nft ]]; then
    printf "nft -f - <<'NFT'\n%s\nNFT\n" "$nft"
  fi
}

write_etc_netns() {
  local ns h hosts
  hosts="127.0.0.1	localhost
198.19.0.10	client.$DOMAIN
198.19.0.1	router.$DOMAIN
198.19.100.2	wan.$DOMAIN
"
  for h in "${HOSTS[@]}"; do hosts+="$(addr "$h")	$h.$DOMAIN"$'\n'; done
  for ns in "${NAMESPACES[@]}"; do
    mkdir -p "/etc/netns/$P-$ns"
    # DNS inside any lab namespace stays on loopback: the DNS peer in rdplab-client, nothing elsewhere (refused).
    printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' >"/etc/netns/$P-$ns/resolv.conf"
    printf '%s' "$hosts" >"/etc/netns/$P-$ns/hosts"
  done
}

render_xrdp_ini() {
  local h=$1 layer=tls
  [[ ${SERVICE[$h]} == xrdp-rdp ]] && layer=rdp
  sed -e "s|@SECURITY_LAYER@|$layer|" -e "s|@CRYPT_LEVEL@|high|" \
      -e "s|@CERTIFICATE@|$RUN/certs/$h.crt|" -e "s|@KEY_FILE@|$RUN/certs/$h.key|" \
      -e "s|@LOG_FILE@|$RUN/logs/xrdp-$h.xrdp.log|" "$LAB_SRC/xrdp.ini.in" >"$RUN/conf/xrdp-$h.ini"
}

tsx_cmd() {
  if [[ -x $REPO/node_modules/.bin/tsx ]]; then echo "$REPO/node_modules/.bin/tsx"; else echo ""; fi
}

listening() { # ns proto(t|u) port
  [[ -n $(ss -N "$P-$1" -Hln"$2" "sport = :$3" 2>/dev/null) ]]
}

wait_for() { # description timeout_s command…
  local what=$1 limit=$2; shift 2
  local deadline=$(( ${EPOCHREALTIME/./} + limit * 1000000 ))
  until "$@"; do
    (( ${EPOCHREALTIME/./} < deadline )) || return 1
    sleep 0.05
  done
}

do_up() {
  need_root
  need_bins ip ss nft ethtool sysctl openssl xrdp xrdp-keygen freerdp-shadow-cli winpr-hash Xvfb unshare setsid flock node
  ( do_down quiet ) || true
  log "building lab (run dir $RUN)"
  mkdir -p "$RUN"/{logs,certs,conf,nla-home/.config}
  chmod 700 "$RUN" "$RUN/certs"
  : >"$RUN/pids"; : >"$RUN/displays"

  gen_certs & local cert_job=$!
  [[ -s /etc/xrdp/rsakeys.ini ]] || { log "creating /etc/xrdp/rsakeys.ini"; xrdp-keygen xrdp auto >>"$RUN/logs/keygen.log" 2>&1; }
  winpr-hash -u "$SAM_USER" -p "$SAM_PASS" -f sam >"$RUN/conf/nla.sam"

  local ns jobs=() rc=0
  for ns in "${NAMESPACES[@]}"; do ip netns add "$P-$ns"; done
  make_links
  for ns in "${NAMESPACES[@]}"; do
    ns_script "$ns" >"$RUN/conf/setup-$ns.sh"
    ip netns exec "$P-$ns" bash "$RUN/conf/setup-$ns.sh" >"$RUN/logs/setup-$ns.log" 2>&1 &
    jobs+=("$!:$ns")
  done
  for j in "${jobs[@]}"; do
    wait "${j%%:*}" || { rc=1; log "setup of $P-${j#*:} failed:"; sed 's/^/    /' "$RUN/logs/setup-${j#*:}.log" >&2; }
  done
  ((rc == 0)) || die "network setup failed"
  write_etc_netns
  log "network ready: ${#NAMESPACES[@]} namespaces"

  # DNS peer (slowest to start: tsx) and the X servers first, xrdp once the certificates exist.
  local tsx; tsx=$(tsx_cmd)
  if [[ -n $tsx && -f $REPO/$DNS_PEER ]]; then
    start_proc dns-peer client "$tsx" "$REPO/$DNS_PEER" --host 127.0.0.1 --port 53
  else
    log "WARNING: DNS peer not started ($DNS_PEER or node_modules/.bin/tsx missing; run npm ci)"
  fi
  if [[ -f $REPO/$UDP_PEER ]]; then
    if [[ -n $tsx ]]; then
      start_proc rdpeudp-responder udp "$tsx" "$REPO/$UDP_PEER" --host 0.0.0.0 --port "$TLS_PORT"
    else
      log "WARNING: RDPEUDP responder not started: node_modules/.bin/tsx missing (run npm ci)"
    fi
  else
    log "note: $UDP_PEER not present yet; rdplab-udp has no UDP $TLS_PORT responder (UDP answers port-unreachable)"
  fi
  local dnla dcli
  dnla=$(pick_display); dcli=$(pick_display)
  start_proc xvfb-nla nla Xvfb ":$dnla" -screen 0 1024x768x24 -nolisten tcp -noreset
  start_proc xvfb-client client Xvfb ":$dcli" -screen 0 1024x768x24 -nolisten tcp -noreset

  wait "$cert_job" || { sed 's/^/    /' "$RUN/logs/openssl.log" >&2; die "certificate generation failed"; }
  log "certificates ready"
  local h
  for h in "${HOSTS[@]}"; do
    [[ ${SERVICE[$h]} == xrdp-* ]] || continue
    render_xrdp_ini "$h"
    start_proc "xrdp-$h" "$h" xrdp --nodaemon --config "$RUN/conf/xrdp-$h.ini"
  done

  wait_for "Xvfb :$dnla" 10 test -S "/tmp/.X11-unix/X$dnla" || die "Xvfb :$dnla did not start (see $RUN/logs/xvfb-nla.log)"
  start_proc shadow-nla nla env HOME="$RUN/nla-home" XDG_CONFIG_HOME="$RUN/nla-home/.config" DISPLAY=":$dnla" \
    WLOG_LEVEL=INFO unshare --uts sh -c 'hostname "$0" && exec "$@"' "$NLA_HOSTNAME" \
    freerdp-shadow-cli /port:$TLS_PORT /sec:nla "/sam-file:$RUN/conf/nla.sam"

  {
    echo "started=$(date -u +%FT%TZ)"
    echo "repo=$REPO"
    echo "display_nla=:$dnla"
    echo "display_client=:$dcli"
    echo "started_by=${RDPLAB_STARTED_BY:-manual}"
  } >"$RUN/state"

  # Wait until every listener exists (global-setup additionally connects from rdplab-client).
  local bad=0 name pid nsn
  for h in "${HOSTS[@]}"; do
    case ${SERVICE[$h]} in
      xrdp-*|shadow-nla)
        wait_for "$h" 20 listening "$h" t $TLS_PORT || { bad=1; log "no TCP listener on $(addr "$h"):$TLS_PORT"; } ;;
    esac
  done
  grep -q ' dns-peer ' "$RUN/pids" && { wait_for dns 20 listening client u 53 || { bad=1; log "DNS peer not listening on 127.0.0.1:53"; }; }
  grep -q ' rdpeudp-responder ' "$RUN/pids" && { wait_for udp 20 listening udp u $TLS_PORT || { bad=1; log "RDPEUDP responder not listening on UDP $TLS_PORT"; }; }
  wait_for "Xvfb :$dcli" 10 test -S "/tmp/.X11-unix/X$dcli" || { bad=1; log "Xvfb :$dcli (client) did not start"; }
  while read -r pid name nsn; do
    alive "$pid" || { bad=1; log "$name ($nsn) exited; last log lines:"; tail -n 15 "$RUN/logs/$name.log" | sed 's/^/    /' >&2; }
  done <"$RUN/pids"
  ((bad == 0)) || die "lab is not healthy (logs in $RUN/logs; \`$0 down\` cleans up)"
  log "lab up: $(wc -l <"$RUN/pids") processes; client shell: $0 exec client bash"
}

# -------------------------------------------------------------------------------------------------------------- status
do_status() {
  need_root
  local ok=1 ns h pid name nsn
  if [[ ! -r $RUN/pids ]] && [[ -z $(lab_namespaces) ]]; then echo "lab: DOWN"; return 1; fi
  for ns in "${NAMESPACES[@]}"; do
    [[ -e /run/netns/$P-$ns ]] || { echo "MISSING namespace $P-$ns"; ok=0; }
  done
  printf '%-10s %-17s %-13s %-24s %s\n' HOST NAMESPACE ADDRESS NAME CHECK
  printf '%-10s %-17s %-13s %-24s %s\n' client "$P-client" 198.19.0.10 "client.$DOMAIN" \
    "$(listening client u 53 2>/dev/null && echo 'dns peer udp/53 ok' || { echo 'dns peer udp/53 DOWN'; })"
  listening client u 53 2>/dev/null || ok=0
  for h in "${HOSTS[@]}"; do
    local check
    case ${SERVICE[$h]} in
      xrdp-*|shadow-nla)
        if [[ -e /run/netns/$P-$h ]] && listening "$h" t $TLS_PORT; then
          check="${SERVICE[$h]} tcp/$TLS_PORT listening (backlog $(ss -N "$P-$h" -Hlnt "sport = :$TLS_PORT" | awk '{print $3; exit}'))"
        else check="${SERVICE[$h]} tcp/$TLS_PORT NOT LISTENING"; ok=0; fi ;;
      *) check="no listener (by design)" ;;
    esac
    if [[ $h == udp ]]; then
      if [[ -e /run/netns/$P-udp ]] && listening udp u $TLS_PORT; then check+="; udp/$TLS_PORT responder ok"
      elif grep -q ' rdpeudp-responder ' "$RUN/pids" 2>/dev/null; then check+="; udp/$TLS_PORT responder DOWN"; ok=0
      else check+="; no udp/$TLS_PORT responder ($UDP_PEER absent)"; fi
    fi
    printf '%-10s %-17s %-13s %-24s %s\n' "$h" "$P-$h" "$(addr "$h")" "$h.$DOMAIN" "$check"
  done
  echo
  echo "processes:"
  if [[ -r $RUN/pids ]]; then
    while read -r pid name nsn; do
      if alive "$pid"; then printf '  %-20s pid %-8s %s\n' "$name" "$pid" "$nsn"
      else printf '  %-20s pid %-8s %s  EXITED\n' "$name" "$pid" "$nsn"; ok=0; fi
    done <"$RUN/pids"
  fi
  echo
  echo "nft counters:"
  local rules want n
  for want in router:udpdrop:1 router:blackhole:1 wan:blackhole:1 filtered:filtered:2; do
    IFS=: read -r ns h n <<<"$want"
    rules=""
    [[ -e /run/netns/$P-$ns ]] && rules=$(ip netns exec "$P-$ns" nft list table inet "$P" 2>/dev/null \
      | grep -o "counter packets [0-9]* bytes [0-9]* .*comment \"$h:[^\"]*\"" || true)
    if [[ $(grep -c . <<<"$rules" || true) -ne $n ]]; then echo "  $P-$ns: MISSING nft rule(s) \"$h: …\""; ok=0; fi
    [[ -n $rules ]] && sed "s/^/  $P-$ns: /" <<<"$rules"
  done
  echo
  echo "learned path MTUs (flush with: $0 flush-pmtu):"
  local any=0 line dst
  for ns in "${NAMESPACES[@]}"; do
    [[ -e /run/netns/$P-$ns ]] || continue
    case $ns in
      client) dst=$(for h in "${HOSTS[@]}"; do addr "$h"; done) ;;
      router|wan) continue ;;
      *) dst=198.19.0.10 ;;
    esac
    for d in $dst; do
      line=$(ip -n "$P-$ns" -4 -o route get "$d" 2>/dev/null | tr -s ' \\\t' '   ' || true)
      [[ $line == *" mtu "* ]] && { echo "  $P-$ns: $line"; any=1; }
    done
  done
  ((any)) || echo "  none"
  [[ -r $RUN/state ]] && { echo; sed 's/^/state: /' "$RUN/state"; }
  echo
  if ((ok)); then echo "lab: UP"; return 0; else echo "lab: DEGRADED"; return 1; fi
}

do_flush_pmtu() {
  need_root
  local ns
  for ns in $(lab_namespaces); do
    ip -n "$ns" -4 route flush cache 2>/dev/null || true
    ip -n "$ns" tcp_metrics flush all 2>/dev/null || true
  done
}

usage() {
  sed -n '2,18p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Wait (up to $1 s) until no test run holds the shared users lock; fd 8 keeps the exclusive lock until we exit.
lock_users() {
  [[ ${RDPLAB_SKIP_USERS_LOCK:-} == 1 ]] && return 0
  exec 8>"$USERS_LOCK"
  flock -n -x 8 && return 0
  log "waiting up to $1 s for test runs using the lab to finish ($USERS_LOCK)"
  flock -w "$1" -x 8
}

cmd=${1:-}
case $cmd in
  up)
    need_root
    exec 9>"$LOCK"; flock -w 120 9 || die "another lab.sh up/down holds $LOCK"
    lock_users 300 || die "test runs still use the lab after 300 s; not rebuilding it under them"
    do_up ;;
  ensure)
    need_root
    exec 9>"$LOCK"; flock -w 300 9 || die "another lab.sh up/down holds $LOCK"
    if do_status >/dev/null 2>&1; then echo "lab: reused"; exit 0; fi
    lock_users 300 || die "test runs still use the (unhealthy) lab after 300 s; not rebuilding it under them"
    do_up
    echo "lab: started" ;;
  down)
    [[ $EUID -eq 0 ]] || { echo "lab: down needs root" >&2; exit 0; }
    exec 9>"$LOCK"; flock -w 120 9 || log "lock $LOCK busy; tearing down anyway"
    lock_users 60 || log "test runs still use the lab; tearing down anyway"
    do_down; exit 0 ;;
  status) do_status ;;
  flush-pmtu) do_flush_pmtu ;;
  exec)
    shift; [[ $# -ge 2 ]] || usage
    ns=$(nsname "$1"); shift
    [[ -e /run/netns/$ns ]] || die "namespace $ns does not exist (is the lab up? $0 up)"
    exec ip netns exec "$ns" "$@" ;;
  *) usage ;;
esac
