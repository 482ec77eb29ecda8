# The two commands of the README: `make run` (the main job) and `make test` (the test suite); `make docs` builds the
# documentation.
# Each creates the virtual environment .venv when it is missing and installs flymodel into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
RESULTS ?= results

.PHONY: run table1 test test-slow docs benchmarks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test,docs]"
	touch $(STAMP)

# Table 1 without its BioConvHash row, whose 100-epoch hash layer takes hours per model on a CPU (docs/reproductions.md, BioConvHash).
TABLE1_CPU_METHODS := lsh pcahash flyhash spectralhash itq naivebiohash biohash
ANALYZE := $(BIN)/flymodel analyze

# The main job: every analysis at its CPU-sized settings and the claws study on a LocalCluster (docs/analyses.md; its run time is in benchmarks/results/main_job.json).
run: $(STAMP)
	$(ANALYZE) inhibition --preset main --output $(RESULTS)/inhibition
	$(ANALYZE) hashing_quality --preset quick --output $(RESULTS)/hashing_quality
	$(ANALYZE) sparsity --preset quick --output $(RESULTS)/sparsity
	$(ANALYZE) activity_tsne --preset quick --output $(RESULTS)/activity_tsne
	$(ANALYZE) portraits --output $(RESULTS)/portraits
	$(BIN)/flymodel study claws --output $(RESULTS)/study_claws --quiet
	@echo "Results (results.json) and figures (PNG, PDF) of each analysis: $(RESULTS)/<analysis>/"

# The paper's Table 1 on MNIST, every CPU-feasible method, 3 seeds (docs/reproductions.md, Table 1).
table1: $(STAMP)
	$(BIN)/flymodel reproduce mnist --seeds 0 1 2 --methods $(TABLE1_CPU_METHODS) --output $(RESULTS)/mnist

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# The documentation site (docs/, Sphinx) into site/, strictly: numpydoc lint of every public docstring, a build in
# which any warning is an error (-W --keep-going lists them all before failing), then every Python example of the
# README and the pages run as written (tests/test_doc_examples.py; the docstrings' examples run in make test).
docs: $(STAMP)
	$(BIN)/python -m numpydoc lint $(shell find flymodel -name '*.py' | sort)
	$(BIN)/sphinx-build -W --keep-going -n -q -b html docs site
	$(BIN)/python -m pytest -m docs -q tests/test_doc_examples.py
	@echo "Documentation: site/index.html"

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/map_speed.py
	$(BIN)/python benchmarks/validation_choices.py flyhash
	$(BIN)/python benchmarks/validation_choices.py biohash
	$(BIN)/python benchmarks/validation_choices.py naivebiohash --k 2 4 8
	$(BIN)/python benchmarks/naivebiohash_k2.py
	$(BIN)/python benchmarks/biohash_speed.py
	$(BIN)/python benchmarks/reproduce_tables.py mnist cifar10
	$(BIN)/python benchmarks/spiking_circuit.py
	$(BIN)/python benchmarks/spiking_learning.py
	$(BIN)/python benchmarks/validation_choices.py biohash_cifar10 --seeds 0 --k 2
	$(BIN)/python benchmarks/rate_engine.py
	$(BIN)/python benchmarks/circuit_hash.py
	$(BIN)/python benchmarks/spiking_gpu.py   # measures only where a CUDA GPU and nvcc are present
	$(BIN)/python benchmarks/main_job.py
	$(BIN)/python benchmarks/search_speed.py
	$(BIN)/python benchmarks/study_scaling.py
	$(BIN)/python benchmarks/study_vs_inhibition.py
	$(BIN)/python benchmarks/hemibrain_calibration.py
	$(BIN)/python benchmarks/bioconvhash_cpu.py mnist                          # the short hash-layer schedule
	$(BIN)/python benchmarks/bioconvhash_cpu.py mnist --ks 2 --hash-epochs 1 --n-train 6900   # stage timings
	$(BIN)/python benchmarks/doc_numbers.py   # the README's and the docs' tables and quoted figures from the new JSON

clean:
	rm -rf $(VENV) $(RESULTS) .pytest_cache .hypothesis site docs/generated
