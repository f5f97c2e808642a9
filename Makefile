# Two commands on a fresh clone: `make serve` and `make test`. Setup is idempotent: the venv is
# created once and reinstalled only when pyproject.toml or constraints.txt change.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

# Browser tests drive Debian's Chromium (never a downloaded browser build).
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get
UID_NOW ?= $(shell id -u)

.PHONY: setup chromium tesseract serve test test-fast lint index eval fit bench-ingest bench-latency bench-build bench-scale bench-load bench-hostile bench-qa clean

setup: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first and alone: `torch==2.13.0` resolves to the CPU build on this platform, while any
# later resolver that saw an unpinned torch would fetch a multi-GB CUDA build. The `convert` extra
# (torch, transformers, sentence-transformers) converts the model once; serving never imports it.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,cluster,convert]'
	touch $(STAMP)

index: setup
	$(VENV)/bin/jaxabot index

serve: setup
	$(VENV)/bin/jaxabot serve

# Style and types: ruff over every Python file of the project, mypy over the server's code.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy bot web

# Chromium and Tesseract first: without them (and without root to install them) stop before any
# test runs. Serving never needs Tesseract (a page that needs OCR is then left out with the reason).
test: chromium tesseract setup
	$(PY) -m pytest

# The quick loop while editing: only tests that need neither the real model nor real servers,
# Chromium, Tesseract or a Ray head (the markers are in pyproject.toml, the folders in tests/README.md).
FAST := not slow and not browser and not ray and not ocr
test-fast: setup
	$(PY) -m pytest -m "$(FAST)"

# OCR of scanned PDF pages: Debian's Tesseract 5 with Japanese (horizontal and vertical), and the
# Noto CJK fonts the tests draw their scanned pages with.
TESSERACT ?= /usr/bin/tesseract
TESSERACT_PACKAGES := tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert fonts-noto-cjk
NOTO_CJK := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
tesseract:
	@if [ ! -x "$(TESSERACT)" ] || [ ! -f "$(NOTO_CJK)" ] || ! "$(TESSERACT)" --list-langs 2>/dev/null | grep -qx jpn_vert; then \
	  if [ "$(UID_NOW)" = "0" ]; then \
	    echo "Tesseract with Japanese or the Noto CJK fonts are missing: installing $(TESSERACT_PACKAGES)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    $(APT_GET) update -qq && $(APT_GET) install -y -qq $(TESSERACT_PACKAGES) >/dev/null || exit 1; \
	  else \
	    echo "error: the OCR tests need Tesseract; install it with: sudo apt-get install $(TESSERACT_PACKAGES) (or run make test as root)" >&2; \
	    exit 1; \
	  fi; \
	fi

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$(UID_NOW)" = "0" ]; then \
	    echo "$(CHROMIUM) is missing: installing Debian's chromium package"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    $(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null || exit 1; \
	    [ -x "$(CHROMIUM)" ] || { echo "error: chromium was installed but $(CHROMIUM) is still missing" >&2; exit 1; }; \
	  else \
	    echo "error: the browser tests need $(CHROMIUM); install it with: sudo apt-get install chromium (or run make test as root)" >&2; \
	    exit 1; \
	  fi; \
	fi

eval: setup
	$(VENV)/bin/jaxabot eval bench/data/seed_questions.jsonl

# Refit every parameter file shipped in bot/ (fit/README.md), in dependency order: the phrase
# ranker, the fusion (retrieval), the sentence choice on the new retrieval, the refusal models on a
# fresh bench.qa run's evidence, the int8 query recipe. Needs the benchmark data outside the
# repository; about 25 minutes once bench/results/qa/ is cached.
FIT_NEEDS := ../shared/benchmarks/jsquad/valid-v1.3.json ../shared/eval/dev.jsonl bench/data/jsquad_en.jsonl
FIT_QA := bench/results/fit-qa.json
fit: setup
	@missing=""; for f in $(FIT_NEEDS); do [ -f "$$f" ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
	  echo "error: make fit needs the benchmark data, missing:$$missing (see fit/README.md)" >&2; exit 1; \
	fi
	$(PY) -m fit.fit_phrase
	$(PY) -m fit.fit_fusion
	$(PY) -m fit.fit_choice --recollect
	$(PY) -m bench.qa --sets ja,dev,en --out $(FIT_QA)
	$(PY) -m fit.fit_refusal $(FIT_QA) --lang ja
	$(PY) -m fit.fit_refusal $(FIT_QA) --lang en --max-false-refusal 0.08
	$(PY) -m fit.fit_yesno
	$(PY) -m fit.fit_asker_language
	$(PY) -m fit.fit_cross_language
	$(PY) -m fit.fit_quant

# Benchmarks print figures (see bench/README.md); pass options with ARGS=--quick etc.
# English versions of JSQuAD questions (bench/data/jsquad_en.jsonl); builds the corpus + index once.
bench-latency: setup
	$(PY) -m bench.latency $(ARGS)

bench-build: setup
	$(PY) -m bench.build $(ARGS)

bench-scale: setup
	$(PY) -m bench.scale $(ARGS)

bench-load: setup
	$(PY) -m bench.load $(ARGS)

bench-hostile: setup
	$(PY) -m bench.hostile $(ARGS)

# Answer quality on the JSQuAD open corpus + the seed dev set (bench/qa.py; ARGS=--sample 600 etc.)
bench-qa: setup
	$(PY) -m bench.qa $(ARGS)

# PDF/Office reading: pages/s (text layer, OCR), Office files/s, peak RSS; extraction quality
# beside markitdown alone (installed here, not by setup).
bench-ingest: setup
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[bench-ingest]'
	$(PY) -m bench.ingest $(ARGS)

# jaxabot vs txtai (bench-only extra, installed here, not by setup)
.PHONY: bench-peers
bench-peers: setup
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[bench]'
	$(PY) -m bench.peers $(ARGS)

clean:
	rm -rf $(VENV) index/v* index/CURRENT index/.tmp-* index/.lock
