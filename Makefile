# cachealot: transparent shared-memory query result cache for PostgreSQL

MODULE_big = cachealot
OBJS = \
	$(WIN32RES) \
	src/admission.o \
	src/cachealot.o \
	src/capture.o \
	src/catalog_view.o \
	src/eligibility.o \
	src/executor.o \
	src/freshness.o \
	src/functions.o \
	src/hint.o \
	src/key.o \
	src/parse_analysis.o \
	src/planner.o \
	src/slots.o \
	src/stand_in.o \
	src/stats.o \
	src/store.o \
	src/store_index.o \
	src/table_lists.o \
	src/utility.o \
	src/writes.o

EXTENSION = cachealot
DATA = cachealot--1.0.sql cachealot--1.1.sql cachealot--1.0--1.1.sql
PGFILEDESC = "cachealot - transparent query result cache"

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=cachealot.conf

ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=output_iso \
	--temp-instance=tmp_check_iso --temp-config=cachealot.conf

TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# the TAP tests' Perl modules (test/perl/CachealotNode.pm, CachealotProcs.pm)
PG_PROVE_FLAGS += -I $(srcdir)/test/perl

.PHONY: test demo demo-stop valgrind stress sqlsmith bench bench-report bench-instructions

test:
	bash test/run-tests.sh

demo:
	bash test/demo.sh

demo-stop:
	bash test/demo-stop.sh

valgrind:
	bash test/valgrind.sh

stress:
	bash test/stress/run.sh

sqlsmith:
	bash test/sqlsmith/run.sh

bench:
	bash test/bench/run.sh

# PostgreSQL's own regression and isolation suites, plain vs cachealot
# preloaded (not part of `make test`; see test/pg-suites/run.sh)
.PHONY: check-pg-suites
check-pg-suites:
	bash test/pg-suites/run.sh

# instructions per statement, plain vs cachealot (callgrind, postgres --single;
# see test/bench/instructions.sh)
bench-instructions:
	bash test/bench/instructions.sh

# redraw the bench report from raw measurements (no rerun)
bench-report:
	bash test/bench/report.sh $(or $(RAW),test/bench/results/latest-raw.csv)
