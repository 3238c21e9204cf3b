#!/usr/bin/env bash
# test_systemd_units: `cmake --install` of the build into a scratch root (DESTDIR) lays
# out what ops/RUNBOOK.md "Install with systemd" uses (binaries, units, sysusers entry,
# example configs, bars file; `systemd-sysusers --root` creates the exec user from the
# installed entry), and the installed units pass systemd's own checks:
#   - `systemd-analyze verify --root` on an instance of each template: no error and no
#     warning at all (an unknown key or a missing ExecStart binary prints one; the test
#     shows it can fail by breaking a copy);
#   - `systemd-analyze security --offline=yes --root`: overall exposure below 3 for
#     every unit (--threshold=30, systemd's scale, makes systemd-analyze itself fail above it); the figures
#     are printed.
# The scratch root gets a copy of the host's /usr/lib/systemd/system (the targets the
# units refer to). Needs systemd-analyze (package systemd, ops/install-deps).
set -euo pipefail
src=${TE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TE_BUILD_DIR:-$src/build}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed (ops/install-deps)"
[ -d /usr/lib/systemd/system ] || fail "no /usr/lib/systemd/system on this host"
work=$(mktemp -d /tmp/te-units.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
threshold=3
# --threshold counts in tenths of the printed exposure (systemd's 0-100 scale)
sd_threshold=$((threshold * 10))

DESTDIR=$root cmake --install "$build" >"$work/install.log"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
units=$root$prefix/lib/systemd/system
for f in "bin/exec-planner" "bin/exec-broker" "bin/exec-sink" "bin/exec-dbtool" "bin/exec-lag" \
        "lib/sysusers.d/exec.conf" "share/exec-service/examples/planner.conf" \
        "share/exec-service/examples/broker.conf" "share/exec-service/examples/sink.conf" \
        "share/exec-service/examples/exec.env.example" "share/exec-service/sample/bars.csv" \
        "share/doc/exec-service/RUNBOOK.md" \
        "lib/systemd/system/exec-planner@.service" "lib/systemd/system/exec-broker@.service" \
        "lib/systemd/system/exec-sink@.service"; do
        [ -s "$root$prefix/$f" ] || fail "cmake --install did not install $prefix/$f"
done
grep -q '^u exec ' "$root$prefix/lib/sysusers.d/exec.conf" || fail "sysusers entry lacks the exec user"
# systemd-sysusers (RUNBOOK "Install with systemd") finds the entry where it is installed
mkdir -p "$root/etc"
systemd-sysusers --root="$root" >"$work/sysusers.log" 2>&1 || fail "systemd-sysusers: $(cat "$work/sysusers.log")"
grep -q '^exec:x:[0-9]*:[0-9]*:[^:]*:/var/lib/exec:' "$root/etc/passwd" ||
        fail "systemd-sysusers did not create the exec user: $(cat "$root/etc/passwd" "$work/sysusers.log")"
for kind in planner broker sink; do
        u=$units/exec-$kind@.service
        ! grep -n '@[A-Z_]*@' "$u" || fail "exec-$kind@.service: a placeholder was not filled in"
        grep -q '^Type=notify$' "$u" || fail "exec-$kind@.service is not Type=notify"
        grep -q "^ExecStart=$prefix/bin/exec-$kind " "$u" || fail "exec-$kind@.service: ExecStart not in $prefix/bin"
done

mkdir -p "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"

verify() { # UNIT... -> prints what systemd-analyze said; fails on any output or rc
        local out rc=0
        out=$(systemd-analyze verify --root="$root" "$@" 2>&1) || rc=$?
        [ $rc = 0 ] && [ -z "$out" ] && return 0
        echo "$out"
        return 1
}
out=$(verify exec-planner@0.service exec-broker@0.service exec-sink@0.service exec-sink@7.service) ||
        fail "systemd-analyze verify: $out"

# the check can fail: an unknown key, and a missing binary
cp "$units/exec-sink@.service" "$work/sink.orig"
sed -i 's/^UMask=0077$/UMask=0077\nProtectFoo=yes/' "$units/exec-sink@.service"
verify exec-sink@0.service >/dev/null && fail "verify accepted an unknown key"
cp "$work/sink.orig" "$units/exec-sink@.service"
mv "$root$prefix/bin/exec-sink" "$work/exec-sink"
verify exec-sink@0.service >/dev/null && fail "verify accepted a missing ExecStart binary"
mv "$work/exec-sink" "$root$prefix/bin/exec-sink"

for kind in planner broker sink; do
        rc=0
        systemd-analyze security --offline=yes --root="$root" --threshold=$sd_threshold \
                "exec-$kind@0.service" >"$work/sec-$kind.txt" 2>&1 || rc=$?
        level=$(grep -o 'Overall exposure level for [^:]*: [0-9.]*' "$work/sec-$kind.txt" | grep -o '[0-9.]*$')
        [ -n "$level" ] || fail "no exposure figure for exec-$kind: $(tail -3 "$work/sec-$kind.txt")"
        echo "exec-$kind@0.service: exposure $level"
        [ $rc = 0 ] || fail "exec-$kind@0.service: exposure $level is above $threshold: $(grep '✗' "$work/sec-$kind.txt")"
done
# ... and it can fail: the same unit without its hardening
grep -Ev '^(NoNewPrivileges|CapabilityBoundingSet|AmbientCapabilities|Protect|Private|Restrict|LockPersonality|MemoryDenyWriteExecute|RemoveIPC|KeyringMode|SystemCall|DevicePolicy|ProcSubset|UMask)' \
        "$work/sink.orig" >"$units/exec-sink@.service"
if systemd-analyze security --offline=yes --root="$root" --threshold=$sd_threshold \
        exec-sink@0.service >"$work/sec-bare.txt" 2>&1; then
        fail "security accepted an unhardened unit: $(grep Overall "$work/sec-bare.txt")"
fi
echo "unhardened: $(grep -o 'Overall exposure level[^:]*: [0-9.]*' "$work/sec-bare.txt")"
echo "test_systemd_units: ok"
