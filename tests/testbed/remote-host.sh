#!/usr/bin/env bash
#! A remote libvirt host on this machine for Vireo's qemu+ssh tests: its own network,
#! mount, UTS and PID namespaces, joined to the caller's network namespace by a veth
#! pair, running its own sshd (on its veth address only), virtlogd and libvirtd (TCG).
#
# Usage: tests/testbed/remote-host.sh COMMAND NAME [ARGS...]          (as root)
#   up NAME       start the host (cleaning up any leftover of NAME first); prints its
#                 address and timings; writes NAME's state dir (below)
#   down NAME     stop it: every process in it, its namespaces and veth; idempotent
#   status NAME   exit 0 when NAME is up; prints its host.env
#   exec NAME CMD...  run CMD inside the host (its network, mounts, hostname, PIDs),
#                 e.g. `exec a virsh -c qemu:///system list`
#   net NAME down|up    cut or restore the host's network (its end of the veth; `up`
#                 also forgets failed neighbour lookups on both ends)
#   sshd NAME stop|start  stop (SIGTERM) or start the host's sshd
#   down-all      stop every host under the state root
#
# NAME: a lowercase letter then up to 7 lowercase letters or digits ("a", "b", "src").
# State root: $VIREO_REMOTE_DIR, default ${CARGO_TARGET_DIR:-<repo>/target}/testbed/remote.
#   client/id_ed25519          client key authorized for root on every host
#   client/id_ed25519_pass     client key with passphrase "vireo-passphrase", authorized too
#   client/id_ed25519_stranger client key authorized nowhere
#   NAME/host.env     ADDR, HOSTNAME, URI (qemu+ssh with the ssh wrapper and key), SSH,
#                     SSH_AGENT, SSH_CONFIG, KNOWN_HOSTS, KEY, KEY_PASS, PASSPHRASE, PASSWORD_USER,
#                     PASSWORD, HOST_KEY_FP (sourceable)
#   NAME/ssh          `ssh -F NAME/ssh_config "$@"`: libvirt's `command=` URI parameter
#                     (libvirt's ssh transport takes no known_hosts parameter; the config
#                     names NAME/known_hosts, which holds this host's key, no agent, and
#                     only the keys given with -i, i.e. the URI's keyfile=)
#   NAME/ssh-unknown  the same with NAME/known_hosts.unknown (empty at `up`): the host key
#                     is not known, for the unknown-host-key path
#   NAME/ssh-agent    the same as NAME/ssh with the agent of the environment
#                     (SSH_AUTH_SOCK) allowed: for a key unlocked in an agent
#   NAME/host.log, NAME/sshd.log, NAME/log/ (the host's /var/log: libvirt, QEMU)
#   NAME/cache/       the host's /var/cache/libvirt (QEMU capabilities), kept between runs
#
# Network: host NAME gets slot S (lowest free, 1-200, under a lock shared by every caller
# on this machine): veth `vireo-rhS` in the caller's namespace with 10.213.S.1/24, `eth0`
# in the host with 10.213.S.2/24. While any such link exists, the caller's namespace also
# has `unreachable 10.213.0.0/16`, so nothing meant for a host that is gone can leave the
# machine through the default route. Traffic stays between the two namespaces.
#
# Inside the host (private mount namespace, propagation private): tmpfs on /run, /root
# (/root/.ssh/authorized_keys with the client keys) and /home (user `vireo-remote`,
# password "vireo-password", group libvirt); private copies of /etc/passwd, /etc/group,
# /etc/shadow; /etc/libvirt (fresh copy of the caller's, no domains, no storage pools
# (a host's "default" pool would clash with the tests' own), no autostart networks,
# qemu.conf: QEMU as root without relabelling, so two daemons never chown the shared
# guest files, and namespaces = []), /var/lib/libvirt (fresh), /var/cache/libvirt
# and /var/log (state dir); a /dev without kvm (VIREO_TEST_KVM=1: the machine's /dev).
# Everything else, including the guest files (tests/guest/build.sh) and /tmp, is the
# caller's: the same paths work inside. libvirtd serves qemu:///system on the host's own
# /run/libvirt; sshd listens on 10.213.S.2:22 (root: keys only; vireo-remote: password).
#
# Cleanup: killing the host's PID 1 kills everything in it and frees its namespaces
# (the veth goes with them). `up` runs `down` first; `down` works from the pid files in
# the state dir, and only kills processes whose command line names this state dir.
# Inside /work/rooms/isolate.sh a killed test run leaves nothing either: the isolate's
# PID namespace takes the host's processes with it.
set -euo pipefail

