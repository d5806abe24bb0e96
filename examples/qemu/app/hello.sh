#!/bin/sh
# Installed by the example's base image; the derived image runs it.
echo "hello from an imgc-built VM (kernel $(uname -r))"
