#!/usr/bin/env bash
# Every GPU measurement of the project in one call: the benchmark at thesis size on CUDA
# (python -m lib.bench --device cuda --full), the FastAEES equivalence tests and the thesis-path
# rehearsal on CUDA (python -m lib.rehearse --device cuda = make rehearse DEVICE=cuda).
#
#   bash scripts/gpu_checks.sh wheels   # here, once (needs PyPI): pure-Python wheels a bare GPU
#                                       # machine lacks, into $WHEEL_DIR (default .whl/, keep it
#                                       # git-ignored)
#   bash scripts/gpu_checks.sh          # on the GPU machine (carry .whl): writes under $OUT if
#                                       # set, else results/bench/
#
# The GPU machine is expected to have Python 3.12 with torch, torchvision, transformers, pandas
# and pytest, but not pulseopt or datasets: those come from the carried wheels (installed into
# /tmp/aees-site, first on PYTHONPATH). Without torchvision or transformers the bench reports
# the CIFAR or DistilBERT part as skipped with the reason. Extra bench flags: GPU_BENCH_ARGS
# (e.g. "--dual"). About 4-6 minutes on an H200 (two torch.compile warm-ups per task).
# Output: latest.csv, bench.log, test_fast_aees.log, rehearse.json, rehearse.log, env.txt. Exit status: non-zero if the
# bench or the tests failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEEL_DIR=${WHEEL_DIR:-.whl}
WHEELS="pulseopt==0.3.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19"

if [ "${1:-}" = wheels ]; then
  mkdir -p "$WHEEL_DIR"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d "$WHEEL_DIR" $WHEELS || exit 1
  ls -l "$WHEEL_DIR"
  echo "carry '$WHEEL_DIR' with the GPU call (it must be git-ignored, e.g. in .git/info/exclude)"
  exit 0
fi
if [ $# -gt 0 ]; then
  echo "usage: $0 [wheels]" >&2
  exit 2
fi

DEST=${OUT:-results/bench}
mkdir -p "$DEST"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
export AEES_DATA_DIR=${AEES_DATA_DIR:-/tmp/aees-data}  # stand-in images, off the working tree
export HF_HOME=${HF_HOME:-/tmp/aees-hf}

if ls "$WHEEL_DIR"/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/aees-site "$WHEEL_DIR"/*.whl || { echo "installing $WHEEL_DIR/*.whl failed" >&2; exit 1; }
  export PYTHONPATH=/tmp/aees-site${PYTHONPATH:+:$PYTHONPATH}
else
  echo "note: no wheels in $WHEEL_DIR (run '$0 wheels' here first if pulseopt/datasets are missing there)"
fi

{
  date -u
  nvidia-smi -L 2>&1
  "$PY" - <<'EOF'
import importlib, sys
print("python", sys.version.split()[0])
for name in ("torch", "torchvision", "transformers", "datasets", "pulseopt", "pandas", "pytest"):
    try:
        print(f"{name} {importlib.import_module(name).__version__}")
    except Exception as exc:  # noqa: BLE001
        print(f"{name} MISSING ({type(exc).__name__}: {exc})")
import torch
print("cuda available:", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
EOF
} 2>&1 | tee "$DEST/env.txt"

status=0
echo "== python -m lib.bench --device cuda --full ${GPU_BENCH_ARGS:-}"
# shellcheck disable=SC2086
"$PY" -m lib.bench --device cuda --full --csv "$DEST/latest.csv" ${GPU_BENCH_ARGS:-} 2>&1 \
  | tee "$DEST/bench.log" || status=1

echo "== pytest tests/test_fast_aees.py"
if ! grep -q AEES_TEST_DEVICE tests/test_fast_aees.py; then
  echo "note: tests/test_fast_aees.py has no device option (AEES_TEST_DEVICE), so it runs on the CPU" \
       "here; FastAEES = stock on CUDA is checked by the bench's decisions_identical column"
fi
AEES_TEST_DEVICE=cuda "$PY" -m pytest tests/test_fast_aees.py -q -p no:cacheprovider 2>&1 \
  | tee "$DEST/test_fast_aees.log" || status=1

echo "== make rehearse DEVICE=cuda (python -m lib.rehearse --device cuda)"
# The thesis path at full size on the offline replica, capped runs: the first thing to run
# on a GPU machine. Needs papermill and a Jupyter kernel named 'aees' for this Python.
if "$PY" -c "import papermill, ipykernel" 2>/dev/null; then
  "$PY" -m jupyter kernelspec list 2>/dev/null | grep -qw aees \
    || "$PY" -m ipykernel install --user --name aees --display-name "AEES (gpu_checks)" >/dev/null
  "$PY" -m lib.rehearse --device cuda --report "$DEST/rehearse.json" 2>&1 | tee "$DEST/rehearse.log" || status=1
else
  echo "note: papermill/ipykernel missing for $PY: rehearse skipped (carry their wheels or install them)" \
    | tee "$DEST/rehearse.log"
fi

echo "== gpu_checks: $([ $status = 0 ] && echo OK || echo FAILED); files in $DEST"
exit $status
