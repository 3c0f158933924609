# modules.mk: builds, with PGXS against $(PG_CONFIG)'s server, the C modules
# the regression suite loads from --dlpath (what src/test/regress's GNUmakefile
# builds for installcheck): regress.so (src/test/regress/regress.c) and the
# contrib/spi trigger examples autoinc.so and refint.so, refint with
# REFINT_VERBOSE as contrib/spi/Makefile builds it "for the regression tests".
# run.sh copies the three .c files next to this file's copy and runs
#   make -f modules.mk PG_CONFIG=... with_llvm=no
MODULES = regress autoinc refint
PG_CPPFLAGS = -DREFINT_VERBOSE
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
