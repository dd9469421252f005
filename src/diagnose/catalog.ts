/**
 * The catalogue of causes: one row per cause (id, client error codes and whether each mapping is documented, FreeRDP
 * equivalent, category, title, explanation, which observation tells it apart, fixes per place). One rule in ./rules/
 * per row produces findings from an Observation. Sources for every code meaning: ./codes.ts SOURCES and ./sources.md.
 *
 * Fix texts are templates: {host} {port} {target} {mtu} {mss} {iface} {ipver} are filled from the observation; when a
 * value was not measured the placeholder stays visible (<N>, <MSS>, <if>). Within a cause the secure fix comes first;
 * a fix that weakens security or only hides the symptom has `workaround: true` and is rendered as such.
 */
import type { SourceId } from './codes.js';
import type { Category, ClientErrorRef, Fix } from './types.js';

export type CauseId =
  | 'dns-nxdomain'
  | 'dns-servfail'
  | 'dns-timeout'
  | 'tcp-refused'
  | 'tcp-filtered'
  | 'host-unreachable'
  | 'connect-error'
  | 'not-rdp'
  | 'unstable-network'
  | 'accepted-then-reset'
  | 'burst-refusal'
  | 'nla-required'
  | 'nla-unavailable'
  | 'tls-required'
  | 'rdp-security-only'
  | 'standard-rdp-security'
  | 'negotiation-refused'
  | 'client-cert-required'
  | 'mcs-rejected'
  | 'no-certificate'
  | 'tls-outdated'
  | 'tls-handshake-failed'
  | 'cert-expired'
  | 'cert-not-yet-valid'
  | 'cert-weak-key'
  | 'cert-name-mismatch'
  | 'credssp-logon-failure'
  | 'credssp-rejected'
  | 'credssp-outdated'
  | 'pmtu-black-hole'
  | 'pmtu-reduced'
  | 'udp-blocked'
  | 'udp-not-listening';

export interface Cause {
  id: CauseId;
  category: Category;
  title: string;
  /** Label used in the one-line verdict ("security layer mismatch"). */
  short: string;
  /** Microsoft client symptoms, most likely first. */
  clientErrors: ClientErrorRef[];
  freerdp?: string;
  explanation: string;
  /** Which observation tells this cause apart from the others behind the same code (for `rdprobe explain`). */
  tellApart: string;
  /** The probe that decides it when the evidence is not conclusive. */
  nextProbe?: string;
  fixes: Fix[];
  sources: SourceId[];
}

// Client error references, shared by several rows.
const E = {
  dns: { code: '0x104', extended: '0x0', documented: true },
  connect: { code: '0x204', documented: true },
  timeout: { code: '0x108', documented: false, note: 'when the client gives up before Winsock reports the failure' },
  reset4: { code: '0x4', extended: '0x0', documented: false, note: '0x4 is undocumented; inferred from reports' },
  byServer3: { code: '0x3', documented: false, note: '0x3 is documented ("by server"); its use here is inferred' },
  closed904: { code: '0x904', documented: false, note: '0x904 is documented ("socket closed"); its use here is inferred' },
  pair904: {
    code: '0x904',
    extended: '0x7',
    documented: false,
    note: 'both halves are documented; no Microsoft page defines the pair or ties it to this cause',
  },
} as const satisfies Record<string, ClientErrorRef>;

const GPO_RDSH = 'Computer Configuration\\Administrative Templates\\Windows Components\\Remote Desktop Services\\Remote Desktop Session Host';
const RDP_TCP = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp';
const TS = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server';
const SCHANNEL = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols';

const RESTART_TERMSERVICE =
  'Restart the Remote Desktop services: services.msc → "Remote Desktop Services" (TermService) and "Remote Desktop ' +
  'Services UserMode Port Redirector" (UmRdpService), or `Restart-Service TermService -Force` (UmRdpService depends on it).';
const REGEN_SELF_SIGNED =
  'Let Windows re-create its self-signed RDP certificate: certlm.msc → Remote Desktop → Certificates → delete the ' +
  'certificate issued to the host, then `Restart-Service TermService -Force`.';
const SET_THUMBPRINT =
  'Point RDP at a valid CA-issued certificate (private key present, Server Authentication EKU): ' +
  '`wmic /namespace:\\\\root\\cimv2\\TerminalServices PATH Win32_TSGeneralSetting Set SSLCertificateSHA1Hash="<thumbprint>"` ' +
  `(stored in ${RDP_TCP}\\SSLCertificateSHA1Hash), or the GPO "${GPO_RDSH}\\Security\\Server authentication certificate template".`;

