#!/bin/sh
# Shipped beside the component's code: prepares the web root with a default page.
set -eu
mkdir -p "$WEBROOT"
if [ ! -f "$WEBROOT/index.html" ]; then
  printf '<!doctype html><title>%s</title><h1>%s</h1>\n' "$GREETING" "$GREETING" > "$WEBROOT/index.html"
fi
chmod 755 "$WEBROOT"
chmod 644 "$WEBROOT/index.html"
echo "web root ready at $WEBROOT"
