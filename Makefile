# The two commands: `make serve` and `make test`. Each does all set-up on a
# fresh Debian machine (packages, model pack, build) and is idempotent.

MODEL_DIR ?= $(or $(ARGUS_MODEL_DIR),$(HOME)/.cache/argus/models)
BUILD_DIR ?= build
PORT ?= 8080
DATA_DIR ?= ./argus-data
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3
export ARGUS_MODEL_DIR := $(MODEL_DIR)
export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: all deps models build test serve bench model-card format format-check tidy \
	test-sanitize test-asan test-tsan clean

all: build

deps:
	@bash scripts/setup-deps.sh

models: deps
	@$(PYTHON) tools/setup_models.py --model-dir "$(MODEL_DIR)"

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build models
	@$(BUILD_DIR)/argus models verify --model-dir "$(MODEL_DIR)"
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2

serve: build models
	@$(BUILD_DIR)/argus serve --port $(PORT) --data-dir $(DATA_DIR) --model-dir "$(MODEL_DIR)"

bench: build models
	@$(BUILD_DIR)/argus bench models --model-dir "$(MODEL_DIR)"

# Runs the face evaluations on ../shared/data (or ARGUS_DATA) and rewrites
# the measured-figures blocks of docs/MODEL_CARD.md (minutes on 2 cores).
model-card: build models
	@$(PYTHON) tools/model_card.py --argus $(BUILD_DIR)/argus

# argus's own C++ files: src/ tests/ bench/, without npm trees (generated
# sources live in the build trees).
FORMAT_FILES = find src tests bench -name node_modules -prune -o \( -name '*.cpp' -o -name '*.h' \) -print

format:
	@$(FORMAT_FILES) | xargs clang-format -i

format-check:
	@$(FORMAT_FILES) | xargs clang-format --dry-run --Werror

# clang-tidy 14 with .clang-tidy over build/compile_commands.json.
tidy: build
	@JOBS=$(JOBS) bash cmake/run_clang_tidy.sh $(BUILD_DIR)

# The unit and integration tests under ASan+UBSan (build-asan/), and the
# concurrent ones under TSan (build-tsan/); see tests/sanitize/README.md.
test-sanitize: test-asan test-tsan

test-asan: models
	@bash tests/sanitize/run.sh asan build-asan

test-tsan: models
	@bash tests/sanitize/run.sh tsan build-tsan

clean:
	@rm -rf $(BUILD_DIR) build-asan build-tsan