export const CAUSES: readonly Cause[] = [
  // -------------------------------------------------------------------------------------------- name resolution
  {
    id: 'dns-nxdomain',
    category: 'name-resolution',
    title: 'The host name does not exist in DNS',
    short: 'DNS lookup failed',
    clientErrors: [E.dns],
    freerdp: 'ERRCONNECT_DNS_NAME_NOT_FOUND',
    explanation:
      'The resolver answered that the name does not exist (NXDOMAIN) or has no address record (NODATA). The client ' +
      'stops before sending anything to TCP 3389. Typical reasons: a short name without the DNS suffix, VPN split-DNS ' +
      'not applied, a stale or misspelt name in the .rdp file, or a host that never registered its record.',
    tellApart: 'dns.outcome = nxdomain/nodata (the resolver answered "no such name"); no TCP attempt follows',
    nextProbe: 'rdprobe probe <IP address>:{port}   (does the host answer by address?)',
    fixes: [
      { place: 'windows-client', text: 'Use the fully-qualified name (e.g. {host}.corp.example.com) or add the DNS suffix: `Set-DnsClientGlobalSetting -SuffixSearchList @("corp.example.com")`.' },
      { place: 'windows-client', text: 'Check which server answers: `Resolve-DnsName {host}` and `Resolve-DnsName {host} -Server <VPN DNS server>`; when on VPN, check the VPN pushed its DNS servers / split-DNS domain (`Get-DnsClientNrptPolicy`, `Get-DnsClientServerAddress`).' },
      { place: 'windows-client', text: 'Check the `full address:s:` line of the .rdp file for a stale or misspelt name.' },
      { place: 'linux-macos-client', text: 'Check the resolver path: `resolvectl query {host}` / `getent hosts {host}` (Linux), `dscacheutil -q host -a name {host}` (macOS); on VPN check the per-link DNS domains (`resolvectl status`).' },
      { place: 'windows-server', text: 'Make the host register its record: `ipconfig /registerdns` on the server, or add the A/AAAA record in the DNS zone.' },
      { place: 'windows-client', text: 'Connect by IP address, or add a hosts-file entry (C:\\Windows\\System32\\drivers\\etc\\hosts, /etc/hosts) — the certificate name will then not match.', workaround: true },
    ],
    sources: ['ms-ondisconnected', 'remoteapptool-57', 'protocol-notes'],
  },
  {
    id: 'dns-servfail',
    category: 'name-resolution',
    title: 'The DNS server failed to resolve the name',
    short: 'DNS lookup failed',
    clientErrors: [E.dns],
    freerdp: 'ERRCONNECT_DNS_ERROR',
    explanation:
      'The resolver returned SERVFAIL/REFUSED or another error: the DNS server itself could not answer (broken ' +
      'forwarder or delegation, DNSSEC validation failure, the server refuses recursion for this client). Not a ' +
      'statement that the name does not exist.',
    tellApart: 'dns.outcome = servfail/refused/error (the resolver failed, rather than answering "no such name")',
    nextProbe: 'rdprobe probe <IP address>:{port}   (does the host answer by address?)',
    fixes: [
      { place: 'windows-client', text: 'Ask another resolver to see whether the failure is resolver-specific: `Resolve-DnsName {host} -Server <other DNS server>`.' },
      { place: 'network', text: 'Fix the failing DNS server: check its forwarders / conditional forwarders for the zone, the zone delegation, DNSSEC validation, and that it allows recursion for the client\'s network.' },
      { place: 'linux-macos-client', text: '`dig {host}` and `dig @<other server> {host}` show which server returns SERVFAIL; `resolvectl status` shows which one is used per link.' },
      { place: 'windows-client', text: 'Connect by IP address (the certificate name will then not match).', workaround: true },
    ],
    sources: ['ms-ondisconnected', 'protocol-notes'],
  },
  {
    id: 'dns-timeout',
    category: 'name-resolution',
    title: 'The DNS server did not answer',
    short: 'DNS lookup failed',
    clientErrors: [E.dns],
    freerdp: 'ERRCONNECT_DNS_ERROR',
    explanation:
      'No DNS answer arrived in time: the configured DNS server is unreachable (VPN down or its DNS not reachable ' +
      'through the tunnel, UDP/TCP 53 filtered) or overloaded.',
    tellApart: 'dns.outcome = timeout (no answer at all, as opposed to an error answer)',
    nextProbe: 'rdprobe probe <IP address>:{port}   (does the host answer by address?)',
    fixes: [
      { place: 'windows-client', text: 'Check which DNS servers are configured and reachable: `Get-DnsClientServerAddress`, `Test-NetConnection <DNS server> -Port 53`; reconnect the VPN if its DNS server is the one not answering.' },
      { place: 'network', text: 'Allow UDP and TCP 53 from the client to its DNS servers (including through the VPN tunnel).' },
      { place: 'linux-macos-client', text: '`resolvectl status` (Linux) / `scutil --dns` (macOS) show the servers in use; `dig @<server> {host}` tests each.' },
      { place: 'windows-client', text: 'Connect by IP address (the certificate name will then not match).', workaround: true },
    ],
    sources: ['ms-ondisconnected', 'protocol-notes'],
  },
  // ------------------------------------------------------------------------------------------------ reachability
  {
    id: 'tcp-refused',
    category: 'reachability',
    title: 'Nothing accepts connections on the RDP port (TCP refused)',
    short: 'connection refused',
    clientErrors: [E.connect],
    freerdp: 'ERRCONNECT_CONNECT_FAILED',
    explanation:
      'The host answered the TCP SYN with a RST: it is up, but nothing listens on the port. Remote Desktop is disabled ' +
      '(fDenyTSConnections), the Remote Desktop Services service is stopped or its listener is bound to another port, ' +
      'or the client uses the wrong port. A firewall configured to reject (TCP reset) looks the same.',
    tellApart: 'tcp.outcome = refused (a RST came back at once)',
    fixes: [
      { place: 'windows-server', text: `Enable Remote Desktop: GPO "${GPO_RDSH}\\Connections\\Allow users to connect remotely by using Remote Desktop Services" = Enabled, or set ${TS}\\fDenyTSConnections = 0 (\`Set-ItemProperty 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server' -Name fDenyTSConnections -Value 0\`).` },
      { place: 'windows-server', text: 'Start the services: services.msc → "Remote Desktop Services" (TermService) and "Remote Desktop Services UserMode Port Redirector" (UmRdpService), or `Start-Service TermService`; check the listener with `netstat -ano | findstr :{port}` and `qwinsta` (rdp-tcp … Listen).' },
      { place: 'windows-server', text: `Check the listening port: ${RDP_TCP}\\PortNumber must be {port} (restart TermService after a change).` },
      { place: 'windows-client', text: 'Check the port in the .rdp file: `full address:s:{host}:<port>` (3389 when omitted).' },
      { place: 'network', text: 'If the server is listening, a firewall between is rejecting with TCP reset: look for reject/"reset-both" rules for TCP {port}.' },
    ],
    sources: ['ms-ondisconnected', 'wsdocs-0x204', 'protocol-notes'],
  },
  {
    id: 'tcp-filtered',
    category: 'reachability',
    title: 'No answer to the TCP SYN on the RDP port (filtered, or host off)',
    short: 'TCP port filtered',
    clientErrors: [E.connect, E.timeout],
    freerdp: 'ERRCONNECT_CONNECT_FAILED',
    explanation:
      'The TCP SYN got neither a SYN-ACK nor a RST nor an ICMP error: a firewall silently drops TCP on the port ' +
      '(Windows Firewall rule disabled, NSG/security group, perimeter firewall, missing port forward), or the host ' +
      'is off or asleep.',
    tellApart:
      'tcp.outcome = filtered/timeout (silence); an ICMP answer from the same host on UDP or to DF probes shows the ' +
      'host is up, i.e. a firewall',
    nextProbe: 'rdprobe probe {target} --udp --pmtu   (an ICMP or UDP answer shows the host is up)',
    fixes: [
      { place: 'windows-server', text: 'Allow inbound RDP in Windows Firewall: `netsh advfirewall firewall set rule group="remote desktop" new enable=Yes` (English group name; or `Enable-NetFirewallRule -DisplayGroup "Remote Desktop"`), or `netsh advfirewall firewall add rule name="RDP TCP {port}" dir=in action=allow protocol=TCP localport={port}`.' },
      { place: 'network', text: 'Allow TCP {port} from the client to the server on every firewall, NSG/security group and NAT port forward on the path.' },
      { place: 'windows-server', text: 'If the host may be asleep or off: wake it (Wake-on-LAN) and set the power plan so it does not sleep while it must accept RDP (`powercfg /change standby-timeout-ac 0`).' },
    ],
    sources: ['ms-ondisconnected', 'wsdocs-0x204', 'protocol-notes'],
  },
  {
    id: 'host-unreachable',
    category: 'reachability',
    title: 'The host or network is unreachable (ICMP unreachable / no route)',
    short: 'host unreachable',
    clientErrors: [E.connect],
    freerdp: 'ERRCONNECT_CONNECT_FAILED',
    explanation:
      'A router (or the local stack) reported that the host or its network cannot be reached: no route (VPN not ' +
      'connected or its routes not pushed), the host is down on its LAN (no ARP answer), or a router rejects the ' +
      'traffic with ICMP unreachable.',
    tellApart: 'tcp.outcome = unreachable (ICMP host/net unreachable or ENETUNREACH/EHOSTUNREACH locally)',
    fixes: [
      { place: 'windows-client', text: 'Check the route and where it stops: `Test-NetConnection {host} -Port {port} -TraceRoute`, `route print`; connect the VPN if the host is only reachable through it.' },
      { place: 'linux-macos-client', text: '`ip route get <address>` (Linux) / `route -n get <address>` (macOS) and `traceroute -T -p {port} {host}`.' },
      { place: 'network', text: 'Fix the routing towards the host (VPN routes, gateway, VLAN); an ICMP unreachable from a router names where it stops.' },
      { place: 'windows-server', text: 'Check the host is on and its address/gateway are correct.' },
    ],
    sources: ['ms-ondisconnected', 'protocol-notes'],
  },
  {
    id: 'connect-error',
    category: 'reachability',
    title: 'The TCP connection failed locally',
    short: 'connect failed',
    clientErrors: [{ code: '0x204', documented: false, note: 'Winsock connect failed; the local error class is inferred' }],
    freerdp: 'ERRCONNECT_CONNECT_FAILED',
    explanation:
      'connect() failed with an error that is neither refused, filtered nor unreachable (e.g. no local address of ' +
      'the right family, a local firewall or security product blocking outbound TCP, resource limits). The errno ' +
      'in the evidence says which.',
    tellApart: 'tcp.outcome = error with an errno other than ECONNREFUSED/ETIMEDOUT/EHOSTUNREACH',
    fixes: [
      { place: 'windows-client', text: 'Check local security software / outbound firewall rules for mstsc.exe and TCP {port}; `Test-NetConnection {host} -Port {port}`.' },
      { place: 'linux-macos-client', text: 'Check the local firewall (nft/iptables, macOS Application Firewall / Little Snitch) and that the host has an address of the target\'s family (IPv4 vs IPv6).' },
    ],
    sources: ['ms-ondisconnected'],
  },
  {
    id: 'not-rdp',
    category: 'reachability',
    title: 'Something other than an RDP server answers on this port',
    short: 'not an RDP listener',
    clientErrors: [
      { code: '0x4', extended: '0x0', documented: false, note: 'inferred: the client reads garbage and drops the connection' },
      E.closed904,
    ],
    freerdp: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED',
    explanation:
      'TCP connected, but the answer to the X.224 Connection Request is not an X.224 Connection Confirm: another ' +
      'service listens on the port (web server, SSH, a TLS-first proxy or an RD Gateway on 443), or a port forward ' +
      'points at the wrong host.',
    tellApart: 'x224.outcome = malformed (bytes came back, but not a TPKT/X.224 CC)',
    fixes: [
      { place: 'windows-client', text: 'Check the port in `full address:s:`; an RD Gateway (usually 443) must be configured as a gateway (`gatewayhostname:s:`, `gatewayusagemethod:i:1`), not as the target.' },
      { place: 'windows-server', text: 'Find what listens on the port: `Get-NetTCPConnection -LocalPort {port} -State Listen | Select-Object OwningProcess` then `Get-Process -Id <pid>`; move it or change the RDP port.' },
      { place: 'network', text: 'Check the NAT port forward / load balancer points TCP {port} at the RDP host, and that no TLS-inspecting proxy terminates it.' },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'protocol-notes'],
  },
  {
    id: 'unstable-network',
    category: 'reachability',
    title: 'Unstable network: loss or jitter on repeated handshakes',
    short: 'unstable network',
    clientErrors: [E.pair904, E.reset4, E.timeout],
    freerdp: 'ERRCONNECT_CONNECT_TRANSPORT_FAILED',
    explanation:
      'Repeated TCP handshakes (or pings) to the host lost packets or varied widely in round-trip time. Lost SYNs cost ' +
      'a 1 s retransmission each; loss during the handshake or session drops RDP connections intermittently ' +
      '(community reports attribute many 0x904/0x7 and 0x4 disconnects to lossy VPN/Wi-Fi/cellular paths).',
    tellApart: 'stability: lost > 0 or high rtt jitter over many samples, while single probes may succeed',
    nextProbe: 'rdprobe probe {target} --stability 20',
    fixes: [
      { place: 'network', text: 'Locate the loss: `mtr -rwc 100 {host}` (Linux/macOS) or `pathping {host}` (Windows); check Wi-Fi signal, cellular links, saturated uplinks (QoS for TCP/UDP {port}), duplex mismatches.' },
      { place: 'windows-client', text: 'Keep automatic reconnection on (`autoreconnection enabled:i:1` in the .rdp file) and prefer a wired connection.' },
      { place: 'windows-client', text: 'On lossy but otherwise open paths, allowing UDP {port} lets mstsc use RDP-UDP, which copes better with loss than TCP.' },
    ],
    sources: ['protocol-notes'],
  },
  // ------------------------------------------------------------------------------------------------ server load
  {
    id: 'accepted-then-reset',
    category: 'server-load',
    title: 'TCP accepted, then reset/closed during connection setup',
    short: 'connection reset during setup',
    clientErrors: [E.reset4, E.byServer3, E.closed904],
    freerdp: 'ERRCONNECT_CONNECT_TRANSPORT_FAILED',
    explanation:
      'The host completed the TCP handshake but reset or closed the connection (or never answered) before the X.224 ' +
      'negotiation finished. Typical reasons: the Remote Desktop service is hung (TCP is still accepted by the ' +
      'kernel), the server refuses new pre-logon connections (MaxOutstandingConnections exhausted, e.g. by scanners ' +
      'or brute-force traffic), the host is going to sleep, or an IPS/firewall resets RDP by application signature.',
    tellApart:
      'tcp.outcome = open and x224.outcome = reset/closed/timeout; a burst test separates load (resets only under ' +
      'concurrency) from a hung service (every connection)',
    nextProbe: 'rdprobe probe {target} --burst 20 --stability 20',
    fixes: [
      { place: 'windows-server', text: `${RESTART_TERMSERVICE} Check the System log for TermService errors and for warnings about a large number of incomplete connections.` },
      { place: 'windows-server', text: `If connections are dropped under load: raise ${TS}\\MaxOutstandingConnections (DWORD, then restart TermService) — and first stop the flood: do not expose {port} to the Internet (RD Gateway or VPN), allow-list client networks.` },
      { place: 'network', text: 'Check IPS / next-generation firewall logs for resets of TCP {port} (application "ms-rdp" blocked, geo or reputation rules).' },
      { place: 'windows-server', text: 'If the host sleeps/hibernates, 0x4 and 0x204 alternate: disable sleep on a host that must accept RDP.' },
    ],
    sources: ['rdpwrap-0x4', 'xrdp-0x4', 'vswitchzero-0x4', 'protocol-notes'],
  },
  {
    id: 'burst-refusal',
    category: 'server-load',
    title: 'The server refuses or resets connections under concurrent load',
    short: 'refuses concurrent connections',
    clientErrors: [E.reset4, { code: '0x204', documented: false, note: 'when the backlog overflows and SYNs are refused' }],
    freerdp: 'ERRCONNECT_CONNECT_TRANSPORT_FAILED',
    explanation:
      'During the opt-in burst test, part of the concurrent connections were refused, reset or never negotiated, ' +
      'while a single connection works. Windows limits connections that have not yet logged on ' +
      '(MaxOutstandingConnections); small listen backlogs (xrdp: 2) overflow too. Real users then fail when many ' +
      'connect at once (morning logon storm, VDI pools) or when scanners/brute-force traffic fill the queue.',
    tellApart: 'burst: accepted < connections or negotiated < accepted, while the single probe negotiated normally',
    nextProbe: 'rdprobe probe {target} --burst 50',
    fixes: [
      { place: 'windows-server', text: 'Find who fills the pre-logon queue: Security log event 4625 storms (failed logons), `Get-NetTCPConnection -LocalPort {port}` counts by remote address; block or allow-list at the firewall, put RDP behind RD Gateway or VPN.' },
      { place: 'windows-server', text: `Raise ${TS}\\MaxOutstandingConnections (DWORD) if legitimate concurrency exceeds it, then \`Restart-Service TermService -Force\`.` },
      { place: 'network', text: 'Check connection-rate limits / IPS thresholds on TCP {port} that reset concurrent RDP connections.' },
    ],
    sources: ['lab-notes', 'protocol-notes'],
  },
  // ----------------------------------------------------------------------------------------- security negotiation
  {
    id: 'nla-required',
    category: 'security-negotiation',
    title: 'The server requires NLA (CredSSP); the client does not offer it',
    short: 'security layer mismatch',
    clientErrors: [{ ...E.reset4, note: '0x4 is undocumented; the client may instead show "The remote computer requires Network Level Authentication"' }],
    freerdp: 'ERRCONNECT_HYBRID_REQUIRED_BY_SERVER',
    explanation:
      'The server answered the client\'s offer with RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER: Network Level ' +
      'Authentication is required, and the client offered TLS and/or Standard RDP Security only (NLA switched off, ' +
      'e.g. enablecredsspsupport:i:0 or FreeRDP /sec:tls).',
    tellApart: 'RDP_NEG_FAILURE code 5 for the client\'s offer (protocols.SSL / protocols.RDP = failure HYBRID_REQUIRED_BY_SERVER)',
    fixes: [
      { place: 'windows-client', text: 'Turn NLA back on: in the .rdp file set `enablecredsspsupport:i:1` (remove `enablecredsspsupport:i:0`), keep `authentication level:i:2`.' },
      { place: 'linux-macos-client', text: 'FreeRDP: drop `/sec:tls`, `/sec:rdp` or `-sec-nla` so NLA is offered (or use `/sec:nla`) and pass `/u:`, `/d:`, `/p:`; Windows App on macOS: import an .rdp file with `enablecredsspsupport:i:1`.' },
      { place: 'windows-server', text: `Disable the NLA requirement: GPO "${GPO_RDSH}\\Security\\Require user authentication for remote connections by using Network Level Authentication" = Disabled, or ${RDP_TCP}\\UserAuthentication = 0. Weakens security: the logon screen becomes reachable without authentication (pre-auth attack surface, resource exhaustion).`, workaround: true },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'freerdp-nego', 'freerdp-error-h', 'protocol-notes'],
  },
  {
    id: 'nla-unavailable',
    category: 'security-negotiation',
    title: 'The client insists on NLA; the server supports TLS but not CredSSP',
    short: 'security layer mismatch',
    clientErrors: [E.reset4],
    freerdp: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED',
    explanation:
      'The client offered CredSSP only and the server answered SSL_REQUIRED_BY_SERVER ("if the client requested only ' +
      'CredSSP, the server supports only TLS", MS-RDPBCGR 2.2.1.2.2). NLA is off on the server, or the server cannot ' +
      'do CredSSP at all (xrdp has no CredSSP).',
    tellApart: 'RDP_NEG_FAILURE code 1 when only HYBRID is offered (protocols.HYBRID = failure SSL_REQUIRED_BY_SERVER)',
    fixes: [
      { place: 'windows-server', text: `Enable NLA: GPO "${GPO_RDSH}\\Security\\Require user authentication for remote connections by using Network Level Authentication" = Enabled, or ${RDP_TCP}\\UserAuthentication = 1; SecurityLayer (same key) 1 (Negotiate) or 2 (SSL).` },
      { place: 'linux-macos-client', text: 'FreeRDP: allow TLS without NLA for this host with `/sec:tls` (xrdp cannot do NLA; the password is then typed into the remote logon screen).', workaround: true },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'freerdp-nego', 'lab-notes'],
  },
  {
    id: 'tls-required',
    category: 'security-negotiation',
    title: 'The server requires TLS; the client offers Standard RDP Security only',
    short: 'security layer mismatch',
    clientErrors: [E.reset4],
    freerdp: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED',
    explanation:
      'The server answered SSL_REQUIRED_BY_SERVER to a request without TLS: it requires Enhanced RDP Security (TLS ' +
      'or CredSSP) and the client is set to Standard RDP Security only (e.g. FreeRDP /sec:rdp).',
    tellApart: 'RDP_NEG_FAILURE code 1 for requestedProtocols = 0 (protocols.RDP = failure SSL_REQUIRED_BY_SERVER)',
    fixes: [
      { place: 'linux-macos-client', text: 'FreeRDP: drop `/sec:rdp` (default negotiation offers TLS and NLA), or use `/sec:tls` / `/sec:nla`.' },
      { place: 'windows-client', text: 'Use a client/profile that offers TLS (mstsc does by default).' },
      { place: 'windows-server', text: `Allow Standard RDP Security: GPO "${GPO_RDSH}\\Security\\Require use of specific security layer for remote (RDP) connections" = Negotiate, or ${RDP_TCP}\\SecurityLayer = 1. Weakens security (RC4, no server authentication).`, workaround: true },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'freerdp-nego'],
  },
  {
    id: 'rdp-security-only',
    category: 'security-negotiation',
    title: 'The server offers only Standard RDP Security; the client requires TLS/NLA',
    short: 'security layer mismatch',
    clientErrors: [E.reset4],
    freerdp: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED',
    explanation:
      'The server refused TLS (SSL_NOT_ALLOWED_BY_SERVER), answered TLS requests by selecting PROTOCOL_RDP, or ' +
      'ignored the negotiation (legacy Connection Confirm): it is configured for Standard RDP Security only ' +
      '(SecurityLayer=0, xrdp security_layer=rdp, or a pre-Vista server), and this client will not use it.',
    tellApart: 'protocols.SSL = failure SSL_NOT_ALLOWED_BY_SERVER or not-selected (selected RDP), or x224.outcome = legacy',
    fixes: [
      { place: 'windows-server', text: `Require TLS: GPO "${GPO_RDSH}\\Security\\Require use of specific security layer for remote (RDP) connections" = SSL (or Negotiate), or ${RDP_TCP}\\SecurityLayer = 2 (1 = Negotiate); then enable NLA. xrdp: \`security_layer=tls\` (or negotiate) with \`certificate=\`/\`key_file=\` in xrdp.ini.` },
      { place: 'linux-macos-client', text: 'FreeRDP: `/sec:rdp` connects with Standard RDP Security (RC4, no server authentication, credentials exposed to a man in the middle).', workaround: true },
      { place: 'windows-client', text: 'mstsc falls back to Standard RDP Security by itself unless server authentication is required (`authentication level:i:1`); `authentication level:i:2` (warn) lets it connect after a warning.', workaround: true },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'freerdp-nego', 'lab-notes'],
  },
  {
    id: 'standard-rdp-security',
    category: 'security-negotiation',
    title: 'The session would use Standard RDP Security (no TLS)',
    short: 'Standard RDP Security',
    clientErrors: [],
    explanation:
      'This client connects, but only with Standard RDP Security: RC4 encryption and no server authentication, so ' +
      'a man in the middle can read the credentials. mstsc shows an "identity of the remote computer cannot be ' +
      'verified" warning.',
    tellApart: 'the client\'s offer ends on selectedProtocol RDP (protocols.SSL not accepted, or legacy CC)',
    fixes: [
      { place: 'windows-server', text: `Require TLS and NLA: ${RDP_TCP}\\SecurityLayer = 2 and UserAuthentication = 1 (GPO "${GPO_RDSH}\\Security\\Require use of specific security layer for remote (RDP) connections" = SSL, and "Require user authentication … Network Level Authentication" = Enabled). xrdp: \`security_layer=tls\`.` },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'lab-notes'],
  },
  {
    id: 'negotiation-refused',
    category: 'security-negotiation',
    title: 'The server refused the security negotiation (inconsistent or unknown answer)',
    short: 'security negotiation failed',
    clientErrors: [E.reset4],
    freerdp: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED',
    explanation:
      'The server answered with INCONSISTENT_FLAGS, an unknown failure code, or selected a protocol the client did ' +
      'not offer. This usually means a non-Windows RDP server, gateway or proxy with its own rules, or a broken ' +
      'listener configuration.',
    tellApart: 'RDP_NEG_FAILURE code 4 / unknown code, or selectedProtocol outside the client\'s offer',
    nextProbe: 'rdprobe probe {target}   (per-protocol enumeration shows what the server accepts alone)',
    fixes: [
      { place: 'windows-server', text: `Check the listener's security settings (${RDP_TCP}\\SecurityLayer, UserAuthentication) and that one consistent GPO applies; update third-party RDP servers/gateways.` },
      { place: 'linux-macos-client', text: 'Try each layer alone to find what the server accepts: FreeRDP `/sec:nla`, `/sec:tls`, `/sec:rdp`.' },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'freerdp-nego'],
  },
  // ------------------------------------------------------------------------------------------------ server policy
  {
    id: 'client-cert-required',
    category: 'server-policy',
    title: 'The server requires TLS with client-certificate authentication',
    short: 'server policy refusal',
    clientErrors: [E.reset4],
    freerdp: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED',
    explanation:
      'The server answered SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: it accepts only TLS connections authenticated with ' +
      'a client certificate, which standard RDP clients do not present.',
    tellApart: 'RDP_NEG_FAILURE code 6 (SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER)',
    fixes: [
      { place: 'windows-server', text: 'Check the server/gateway policy that demands TLS client authentication; use NLA (CredSSP, optionally with smart-card credentials) instead for standard clients.' },
    ],
    sources: ['ms-rdpbcgr-negfailure'],
  },
  {
    id: 'mcs-rejected',
    category: 'server-policy',
    title: 'The server refused the connection at the MCS/GCC stage (server denied)',
    short: 'server denied the connection',
    clientErrors: [
      { ...E.pair904, note: 'the extended 0x7 (server denied) is documented; that this refusal surfaces as 0x904/0x7 is inferred' },
      E.byServer3,
    ],
    freerdp: 'ERRCONNECT_MCS_CONNECT_INITIAL_ERROR',
    explanation:
      'Security negotiation succeeded, but the server rejected or dropped the MCS Connect-Initial: a server-side ' +
      'policy refuses the client (encryption level FIPS-only, connection limit reached, licensing/deny policy), or ' +
      'the server is a variant that rejects our GCC data.',
    tellApart: 'mcs.outcome = rejected (Connect-Response result ≠ rt-successful) or closed/reset right after Connect-Initial',
    fixes: [
      { place: 'windows-server', text: `Check "${GPO_RDSH}\\Security\\Set client connection encryption level" (FIPS-only rejects clients without FIPS), "${GPO_RDSH}\\Connections\\Limit number of connections", and the RD Licensing mode; the System log records the refusal.` },
      { place: 'windows-server', text: 'Check the RemoteDesktopServices-RdpCoreTS / TerminalServices-RemoteConnectionManager operational logs for the refused connection.' },
    ],
    sources: ['ms-extended', 'ms-rdpbcgr-errinfo', 'protocol-notes'],
  },
  // ----------------------------------------------------------------------------------------------------------- TLS
  {
    id: 'no-certificate',
    category: 'tls',
    title: 'The server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER)',
    short: 'no server certificate',
    clientErrors: [E.reset4],
    freerdp: 'ERRCONNECT_TLS_CONNECT_FAILED',
    explanation:
      'The server answered RDP_NEG_FAILURE SSL_CERT_NOT_ON_SERVER: it cannot start TLS/CredSSP because its ' +
      'certificate is missing, has no readable private key, or the configured thumbprint points nowhere.',
    tellApart: 'RDP_NEG_FAILURE code 3 for any offer with SSL/HYBRID',
    fixes: [
      { place: 'windows-server', text: REGEN_SELF_SIGNED },
      { place: 'windows-server', text: SET_THUMBPRINT },
      { place: 'windows-server', text: 'If the key is unreadable: NETWORK SERVICE needs read access to the certificate\'s private key (certlm.msc → Manage Private Keys, files under C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys).' },
      { place: 'windows-server', text: `Allow Standard RDP Security until the certificate is fixed: ${RDP_TCP}\\SecurityLayer = 0 (no TLS, no NLA: weak).`, workaround: true },
    ],
    sources: ['ms-rdpbcgr-negfailure', 'freerdp-nego'],
  },
  {
    id: 'tls-outdated',
    category: 'tls',
    title: 'No TLS version in common: the server offers only outdated TLS',
    short: 'outdated TLS',
    clientErrors: [E.reset4, { ...E.closed904 }],
    freerdp: 'ERRCONNECT_TLS_CONNECT_FAILED',
    explanation:
      'The server accepts only TLS 1.0/1.1 (or otherwise none of the versions this client offers). Current clients ' +
      'disable TLS < 1.2 (OpenSSL 3 security levels, Apple platforms, Windows builds with TLS 1.0/1.1 off), so the ' +
      'TLS handshake fails right after the negotiation succeeded. The fix is on the outdated side.',
    tellApart: 'tls.versions: only TLSv1/TLSv1.1 accepted (or no overlap with the client\'s versions); x224 succeeded',
    fixes: [
      { place: 'windows-server', text: `Enable TLS 1.2 for RDP: install current updates (Windows 7 / Server 2008 R2 need KB3080079 for TLS 1.1/1.2 in RDP), and set ${SCHANNEL}\\TLS 1.2\\Server Enabled = 1, DisabledByDefault = 0; reboot. xrdp: \`ssl_protocols=TLSv1.2, TLSv1.3\`.` },
      { place: 'windows-client', text: `Re-enable TLS 1.0 on the client: ${SCHANNEL}\\TLS 1.0\\Client Enabled = 1, DisabledByDefault = 0 (re-opens deprecated TLS for every client application).`, workaround: true },
      { place: 'linux-macos-client', text: 'FreeRDP: `/tls:seclevel:0` (FreeRDP 3; `/tls-seclevel:0` in 2.x) accepts old TLS versions and weak keys for this connection.', workaround: true },
    ],
    sources: ['protocol-notes'],
  },
  {
    id: 'tls-handshake-failed',
    category: 'tls',
    title: 'The TLS handshake is refused or abandoned by the server',
    short: 'TLS handshake failed',
    clientErrors: [E.pair904, E.reset4],
    freerdp: 'ERRCONNECT_TLS_CONNECT_FAILED',
    explanation:
      'After a successful X.224 negotiation the server answered the ClientHello with a TLS alert, closed/reset the ' +
      'connection, or stopped mid-handshake for a reason other than the path MTU. Common server-side reasons: a ' +
      'corrupt RDP certificate or an unreadable private key (MachineKeys permissions), no cipher suite in common ' +
      '(hardened SSL Cipher Suite Order), or a TLS-inspecting middlebox. Community reports attribute 0x904/0x7 to ' +
      'these [unconfirmed].',
    tellApart: 'tls.outcome = alert/closed/reset right after ClientHello (or stalled while the MSS-clamped retry also stalls)',
    fixes: [
      { place: 'windows-server', text: 'Read the System log for Schannel errors (36871 "fatal error while creating a TLS server credential", 36874 no cipher suite in common) and TermService warnings.' },
      { place: 'windows-server', text: REGEN_SELF_SIGNED },
      { place: 'windows-server', text: 'Check the cipher suite policy: GPO "Computer Configuration\\Administrative Templates\\Network\\SSL Configuration Settings\\SSL Cipher Suite Order" must keep ECDHE-RSA AES-GCM suites enabled.' },
      { place: 'network', text: 'Exempt TCP {port} from TLS inspection on proxies/firewalls between client and server.' },
    ],
    sources: ['protocol-notes', 'ironrdp-1469'],
  },
  {
    id: 'cert-expired',
    category: 'tls',
    title: 'The server certificate has expired',
    short: 'certificate expired',
    clientErrors: [
      { ...E.pair904, note: 'community reports tie expired/corrupt RDP certificates to 0x904/0x7 [unconfirmed]' },
    ],
    freerdp: 'ERRCONNECT_TLS_CONNECT_FAILED',
    explanation:
      'The certificate presented on TLS is past its notAfter date. mstsc shows a certificate warning (and refuses ' +
      'when server authentication is required); FreeRDP prompts or fails non-interactively. Windows renews its ' +
      'self-signed RDP certificate on its own, so an expired one usually is a CA-issued certificate configured by ' +
      'thumbprint.',
    tellApart: 'tls.certificate.expired = true (notAfter before the probe time)',
    fixes: [
      { place: 'windows-server', text: SET_THUMBPRINT },
      { place: 'windows-server', text: REGEN_SELF_SIGNED },
      { place: 'windows-server', text: 'xrdp servers: renew the certificate/key named in xrdp.ini (`certificate=`, `key_file=`) and restart xrdp.' },
    ],
    sources: ['protocol-notes'],
  },
  {
    id: 'cert-not-yet-valid',
    category: 'tls',
    title: 'The server certificate is not valid yet (clock problem)',
    short: 'certificate not yet valid',
    clientErrors: [{ ...E.pair904, note: 'inferred, as for an expired certificate' }],
    freerdp: 'ERRCONNECT_TLS_CONNECT_FAILED',
    explanation:
      'The certificate\'s notBefore is in the future as seen from this client: either the client clock is behind, or ' +
      'the server (or CA) clock was ahead when the certificate was issued. Clock skew also breaks Kerberos for NLA.',
    tellApart: 'tls.certificate.notYetValid = true; credssp.ntlm.clockSkewMs shows whose clock is off',
    fixes: [
      { place: 'windows-client', text: 'Fix the client clock: `w32tm /resync` (domain) or sync with an NTP source; compare with the server: `w32tm /stripchart /computer:{host} /samples:3`.' },
      { place: 'windows-server', text: 'Fix the server clock (`w32tm /query /status`), then re-issue the certificate if it was minted with a wrong clock (see the certificate fixes).' },
      { place: 'linux-macos-client', text: 'Check the client clock: `timedatectl` (Linux), `sntp -sS time.apple.com` (macOS).' },
    ],
    sources: ['protocol-notes'],
  },
  {
    id: 'cert-weak-key',
    category: 'tls',
    title: 'The server certificate key is too weak for this client',
    short: 'weak certificate key',
    clientErrors: [{ code: '0x904', documented: false, note: 'inferred: the TLS handshake is abandoned by the client' }],
    freerdp: 'ERRCONNECT_TLS_CONNECT_FAILED',
    explanation:
      'The certificate uses an RSA key under 2048 bits (or a comparable weak key). OpenSSL 3 at the distributions\' ' +
      'default security level (FreeRDP) and Apple platforms refuse such keys; mstsc still accepts them.',
    tellApart: 'tls.certificate.keyType = RSA with keyBits < 2048',
    fixes: [
      { place: 'windows-server', text: `Replace the certificate with an RSA ≥ 2048 (or ECDSA P-256) one. ${REGEN_SELF_SIGNED} ${SET_THUMBPRINT}` },
      { place: 'windows-server', text: 'xrdp servers: `openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN={host}" -keyout /etc/xrdp/key.pem -out /etc/xrdp/cert.pem`, then restart xrdp.' },
      { place: 'linux-macos-client', text: 'FreeRDP: `/tls:seclevel:0` (FreeRDP 3; `/tls-seclevel:0` in 2.x) accepts the weak key for this connection.', workaround: true },
    ],
    sources: ['protocol-notes'],
  },
  {
    id: 'cert-name-mismatch',
    category: 'tls',
    title: 'The certificate does not name the host the client connects to',
    short: 'certificate name mismatch',
    clientErrors: [],
    explanation:
      'Neither the subject CN nor the subjectAltName entries match the name (or address) used to connect. mstsc ' +
      'shows a warning and refuses when server authentication is required (`authentication level:i:1`); FreeRDP ' +
      'prompts. Self-signed RDP certificates carry only the computer name, so connecting by IP or by an alias always ' +
      'mismatches.',
    tellApart: 'tls.certificate.subjectCN / san vs source.host',
    fixes: [
      { place: 'windows-server', text: `Issue a certificate whose subjectAltName contains {host} (and every alias users type) and assign it to RDP: ${SET_THUMBPRINT}` },
      { place: 'windows-client', text: 'Connect with the name the certificate carries (see the evidence), e.g. the FQDN instead of an IP or alias.' },
      { place: 'linux-macos-client', text: 'FreeRDP: `/cert:tofu` pins the certificate on first use instead of failing on the name.', workaround: true },
    ],
    sources: ['protocol-notes'],
  },
  // --------------------------------------------------------------------------------------------- NLA / credentials
  {
    id: 'credssp-logon-failure',
    category: 'nla-credentials',
    title: 'NLA (CredSSP) authentication was rejected',
    short: 'NLA logon failed',
    clientErrors: [{ code: '0x807', documented: false, note: 'SSL_ERR_* codes are documented; the NTSTATUS → code pairing is inferred from the names' }],
    freerdp: 'ERRCONNECT_LOGON_FAILURE',
    explanation:
      'The server rejected the credentials during CredSSP: the TSRequest errorCode (NTSTATUS) names why (wrong ' +
      'password, locked or disabled account, expired password, logon right missing). Some servers instead close the ' +
      'TLS session straight after the NTLM AUTHENTICATE without an errorCode (FreeRDP-based servers, measured) or ' +
      'answer with a TLS alert (Windows 2008 R2).',
    tellApart: 'credssp.auth.errorCode (NTSTATUS) or credssp.auth.outcome = closed/alert right after AUTHENTICATE',
    nextProbe: 'rdprobe probe {target} --user <DOMAIN\\user>',
    fixes: [
      { place: 'windows-client', text: 'Check the user name format: `DOMAIN\\user` or `user@domain.tld`, `.\\user` for a local account, `AzureAD\\user@domain.tld` for Entra ID-joined targets; clear saved credentials (Credential Manager → Windows Credentials → TERMSRV/{host}).' },
      { place: 'windows-server', text: 'Check the account in AD/local users (locked, disabled, expired, password change required) and that it may log on through RDP: member of "Remote Desktop Users" and GPO "Computer Configuration\\Windows Settings\\Security Settings\\Local Policies\\User Rights Assignment\\Allow log on through Remote Desktop Services". The Security log (event 4625) gives the sub-status.' },
    ],
    sources: ['ms-ondisconnected', 'ms-cssp', 'freerdp-nla', 'wsdocs-0x807', 'lab-notes', 'ironrdp-1469'],
  },
  {
    id: 'credssp-rejected',
    category: 'nla-credentials',
    title: 'The server aborted CredSSP before authentication',
    short: 'CredSSP refused',
    clientErrors: [
      { code: '0x904', documented: false, note: 'inferred; mstsc may instead show "An authentication error has occurred"' },
      E.reset4,
    ],
    freerdp: 'ERRCONNECT_AUTHENTICATION_FAILED',
    explanation:
      'TLS worked, but the server closed, reset or alerted on the CredSSP exchange at the NTLM NEGOTIATE/CHALLENGE ' +
      'step, before any credentials were checked. Typical reasons: NTLM is blocked on the server ("Restrict NTLM: ' +
      'Incoming NTLM traffic" = Deny) so only Kerberos works, or a CredSSP policy mismatch.',
    tellApart: 'credssp.outcome = closed/reset/alert with no TSRequest answer (no NTLM CHALLENGE)',
    fixes: [
      { place: 'windows-client', text: 'Use Kerberos: connect by the FQDN from a domain-joined client that can reach a domain controller (NTLM-only fallback is blocked).' },
      { place: 'windows-server', text: 'Check "Computer Configuration\\Windows Settings\\Security Settings\\Local Policies\\Security Options\\Network security: Restrict NTLM: Incoming NTLM traffic" and the Microsoft-Windows-NTLM/Operational log for blocked requests.' },
    ],
    sources: ['ms-cssp', 'protocol-notes'],
  },
  {
    id: 'credssp-outdated',
    category: 'nla-credentials',
    title: 'The server runs an unpatched CredSSP (CVE-2018-0886, encryption oracle remediation)',
    short: 'CredSSP encryption oracle remediation',
    clientErrors: [],
    explanation:
      'The server answered with a CredSSP TSRequest version below 5, i.e. without the CVE-2018-0886 fix. Updated ' +
      'Windows clients (policy default "Mitigated") refuse it with "An authentication error has occurred … This ' +
      'could be due to CredSSP encryption oracle remediation" — a dialog, not a disconnect code.',
    tellApart: 'credssp.version < 5 (assuming the probe offered version ≥ 5)',
    fixes: [
      { place: 'windows-server', text: 'Install the CredSSP update (March 2018 or any later cumulative update) on the server and reboot.' },
      { place: 'windows-client', text: 'Temporarily allow unpatched servers: GPO "Computer Configuration\\Administrative Templates\\System\\Credentials Delegation\\Encryption Oracle Remediation" = Enabled, Protection Level "Vulnerable" (HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\CredSSP\\Parameters\\AllowEncryptionOracle = 2). Re-opens CVE-2018-0886; revert after patching.', workaround: true },
    ],
    sources: ['ms-cssp', 'ms-credssp-cve-2018-0886'],
  },
  // ------------------------------------------------------------------------------------------------------ path MTU
  {
    id: 'pmtu-black-hole',
    category: 'path-mtu',
    title: 'Path MTU black hole: large packets are dropped without ICMP',
    short: 'PMTU black hole',
    clientErrors: [E.pair904, E.reset4],
    freerdp: 'ERRCONNECT_CONNECT_TRANSPORT_FAILED',
    explanation:
      'Small packets pass (TCP handshake, X.224), but the server\'s first large flight (TLS ServerHello + ' +
      'Certificate) never arrives: a link on the path (typically a VPN tunnel) has a smaller MTU and the ICMP ' +
      '"fragmentation needed" that would tell the server to send smaller segments is dropped. The client waits, ' +
      'times out or is reset. Lowering the MTU/MSS makes the server send segments that fit.',
    tellApart:
      'tcp open + x224 ok, then tls.outcome = stalled/timeout with the server flight cut short; DF probes above a size ' +
      'are lost without ICMP (pmtu.outcome = black-hole) or the handshake completes with a clamped MSS (pmtu.mssClamp)',
    nextProbe: 'rdprobe probe {target} --pmtu',
    fixes: [
      { place: 'network', text: 'Clamp the TCP MSS on the VPN gateway/router: `iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss {mss}` (or `--clamp-mss-to-pmtu`); nftables: `nft add rule inet filter forward tcp flags syn tcp option maxseg size set {mss}` (or `… size set rt mtu`). Also let ICMP "fragmentation needed" (type 3 code 4) / ICMPv6 "packet too big" through every firewall.' },
      { place: 'windows-client', text: 'Lower the MTU of the VPN adapter: `netsh interface {ipver} set subinterface "<VPN adapter>" mtu={mtu} store=persistent` (names: `netsh interface {ipver} show subinterfaces`).' },
      { place: 'linux-macos-client', text: 'Lower the interface MTU: `sudo ip link set dev {iface} mtu {mtu}` (Linux) or `sudo ifconfig {iface} mtu {mtu}` (macOS); on Linux `sudo sysctl -w net.ipv4.tcp_mtu_probing=1` also lets TCP recover from black holes by itself.' },
      { place: 'windows-server', text: 'If clients cannot be changed: lower the MTU of the server\'s tunnel/uplink adapter the same way (`netsh interface {ipver} set subinterface "<adapter>" mtu={mtu} store=persistent`).' },
    ],
    sources: ['freerdp-6814', 'freerdp-3641', 'lab-notes', 'protocol-notes'],
  },
  {
    id: 'pmtu-reduced',
    category: 'path-mtu',
    title: 'The path MTU is below the local MTU (PMTU discovery works)',
    short: 'reduced path MTU',
    clientErrors: [],
    explanation:
      'A link on the path has a smaller MTU, and routers report it with ICMP "fragmentation needed", so TCP adapts. ' +
      'No error today; if a firewall starts dropping that ICMP, the path becomes a black hole. MSS clamping on the ' +
      'tunnel makes it robust.',
    tellApart: 'pmtu.outcome = measured with pathMtu < localMtu (frag-needed answers arrived)',
    fixes: [
      { place: 'network', text: 'Optional hardening: clamp the TCP MSS on the tunnel (`iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`) and keep ICMP type 3 code 4 allowed.' },
    ],
    sources: ['protocol-notes'],
  },
  // ------------------------------------------------------------------------------------------------- UDP transport
  {
    id: 'udp-blocked',
    category: 'udp-transport',
    title: 'UDP to the RDP port is dropped while TCP works',
    short: 'UDP transport dropped',
    clientErrors: [
      { ...E.pair904, note: 'inferred from community reports; normally mstsc falls back to TCP silently after a UDP handshake timeout' },
    ],
    explanation:
      'The server offers the UDP transport (multitransport) but the MS-RDPEUDP SYN got no answer: UDP to the port ' +
      'is filtered on the path. mstsc tries UDP after the TCP session is up; usually it falls back to TCP (the server ' +
      'logs "UDP Handshake Timeout"), but UDP that works partly (NAT timeouts, dropped large datagrams) can make ' +
      'sessions drop with 0x904/0x7. Only mstsc uses RDP-UDP against a plain host; macOS and FreeRDP clients do not.',
    tellApart: 'udp.outcome = silent while tcp.outcome = open (and mcs.multitransport offers UDP)',
    nextProbe: 'rdprobe probe {target} --udp',
    fixes: [
      { place: 'network', text: 'Allow UDP {port} between client and server in both directions (stateful), on firewalls, NSGs and NAT port forwards.' },
      { place: 'windows-server', text: 'Allow UDP in Windows Firewall: `Enable-NetFirewallRule -DisplayGroup "Remote Desktop"` (includes the UDP rule) or `netsh advfirewall firewall add rule name="RDP UDP {port}" dir=in action=allow protocol=UDP localport={port}`.' },
      { place: 'windows-client', text: 'Force TCP on the client: GPO "Computer Configuration\\Administrative Templates\\Windows Components\\Remote Desktop Services\\Remote Desktop Connection Client\\Turn Off UDP On Client" = Enabled, or HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services\\Client\\fClientDisableUDP = 1 (DWORD). Loses UDP\'s performance, not security.', workaround: true },
      { place: 'windows-server', text: `Force TCP for all clients: GPO "${GPO_RDSH}\\Connections\\Select RDP transport protocols" = Use only TCP.`, workaround: true },
    ],
    sources: ['ms-avd-shortpath', 'freerdp-4059', 'macrdp-73', 'protocol-notes'],
  },
  {
    id: 'udp-not-listening',
    category: 'udp-transport',
    title: 'Nothing listens on UDP at the RDP port (ICMP port unreachable)',
    short: 'no UDP transport',
    clientErrors: [],
    explanation:
      'The host answered the MS-RDPEUDP SYN with ICMP port unreachable: the UDP transport is disabled or not bound ' +
      '(or the server is not Windows). mstsc then uses TCP only; no error results.',
    tellApart: 'udp.outcome = icmp-unreachable',
    fixes: [
      { place: 'windows-server', text: `Optional: enable the UDP transport with GPO "${GPO_RDSH}\\Connections\\Select RDP transport protocols" = Use both UDP and TCP, and allow UDP {port} in the firewall.` },
    ],
    sources: ['ms-avd-shortpath', 'protocol-notes'],
  },
];

const BY_ID = new Map<string, Cause>(CAUSES.map((c) => [c.id, c]));

export function cause(id: CauseId): Cause {
  const c = BY_ID.get(id);
  if (!c) throw new Error(`internal: no catalogue row ${id}`);
  return c;
}

export function findCause(id: string): Cause | undefined {
  return BY_ID.get(id);
}