self=$(readlink -f "$0")
here=$(dirname "$self")
repo=$(readlink -f "$here/../..")
state_root=${VIREO_REMOTE_DIR:-${CARGO_TARGET_DIR:-$repo/target}/testbed/remote}
net=10.213
lock=/run/lock/vireo-remote-host.lock
passphrase=vireo-passphrase
password_user=vireo-remote
password=vireo-password
# `openssl passwd -6 -salt vireoremotetest vireo-password`, fixed so no tool is needed.
password_hash='$6$vireoremotetest$1Z8EYqLsgldu944ZX833QJwA4UdFiK7UmkynVKGA4p/O41OoB8ObTgs3rgPIHMpjhAUDhN5U7RFPY8uC20/Ob0'

die() { echo "remote-host.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }
usage() {
  sed -n 's/^#   //p' "$self" | sed -n '1,12p' >&2
  exit 2
}

# ours PID DIR: PID is alive (not a zombie) and its command line names DIR's _init.
ours() {
  local state
  [ -n "$1" ] || return 1
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF "remote-host.sh _init $2 "
}

host_dir() {
  [[ $1 =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "bad host name '$1' (a-z, then up to 7 of a-z0-9)"
  mkdir -p "$state_root"
  echo "$(readlink -f "$state_root")/$1"
}

# The host's PID 1 (as seen from here), if it runs.
init_pid() {
  local pid
  pid=$(cat "$1/init.pid" 2>/dev/null || true)
  ours "$pid" "$1" && echo "$pid"
}

# ------------------------------------------------------------------------------------
# Keys: the client's (shared by all hosts) and each host's, made once and kept.
client_keys() {
  local c=$state_root/client
  mkdir -p "$c"
  chmod 700 "$c"
  [ -f "$c/id_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N "" -C vireo-test-client -f "$c/id_ed25519"
  [ -f "$c/id_ed25519_pass" ] ||
    ssh-keygen -q -t ed25519 -N "$passphrase" -C vireo-test-passphrase -f "$c/id_ed25519_pass"
  [ -f "$c/id_ed25519_stranger" ] ||
    ssh-keygen -q -t ed25519 -N "" -C vireo-test-stranger -f "$c/id_ed25519_stranger"
}

# ------------------------------------------------------------------------------------
# Network slots: the lowest S with no link vireo-rhS here. Caller holds the lock.
free_slot() {
  local s
  for s in $(seq 1 200); do
    ip link show "vireo-rh$s" >/dev/null 2>&1 || { echo "$s"; return 0; }
  done
  die "no free network slot (200 hosts up?)"
}

# The guard route lives while any host link does (caller holds the lock).
guard_route() {
  if ip -o link show | grep -q ': vireo-rh[0-9]*@'; then
    ip route replace unreachable "$net.0.0/16" 2>/dev/null || true
  else
    ip route del unreachable "$net.0.0/16" 2>/dev/null || true
  fi
}

with_lock() {
  exec 9>"$lock"
  flock -w 60 9 || die "cannot take $lock"
}
unlock() { flock -u 9; exec 9>&-; }

# ------------------------------------------------------------------------------------
up() {
  local name=$1 dir t0 slot upid init deadline
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  for t in sshd ssh ssh-keygen ip unshare nsenter flock libvirtd virtlogd virsh; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] ||
      die "$t is missing (tools/install-deps.sh test)"
  done
  dir=$(host_dir "$name")
  t0=$(now)
  down "$name" >/dev/null
  mkdir -p "$dir/sig" "$dir/cache"
  rm -f "$dir/sig/"*
  client_keys
  [ -f "$dir/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N "" -C "vireo-remote-$name" -f "$dir/ssh_host_ed25519_key"
  chmod 600 "$dir/ssh_host_ed25519_key"

  with_lock
  slot=$(free_slot)
  local addr=$net.$slot.2 peer=$net.$slot.1 link=vireo-rh$slot
  echo "$slot" >"$dir/slot"
  write_files "$name" "$dir" "$addr"
  setsid unshare --net --mount --uts --pid --fork --mount-proc --propagation private \
    -- "$self" _init "$dir" "$name" "$addr" </dev/null >"$dir/host.log" 2>&1 &
  upid=$!
  echo "$upid" >"$dir/unshare.pid"
  # The unshare process is in the new network namespace already; its child is PID 1.
  deadline=$((SECONDS + 20))
  until init=$(pgrep -P "$upid" 2>/dev/null | head -n1) && [ -n "$init" ]; do
    [ $SECONDS -lt $deadline ] || { unlock; die "the host's init did not start"; }
    sleep 0.01
  done
  echo "$init" >"$dir/init.pid"
  ip link add "$link" type veth peer name eth0 netns "$upid"
  ip addr add "$peer/24" dev "$link"
  sysctl -qw "net.ipv6.conf.$link.disable_ipv6=1" || true
  ip link set "$link" up
  guard_route
  unlock
  nsenter -t "$upid" -n sh -c "
    ip link set lo up
    sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1 || true
    ip addr add $addr/24 dev eth0
    ip link set eth0 up"
  : >"$dir/sig/net-ready"

  deadline=$((SECONDS + ${VIREO_REMOTE_TIMEOUT:-120}))
  until [ -e "$dir/sig/ready" ]; do
    if ! ours "$init" "$dir" || [ $SECONDS -ge $deadline ]; then
      echo "remote-host.sh: host $name did not come up; its log:" >&2
      tail -n 30 "$dir/host.log" >&2
      down "$name" >/dev/null
      exit 1
    fi
    sleep 0.02
  done
  echo "remote-host.sh: host $name up at $addr in $(since "$t0") s" \
    "(libvirtd answered $(cat "$dir/sig/ready") s after its start)"
}

# The client-side files of host NAME at ADDR: ssh config and wrappers, known_hosts, env.
write_files() {
  local name=$1 dir=$2 addr=$3 c
  c=$(readlink -f "$state_root/client")
  echo "$addr $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" >"$dir/known_hosts"
  : >"$dir/known_hosts.unknown"
  for variant in known unknown agent; do
    local kh=$dir/known_hosts cfg=$dir/ssh_config wrapper=$dir/ssh agent=none
    if [ $variant = unknown ]; then
      kh=$dir/known_hosts.unknown cfg=$dir/ssh_config.unknown wrapper=$dir/ssh-unknown
    elif [ $variant = agent ]; then
      # The agent of the environment (SSH_AUTH_SOCK): a test starts its own.
      cfg=$dir/ssh_config.agent wrapper=$dir/ssh-agent agent=SSH_AUTH_SOCK
    fi
    # The machine's own keys, agent and known hosts stay out of the tests.
    cat >"$cfg" <<EOF
# Vireo remote test host $name (tests/testbed/remote-host.sh)
Host *
  UserKnownHostsFile $kh
  GlobalKnownHostsFile /dev/null
  IdentitiesOnly yes
  IdentityAgent $agent
  ConnectTimeout 10
EOF
    printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$cfg" >"$wrapper"
    chmod 755 "$wrapper"
  done
  cat >"$dir/host.env" <<EOF
NAME=$name
ADDR=$addr
HOSTNAME=vireo-remote-$name
URI='qemu+ssh://root@$addr/system?command=$dir/ssh&keyfile=$c/id_ed25519'
SSH=$dir/ssh
SSH_UNKNOWN=$dir/ssh-unknown
SSH_AGENT=$dir/ssh-agent
SSH_CONFIG=$dir/ssh_config
KNOWN_HOSTS=$dir/known_hosts
KNOWN_HOSTS_UNKNOWN=$dir/known_hosts.unknown
KEY=$c/id_ed25519
KEY_PASS=$c/id_ed25519_pass
KEY_STRANGER=$c/id_ed25519_stranger
PASSPHRASE=$passphrase
PASSWORD_USER=$password_user
PASSWORD=$password
HOST_KEY_FP=$(ssh-keygen -l -E sha256 -f "$dir/ssh_host_ed25519_key.pub" | cut -d' ' -f2)
EOF
}

# ------------------------------------------------------------------------------------
# PID 1 of the host: private mounts, then (once the veth is configured) the daemons.
init() {
  local dir=$1 name=$2 addr=$3 t c
  c=$(dirname "$dir")/client
  hostname "vireo-remote-$name"

  # Its own /sys (so /sys/class/net shows its own links), keeping the cgroup mounts.
  mkdir -p /tmp/.vireo-cg-$$
  mount --rbind /sys/fs/cgroup /tmp/.vireo-cg-$$
  mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
  mount --move /tmp/.vireo-cg-$$ /sys/fs/cgroup
  rmdir /tmp/.vireo-cg-$$
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/sshd /run/libvirt /run/lock
  chmod 755 /run/sshd

  rm -rf "$dir/etc-libvirt" "$dir/lib-libvirt" "$dir/log" "$dir/etc"
  cp -a /etc/libvirt "$dir/etc-libvirt"
  rm -rf "$dir"/etc-libvirt/qemu/*.xml "$dir/etc-libvirt/qemu/autostart" \
    "$dir/etc-libvirt/qemu/networks/autostart" \
    "$dir"/etc-libvirt/storage/*.xml "$dir/etc-libvirt/storage/autostart"
  cat >"$dir/etc-libvirt/libvirtd.conf" <<EOF
# Vireo remote test host $name: local unix sockets only (clients come through ssh).
listen_tls = 0
listen_tcp = 0
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "$(printf '%s' "vireo-remote-$name" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')"
log_outputs = "3:stderr"
EOF
  { cat /etc/libvirt/qemu.conf 2>/dev/null || true
    echo '# Vireo remote test host: QEMU as root, no relabelling (the guest files are'
    echo '# shared with other daemons on this machine), no per-domain /dev namespace.'
    echo 'user = "root"'
    echo 'group = "root"'
    echo 'dynamic_ownership = 0'
    echo 'remember_owner = 0'
    echo 'namespaces = []'
  } >"$dir/etc-libvirt/qemu.conf"
  mount --bind "$dir/etc-libvirt" /etc/libvirt
  mkdir -p "$dir/lib-libvirt" "$dir/log/libvirt/qemu"
  mount --bind "$dir/lib-libvirt" /var/lib/libvirt
  mount --bind "$dir/cache" /var/cache/libvirt
  mount --bind "$dir/log" /var/log

  # Users: root by key, vireo-remote by password (in group libvirt).
  mkdir -p "$dir/etc"
  cp /etc/passwd /etc/group /etc/shadow "$dir/etc/"
  grep -q '^libvirt:' "$dir/etc/group" || echo "libvirt:x:64999:" >>"$dir/etc/group"
  sed -i -E "/^libvirt:/ { s/:$/:$password_user/; t; s/$/,$password_user/ }" "$dir/etc/group"
  echo "$password_user:x:64998:64998:Vireo remote test user:/home/$password_user:/bin/sh" \
    >>"$dir/etc/passwd"
  echo "$password_user:x:64998:" >>"$dir/etc/group"
  echo "$password_user:$password_hash:19000:0:99999:7:::" >>"$dir/etc/shadow"
  chmod 640 "$dir/etc/shadow"
  for f in passwd group shadow; do mount --bind "$dir/etc/$f" "/etc/$f"; done
  mount -t tmpfs -o mode=700 tmpfs /root
  mkdir -m 700 /root/.ssh
  cat "$c/id_ed25519.pub" "$c/id_ed25519_pass.pub" >/root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
  mount -t tmpfs -o mode=755 tmpfs /home
  mkdir -m 700 "/home/$password_user"
  chown 64998:64998 "/home/$password_user"

  if [ -e /dev/kvm ] && [ "${VIREO_TEST_KVM:-0}" != 1 ]; then
    # A host without KVM: a /dev of its own with only what QEMU, libvirt and sshd use.
    # (Covering /dev/kvm with a mode-000 file, as libvirtd.sh does, is not enough
    # here: QEMU runs as root, for whom that file looks usable, so libvirt would
    # offer KVM and throw its capability cache away at every start.)
    mkdir -p /run/dev-all
    mount --rbind /dev /run/dev-all
    mount -t tmpfs -o mode=755,nosuid tmpfs /dev
    local d
    for d in null zero full random urandom tty; do
      : >"/dev/$d"
      mount --bind "/run/dev-all/$d" "/dev/$d"
    done
    for d in pts shm net; do
      [ -d "/run/dev-all/$d" ] || continue
      mkdir "/dev/$d"
      mount --rbind "/run/dev-all/$d" "/dev/$d"
    done
    # Pseudo-terminals (QEMU's serial ptys) from the devpts mounted at /dev/pts.
    ln -s pts/ptmx /dev/ptmx
    ln -s /proc/self/fd /dev/fd
    ln -s /proc/self/fd/0 /dev/stdin
    ln -s /proc/self/fd/1 /dev/stdout
    ln -s /proc/self/fd/2 /dev/stderr
    umount -l /run/dev-all
    rmdir /run/dev-all
  fi

  cat >"$dir/sshd_config" <<EOF
# Vireo remote test host $name
ListenAddress $addr
HostKey $dir/ssh_host_ed25519_key
PidFile /run/sshd.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF

  until [ -e "$dir/sig/net-ready" ]; do sleep 0.01; done

  trap 'kill -TERM $(jobs -p) 2>/dev/null; sleep 0.5; exit 0' TERM
  t=$(now)
  virtlogd -p /run/virtlogd.pid &
  libvirtd -f /etc/libvirt/libvirtd.conf -p /run/libvirtd.pid &
  sshd_start "$dir"
  local deadline=$((SECONDS + ${VIREO_LIBVIRTD_TIMEOUT:-90}))
  until virsh -q -c qemu:///system version >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "libvirtd did not answer" >&2; exit 1; }
    sleep 0.05
  done
  until [ -s /run/sshd.pid ]; do sleep 0.01; done
  since "$t" >"$dir/sig/ready.tmp"
  mv "$dir/sig/ready.tmp" "$dir/sig/ready"
  # Reap whatever ends up here (PID 1) until killed.
  while :; do
    sleep 3600 &
    wait $! || true
  done
}

sshd_start() {
  /usr/sbin/sshd -D -f "$1/sshd_config" -E "$1/sshd.log" &
}

# ------------------------------------------------------------------------------------
down() {
  local name=$1 dir pid upid slot i
  dir=$(host_dir "$name")
  pid=$(init_pid "$dir" || true)
  upid=$(cat "$dir/unshare.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 40); do ours "$pid" "$dir" || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if ours "$upid" "$dir"; then kill -KILL "$upid" 2>/dev/null || true; fi
  slot=$(cat "$dir/slot" 2>/dev/null || true)
  if [ -n "$slot" ]; then
    # The veth goes with the host's network namespace once its last process is gone.
    for i in $(seq 1 100); do
      ip link show "vireo-rh$slot" >/dev/null 2>&1 || break
      sleep 0.02
    done
    with_lock
    if ip link show "vireo-rh$slot" >/dev/null 2>&1; then
      # Only ours: its peer must be in no namespace we still know, i.e. ours is gone.
      ip link del "vireo-rh$slot" 2>/dev/null || true
    fi
    guard_route
    unlock
  fi
  rm -rf "$dir/sig" "$dir/etc-libvirt" "$dir/lib-libvirt" "$dir/etc"
  rm -f "$dir/init.pid" "$dir/unshare.pid" "$dir/slot" "$dir/host.env"
  echo "remote-host.sh: host $name down"
}

in_host() { # in_host NAME CMD...
  local dir pid
  dir=$(host_dir "$1")
  shift
  pid=$(init_pid "$dir") || die "host $(basename "$dir") is not up"
  nsenter -t "$pid" -n -m -u -p -- "$@"
}

cmd=${1:-}
[ -n "$cmd" ] || usage
case "$cmd" in
  up) [ $# -eq 2 ] || usage; up "$2" ;;
  down) [ $# -eq 2 ] || usage; down "$2" ;;
  down-all)
    for d in "$state_root"/*/; do
      [ -f "$d/ssh_host_ed25519_key" ] && down "$(basename "$d")"
    done
    true
    ;;
  status)
    [ $# -eq 2 ] || usage
    dir=$(host_dir "$2")
    init_pid "$dir" >/dev/null && [ -e "$dir/sig/ready" ] || exit 1
    cat "$dir/host.env"
    ;;
  exec) [ $# -ge 3 ] || usage; name=$2; shift 2; in_host "$name" "$@" ;;
  net)
    [ $# -eq 3 ] && [[ $3 =~ ^(up|down)$ ]] || usage
    in_host "$2" ip link set eth0 "$3"
    if [ "$3" = up ]; then
      # Addresses that failed to resolve while the link was down would answer "No
      # route to host" for a few seconds more; a test wants the network back now.
      in_host "$2" ip neigh flush dev eth0
      ip neigh flush dev "vireo-rh$(cat "$(host_dir "$2")/slot")"
    fi
    ;;
  sshd)
    [ $# -eq 3 ] || usage
    dir=$(host_dir "$2")
    case "$3" in
      stop) in_host "$2" sh -c 'kill -TERM "$(cat /run/sshd.pid)"; rm -f /run/sshd.pid' ;;
      start)
        # Started by the host's PID 1 would be cleaner; from here it still lives in the
        # host's PID namespace and dies with it.
        in_host "$2" setsid /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
        ;;
      *) usage ;;
    esac
    ;;
  _init) init "$2" "$3" "$4" ;;
  *) usage ;;
esac
