#!/bin/sh
# install-config.sh FILE DIR: run by meson install; installs FILE as
# DIR/ringfan.yaml (under $DESTDIR) unless a configuration is there already,
# which is the operator's to keep.
set -eu
dest=${DESTDIR:-}$2/ringfan.yaml
if [ -e "$dest" ]; then
	echo "Keeping $dest (the installed default is $1)"
	exit 0
fi
install -d -m 0755 "${DESTDIR:-}$2"
install -m 0644 "$1" "$dest"
echo "Installing $1 to ${DESTDIR:-}$2"
