#!/bin/sh
# Downloads the official CIFAR-10 and CIFAR-100 binary archives, checks their
# MD5 sums (as published on https://www.cs.toronto.edu/~kriz/cifar.html) and
# unpacks them where sflsim looks by default:
#   DEST/cifar10/cifar-10-batches-bin/   DEST/cifar100/cifar-100-binary/
# Usage: scripts/fetch_cifar.sh [DEST]      (default DEST: /usr/share/datasets)
# With another DEST, point the scenarios at it:
#   sflsim run scenarios/paper/cifar10.json --set dataset.dir=DEST/cifar10
set -eu
dest=${1:-/usr/share/datasets}
base=${CIFAR_BASE_URL:-https://www.cs.toronto.edu/~kriz}  # a mirror (or file:// for tests) may stand in

fetch() {  # archive md5 folder
  archive=$1 md5=$2 folder=$3
  mkdir -p "$dest/$folder"
  target="$dest/$folder/$archive"
  if [ ! -f "$target" ] || ! echo "$md5  $target" | md5sum -c --status; then
    echo "downloading $base/$archive"
    if command -v curl >/dev/null 2>&1; then
      curl -fL --retry 3 -o "$target.part" "$base/$archive"
    else
      wget -O "$target.part" "$base/$archive"
    fi
    mv "$target.part" "$target"
  fi
  if ! echo "$md5  $target" | md5sum -c --status; then
    echo "error: $target: MD5 is $(md5sum "$target" | cut -d' ' -f1), expected $md5; delete it and retry" >&2
    exit 2
  fi
  tar -xzf "$target" -C "$dest/$folder"
  echo "$folder: checksum ok, unpacked in $dest/$folder"
}

fetch cifar-10-binary.tar.gz c32a1d4ab5d03f1284b67883e8d87530 cifar10
fetch cifar-100-binary.tar.gz 03b5dce01913d631647c71ecec9e9cb8 cifar100
