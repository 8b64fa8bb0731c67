#!/usr/bin/env bash
# Installs the Debian packages actkit builds and tests with (docs/README.md). Safe to
# run again; needs root or sudo.
set -euo pipefail
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config \
  ocl-icd-opencl-dev opencl-headers libclblast-dev libdnnl-dev libsleef-dev \
  libvulkan-dev glslang-dev glslang-tools spirv-tools \
  pocl-opencl-icd mesa-vulkan-drivers vulkan-validationlayers \
  python3 python3-mpmath python3-venv >/dev/null
