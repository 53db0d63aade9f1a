#!/usr/bin/env bash
# Installs the system packages hopscope and its test-suite need, only when one is
# missing. Idempotent and quick when everything is present; called from npm's
# pre-hooks (preinstall, pretest, prestart) so a fresh clone needs no other step.
set -euo pipefail

# command-or-file probe → Debian package that provides it
declare -A need=(
  [/usr/include/pcap/pcap.h]=libpcap-dev
  [tcpdump]=tcpdump
  [ip]=iproute2
  [nft]=nftables
  [dnsmasq]=dnsmasq-base
  [ping]=iputils-ping
  [busybox]=busybox
  [dig]=dnsutils
  [/usr/sbin/sshd]=openssh-server
  [ssh]=openssh-client
  [nc]=netcat-openbsd
  [socat]=socat
  [tshark]=tshark
  [mergecap]=wireshark-common
  [tmux]=tmux
  [make]=make
  [g++]=g++
  [python3]=python3
  [losetup]=mount
  [mkfs.ext4]=e2fsprogs
  [debugfs]=e2fsprogs
  [/usr/bin/chromium]=chromium
  # the kernel drop tracer (native/drop_tracer.*): compiled with clang, loaded with libbpf
  [clang]=clang
  [/usr/include/bpf/libbpf.h]=libbpf-dev
  # evidence at a hop: firewall rules of both iptables backends, conntrack, BPF programs loaded
  [iptables-legacy-save]=iptables
  [conntrack]=conntrack
  [bpftool]=bpftool
)

missing=()
for probe in "${!need[@]}"; do
  if [[ $probe == /* ]]; then [[ -e $probe ]] && continue
  else command -v "$probe" >/dev/null 2>&1 && continue; fi
  missing+=("${need[$probe]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [[ $(id -u) -ne 0 ]]; then
  echo "hopscope setup: missing system packages: ${missing[*]}" >&2
  echo "hopscope setup: not root, so not installing them; run as root: apt-get install ${missing[*]}" >&2
  # Not fatal: replay and decoding work without them; capture and the lab will say what is missing.
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "hopscope setup: missing system packages: ${missing[*]} (no apt-get here: install them with your package manager)" >&2
  exit 0
fi
echo "hopscope setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
