#!/bin/sh
# Downloads XRT (Debian unstable's libxrt-dev, libxrt2, libxrt-npu2 and the libraries they link
# against) into a build-local prefix, so that the XRT module (libnpw-npu-xrt.so) is compiled and linked
# against the real XRT on a Debian 12 machine. Nothing is installed system-wide: apt runs with a
# private configuration (its own sources list, lists, cache and an empty dpkg status) under the
# directory given, and the packages are only unpacked with dpkg -x.
#
#   scripts/fetch-xrt.sh [DIR]     (default: build/xrt)
#
# On success it prints the prefix (DIR/prefix) and meson finds XRT there with -Dxrt_prefix=DIR/prefix.
# Exit status 0 on success, 1 when the download is impossible (no network, no such packages): the
# build then goes on without the XRT module.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$here/build/xrt}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
prefix=$dir/prefix
stamp=$prefix/.fetched

# The packages the module compiles and links against. libxrt-dev holds the headers and the
# libxrt_coreutil.so link, libxrt2 the libraries, libxrt-npu2 the XDNA shim (loaded by XRT at run
# time; unpacked too so the chroot check and a user inspecting the prefix see the whole stack).
packages="libxrt-dev libxrt2 libxrt-npu2"

if [ -f "$stamp" ]; then
  echo "$prefix"
  exit 0
fi

apt_dir=$dir/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/preferences.d" \
  "$apt_dir/etc/apt.conf.d" "$dir/debs"
: > "$apt_dir/status"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt_dir/etc/sources.list" <<EOF
deb [signed-by=$keyring] http://deb.debian.org/debian unstable main
EOF

# Every path apt would otherwise take from /etc or /var is pointed into $apt_dir. Valid-Until is not
# checked: the lists' signatures are, and a machine whose clock runs ahead of the mirror still builds.
arch=$(dpkg --print-architecture)
apt_opts="-o Dir::Etc::SourceList=$apt_dir/etc/sources.list -o Dir::Etc::SourceParts=$apt_dir/etc/sources.list.d
 -o Dir::Etc::Preferences=$apt_dir/etc/preferences -o Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d
 -o Dir::Etc::Parts=$apt_dir/etc/apt.conf.d -o Dir::State=$apt_dir -o Dir::State::Lists=$apt_dir/lists
 -o Dir::State::status=$apt_dir/status -o Dir::Cache=$apt_dir/cache -o APT::Architecture=$arch
 -o APT::Architectures=$arch -o Acquire::Languages=none -o Debug::NoLocking=1 -o APT::Sandbox::User=root
 -o Acquire::Check-Valid-Until=false"
mkdir -p "$apt_dir/etc/sources.list.d"

say() { echo "fetch-xrt: $*" >&2; }

# shellcheck disable=SC2086
if ! apt-get -q $apt_opts update >"$dir/apt-update.log" 2>&1; then
  say "could not read Debian unstable's package lists (see $dir/apt-update.log); building without XRT"
  exit 1
fi

# The packages' own library dependencies that hold XRT code (libxrt_core, the shims) come along;
# the C and C++ runtimes and Boost are left out on purpose: the module is linked, not run, here.
want=$packages
# shellcheck disable=SC2086
for dep in $(apt-cache $apt_opts depends --no-recommends --no-suggests --no-enhances $packages 2>/dev/null |
  sed -n 's/^ *\(Pre\)\{0,1\}Depends: *//p' | tr -d '<>' | sort -u); do
  case $dep in
    libxrt*|xrt*) want="$want $dep" ;;
  esac
done
want=$(echo "$want" | tr ' ' '\n' | sort -u | tr '\n' ' ')

cd "$dir/debs"
# shellcheck disable=SC2086
if ! apt-get -q $apt_opts download $want >"$dir/apt-download.log" 2>&1; then
  say "could not download $want from Debian unstable (see $dir/apt-download.log); building without XRT"
  exit 1
fi

rm -rf "$prefix"
mkdir -p "$prefix"
for deb in "$dir"/debs/*.deb; do
  dpkg -x "$deb" "$prefix"
done

# The .pc file and the unversioned .so link name /usr; meson is pointed at the prefix instead.
libdir=$(dirname "$(find "$prefix" -name 'libxrt_coreutil.so*' | head -n 1)")
if [ ! -f "$prefix/usr/include/xrt/xrt_device.h" ] || [ -z "$libdir" ]; then
  say "the unpacked packages hold no xrt/xrt_device.h or libxrt_coreutil; building without XRT"
  exit 1
fi
version=$(dpkg-deb -f "$(ls "$dir"/debs/libxrt2_*.deb | head -n 1)" Version)
echo "$version" > "$stamp"
say "XRT $version unpacked into $prefix"
echo "$prefix"
