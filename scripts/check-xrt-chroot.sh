#!/bin/sh
# Runs the XRT module under the real XRT 2.25 on a machine without an NPU: makes a Debian unstable
# chroot with debootstrap (Debian's mirror only), installs XRT there (libxrt2, libxrt-npu2), copies
# in libnpw-npu-xrt.so and npuwhisper-npu-probe from a build, and runs the probe through the runtime's
# loader. On Debian 12 the module cannot load XRT (glibc 2.36); in the chroot it does, so what is
# shown is XRT's own "no NPU device" path and the advice the module adds to it.
# Not part of CI (a chroot is ~300 MB and a few minutes); run as root:
#
#   scripts/check-xrt-chroot.sh [BUILD_DIR]       (default: build; the chroot goes to BUILD_DIR/xrt-chroot)
#
# BUILD_DIR must have been configured with XRT (scripts/fetch-xrt.sh, then -Dxrt_prefix=...).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
root=${NPW_CHROOT_DIR:-$build/xrt-chroot}
mirror=http://deb.debian.org/debian
module=$build/runtime/backend/npu/xrt/libnpw-npu-xrt.so
probe=$build/tools/npuwhisper-npu-probe

say() { echo "check-xrt-chroot: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "must run as root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null || { say "needs debootstrap (apt-get install debootstrap)"; exit 1; }
meson compile -C "$build" runtime/backend/npu/xrt/npw-npu-xrt tools/npuwhisper-npu-probe >/dev/null ||
  { say "$build has no XRT module target: configure it with XRT first (scripts/fetch-xrt.sh)"; exit 1; }

if [ ! -f "$root/.npw-ready" ]; then
  if [ ! -f "$root/.npw-base" ]; then
    say "debootstrap unstable into $root"
    debootstrap --variant=minbase unstable "$root" "$mirror" >"$build/xrt-chroot.log" 2>&1 ||
      { say "debootstrap failed (see $build/xrt-chroot.log)"; exit 1; }
    touch "$root/.npw-base"
  fi
  say "installing libxrt2 libxrt-npu2 in the chroot"
  # Valid-Until is not checked: a mirror snapshot older than this machine's clock is still signed.
  chroot "$root" sh -c 'export DEBIAN_FRONTEND=noninteractive; o="-o Acquire::Check-Valid-Until=false";
    apt-get -q $o update && apt-get -q $o install -y --no-install-recommends libxrt2 libxrt-npu2' \
    >>"$build/xrt-chroot.log" 2>&1 || { say "installing XRT failed (see $build/xrt-chroot.log)"; exit 1; }
  touch "$root/.npw-ready"
fi

mkdir -p "$root/opt/npuwhisper"
cp "$module" "$probe" "$root/opt/npuwhisper/"
echo "chroot: $(chroot "$root" sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), glibc $(chroot "$root" ldd --version | head -n 1 | sed 's/.* //')," \
  "XRT $(chroot "$root" dpkg-query -W -f '${Version}' libxrt2)"
echo "\$ npuwhisper-npu-probe  (NPW_NPU_MODULE=/opt/npuwhisper/libnpw-npu-xrt.so)"
status=0
chroot "$root" env NPW_NPU_MODULE=/opt/npuwhisper/libnpw-npu-xrt.so /opt/npuwhisper/npuwhisper-npu-probe || status=$?
echo "exit status $status (2: no usable NPU, as expected without one)"
[ "$status" = 2 ] || [ "$status" = 0 ]
