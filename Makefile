# make demo / make test: set up everything on a fresh Debian machine with Python 3.11, then run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup bytecode graphviz latex chromium demo test bench gallery clean

setup: $(STAMP) graphviz latex chromium bytecode

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The package's bytecode, compiled once as pip does for a wheel: where PYTHONDONTWRITEBYTECODE is set, an editable
# install would otherwise compile every module from source at each start of the command (about 80 ms).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q symgraph cli >/dev/null

# Graphviz's `dot` draws the pictures; install it when missing and we may, else say how.
graphviz:
	@if ! command -v dot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Graphviz with apt-get"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz 'dot' is missing: sudo apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS) or conda install graphviz"; \
	  fi; \
	fi

# pdflatex compiles the LaTeX outputs in the tests (amsmath is in texlive-latex-base; TikZ in -pictures).
latex:
	@if ! command -v pdflatex >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing TeX Live (latex-base, latex-recommended, pictures) with apt-get"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      texlive-latex-base texlive-latex-recommended texlive-pictures >/dev/null; \
	  else \
	    echo "pdflatex is missing: sudo apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures"; \
	  fi; \
	fi

# Chromium runs the HTML stepper in the tests (tests/test_stepper.py drives it with Playwright, never its own download).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Chromium with apt-get"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "chromium is missing (the stepper's browser test needs it): sudo apt-get install chromium"; \
	  fi; \
	fi

demo: setup
	$(BIN)/symgraph derive "exp(x**2 + tanh(x))"

# Lint and types are part of the tests; pytest runs on both cores (pytest-xdist).
test: setup
	$(BIN)/ruff check symgraph cli tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2

# make bench: the benchmarks of bench/ (by hand, not part of the tests). PyTensor and JAX are optional
# comparisons: installed with pip when they install here, else the bench runs without them and says so.
bench: setup
	@$(BIN)/python -m pip install --quiet pytensor jax jaxlib || echo "note: pytensor/jax did not install; bench/run.py compares with SymPy only"
	$(BIN)/python bench/run.py

# make gallery: rebuild gallery/ from gallery/examples/*.toml (tests/test_gallery.py checks it is up to date).
gallery: setup
	$(BIN)/symgraph gallery build

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
